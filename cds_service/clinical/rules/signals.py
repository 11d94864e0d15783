"""Clinical signals several rules share (clinical-knowledge.md Appendix A), each returning its evidence."""
from __future__ import annotations

from decimal import Decimal

from ..facts import Fact, PatientRecord

# Thresholds of the PE rule (NG158 PE Wells HR > 100; PERC SpO2 < 95 %; RR > 20) and of immediate
# admission (REMEDY/CKS): HR > 130, RR > 25, SpO2 < 91 %, SBP < 90 mmHg, temperature < 35 °C.
TACHYCARDIA_BPM = Decimal(100)
TACHYPNOEA_PER_MIN = Decimal(20)
HYPOXAEMIA_SPO2 = Decimal(95)
FEVER_CELSIUS = Decimal("38.0")
ADMISSION_HEART_RATE = Decimal(130)


def leg_dvt_features(record: PatientRecord) -> list[Fact]:
    """Recent swelling of one leg (not a coded mass), calf pain, a ruptured Baker's cyst (treated as DVT
    until a duplex scan excludes it: clinical-knowledge.md §1.7, §2.3), or a DVT coded as suspected."""
    return (record.current("leg-swelling", "finding") + record.current("calf-pain", "finding")
            + record.current("bakers-cyst-ruptured", "finding")
            + [f for f in record.current("dvt-lower-limb", "finding") if not f.confirmed])


def active_dvt(record: PatientRecord) -> list[Fact]:
    """A confirmed, current DVT that began within about 6 months; an older "active" one is history."""
    return [f for f in record.current("dvt-lower-limb") if f.confirmed and not record.older_than(f, "acute-dvt")]


def previous_dvt(record: PatientRecord) -> list[Fact]:
    """Wells "previously documented DVT": resolved DVT, a history code, or an "active" DVT begun > 6 months ago."""
    stale = [f for f in record.current("dvt-lower-limb") if f.confirmed and record.older_than(f, "acute-dvt")]
    return record.history("dvt-lower-limb") + record.current("vte-history") + stale


def known_vte(record: PatientRecord) -> list[Fact]:
    """A current DVT, or a PE coded as suspected (a confirmed PE already has its own care)."""
    return active_dvt(record) + [f for f in record.current("pulmonary-embolism", "finding") if not f.confirmed]


def on_anticoagulant(record: PatientRecord) -> list[Fact]:
    return record.active_orders("anticoagulants") + record.current("long-term-anticoagulant-use")


def pregnant_or_postpartum(record: PatientRecord) -> list[Fact]:
    if record.sex == "male":
        return []
    # A pregnancy Condition, or a pregnancy-status Observation whose value is "pregnant", dated within a
    # pregnancy's length; delivery within 6 weeks.
    return record.current("pregnancy", "pregnancy") + record.current("postpartum", "postpartum")


def pe_symptoms(record: PatientRecord) -> list[Fact]:
    """Dyspnoea, pleuritic chest pain, haemoptysis, syncope, hypoxaemia or tachypnoea, recently; or a
    heart rate above the immediate-admission threshold (130/min)."""
    facts = []
    for value_set in ("dyspnoea", "pleuritic-chest-pain", "haemoptysis", "syncope", "hypoxaemia", "tachypnoea"):
        facts += record.current(value_set, "finding")
    facts += above(record, "respiratory-rate", TACHYPNOEA_PER_MIN)
    facts += below(record, "oxygen-saturation", HYPOXAEMIA_SPO2)
    facts += above(record, "heart-rate", ADMISSION_HEART_RATE)
    return facts


def tachycardia(record: PatientRecord) -> list[Fact]:
    return record.current("tachycardia", "finding") + above(record, "heart-rate", TACHYCARDIA_BPM)


def fever(record: PatientRecord) -> list[Fact]:
    return record.current("fever", "finding") + [
        f for f in record.measurements("body-temperature", "vital")[:1] if celsius(f) is not None
        and celsius(f) >= FEVER_CELSIUS]


def recent_leg_or_knee_pain(record: PatientRecord) -> list[Fact]:
    return (record.current("knee-pain", "finding") + record.current("calf-pain", "finding")
            + record.current("leg-pain", "finding"))


def above(record: PatientRecord, value_set: str, threshold: Decimal) -> list[Fact]:
    """The latest measurement in the vitals window, if it is above the threshold."""
    latest = record.latest(value_set, "vital")
    return [latest] if latest and latest.quantity[0] > threshold else []


def below(record: PatientRecord, value_set: str, threshold: Decimal) -> list[Fact]:
    latest = record.latest(value_set, "vital")
    if latest is None:
        return []
    value = latest.quantity[0]
    if value <= 1 and latest.quantity[1] in ("1", "{ratio}"):  # SpO2 sent as a fraction
        value *= 100
    return [latest] if value < threshold else []


def celsius(fact: Fact) -> Decimal | None:
    value, unit = fact.quantity
    if unit in ("Cel", "°C", "C", "degC"):
        return value
    if unit in ("[degF]", "°F", "F", "degF"):
        return (value - 32) * 5 / 9
    return None
