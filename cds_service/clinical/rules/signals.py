"""Clinical signals several rules share (clinical-knowledge.md Appendix A), each returning its evidence.
Thresholds are the catalogue's (cards/catalogue.json), with their sources: PE Wells HR > 100, PERC SpO₂ < 95 %
and RR > 20, fever ≥ 38.0 °C, REMEDY/CKS immediate admission HR > 130."""
from __future__ import annotations

from decimal import Decimal

from ...content.catalogue import measurement, threshold, value_set, window
from ...record.facts import Fact, PatientRecord

FINDING, PREGNANCY_WINDOW, POSTPARTUM_WINDOW, ACUTE_DVT = (
    window("finding"), window("pregnancy"), window("postpartum"), window("acute-dvt"))
LEG_SWELLING, CALF_PAIN, LEG_PAIN, KNEE_PAIN = (
    value_set("leg-swelling"), value_set("calf-pain"), value_set("leg-pain"), value_set("knee-pain"))
BAKERS_CYST_RUPTURED, DVT, PE, VTE_HISTORY = (
    value_set("bakers-cyst-ruptured"), value_set("dvt-lower-limb"), value_set("pulmonary-embolism"),
    value_set("vte-history"))
ANTICOAGULANTS, LONG_TERM_ANTICOAGULANT = value_set("anticoagulants"), value_set("long-term-anticoagulant-use")
PREGNANCY, POSTPARTUM = value_set("pregnancy"), value_set("postpartum")
PREGNANCY_STATUS = value_set("pregnancy-status-observation")  # read through its value, coded "pregnant"
PE_FEATURES = tuple(value_set(key) for key in
                    ("dyspnoea", "pleuritic-chest-pain", "haemoptysis", "syncope", "hypoxaemia", "tachypnoea"))
TACHYCARDIA_CODED, FEVER_CODED = value_set("tachycardia"), value_set("fever")
HEART_RATE, RESPIRATORY_RATE, OXYGEN_SATURATION, TEMPERATURE = (
    measurement("heart-rate"), measurement("respiratory-rate"), measurement("oxygen-saturation"),
    measurement("body-temperature"))
TACHYCARDIA, TACHYPNOEA, HYPOXAEMIA, FEVER, ADMISSION_HEART_RATE = (
    threshold("tachycardia"), threshold("tachypnoea"), threshold("hypoxaemia"), threshold("fever"),
    threshold("admission-heart-rate"))


def leg_dvt_features(record: PatientRecord) -> list[Fact]:
    """Recent swelling of one leg (not a coded mass), calf pain, a ruptured Baker's cyst (treated as DVT
    until a duplex scan excludes it: clinical-knowledge.md §1.7, §2.3), or a DVT coded as suspected."""
    return (record.current(LEG_SWELLING, FINDING) + record.current(CALF_PAIN, FINDING)
            + record.current(BAKERS_CYST_RUPTURED, FINDING)
            + [f for f in record.current(DVT, FINDING) if not f.confirmed])


def active_dvt(record: PatientRecord) -> list[Fact]:
    """A confirmed, current DVT that began within about 6 months; an older "active" one is history."""
    return [f for f in record.current(DVT) if f.confirmed and not record.older_than(f, ACUTE_DVT)]


def previous_dvt(record: PatientRecord) -> list[Fact]:
    """Wells "previously documented DVT": resolved DVT, a history code, or an "active" DVT begun > 6 months ago."""
    stale = [f for f in record.current(DVT) if f.confirmed and record.older_than(f, ACUTE_DVT)]
    return record.history(DVT) + record.current(VTE_HISTORY) + stale


def known_vte(record: PatientRecord) -> list[Fact]:
    """A current DVT, or a PE coded as suspected (a confirmed PE already has its own care)."""
    return active_dvt(record) + [f for f in record.current(PE, FINDING) if not f.confirmed]


def on_anticoagulant(record: PatientRecord) -> list[Fact]:
    return record.active_orders(ANTICOAGULANTS) + record.current(LONG_TERM_ANTICOAGULANT)


def pregnant_or_postpartum(record: PatientRecord) -> list[Fact]:
    if record.sex == "male":
        return []
    # A pregnancy Condition, or a pregnancy-status Observation whose value is "pregnant", dated within a
    # pregnancy's length; delivery within 6 weeks.
    return record.current(PREGNANCY, PREGNANCY_WINDOW) + record.current(POSTPARTUM, POSTPARTUM_WINDOW)


def pe_symptoms(record: PatientRecord) -> list[Fact]:
    """Dyspnoea, pleuritic chest pain, haemoptysis, syncope, hypoxaemia or tachypnoea, recently; or a
    heart rate above the immediate-admission threshold (130/min)."""
    facts = []
    for feature in PE_FEATURES:
        facts += record.current(feature, FINDING)
    facts += above(record, RESPIRATORY_RATE, TACHYPNOEA)
    facts += below(record, OXYGEN_SATURATION, HYPOXAEMIA)
    facts += above(record, HEART_RATE, ADMISSION_HEART_RATE)
    return facts


def tachycardia(record: PatientRecord) -> list[Fact]:
    return record.current(TACHYCARDIA_CODED, FINDING) + above(record, HEART_RATE, TACHYCARDIA)


def fever(record: PatientRecord) -> list[Fact]:
    limit = record.threshold(FEVER)
    return record.current(FEVER_CODED, FINDING) + [
        f for f in record.measurements(TEMPERATURE)[:1] if celsius(f) is not None and celsius(f) >= limit]


def recent_leg_or_knee_pain(record: PatientRecord) -> list[Fact]:
    return (record.current(KNEE_PAIN, FINDING) + record.current(CALF_PAIN, FINDING)
            + record.current(LEG_PAIN, FINDING))


def above(record: PatientRecord, measurement, limit) -> list[Fact]:
    """The latest measurement in its window, if it is above the threshold."""
    latest = record.latest(measurement)
    return [latest] if latest and latest.quantity[0] > record.threshold(limit) else []


def below(record: PatientRecord, measurement, limit) -> list[Fact]:
    latest = record.latest(measurement)
    if latest is None:
        return []
    value = latest.quantity[0]
    if value <= 1 and latest.quantity[1] in ("1", "{ratio}"):  # SpO2 sent as a fraction
        value *= 100
    return [latest] if value < record.threshold(limit) else []


def celsius(fact: Fact) -> Decimal | None:
    value, unit = fact.quantity
    if unit in ("Cel", "°C", "C", "degC"):
        return value
    if unit in ("[degF]", "°F", "F", "degF"):
        return (value - 32) * 5 / 9
    return None
