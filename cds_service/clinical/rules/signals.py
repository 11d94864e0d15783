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


def leg_dvt_features(record: PatientRecord) -> list[Fact]:
    """Recent swelling of the leg (not a coded mass), calf pain, or a ruptured Baker's cyst (treated as DVT
    until a duplex scan excludes it: clinical-knowledge.md §1.7, §2.3)."""
    return (record.current("leg-swelling", "finding") + record.current("calf-pain", "finding")
            + record.current("bakers-cyst-ruptured", "finding"))


def active_dvt(record: PatientRecord) -> list[Fact]:
    return record.current("dvt-lower-limb")


def known_vte(record: PatientRecord) -> list[Fact]:
    """A current DVT or PE (suspected or confirmed)."""
    return active_dvt(record) + record.current("pulmonary-embolism")


def on_anticoagulant(record: PatientRecord) -> list[Fact]:
    return record.active_orders("anticoagulants") + record.current("long-term-anticoagulant-use")


def pregnant_or_postpartum(record: PatientRecord) -> list[Fact]:
    if record.sex == "male":
        return []
    # A pregnancy Condition, or a pregnancy-status Observation whose value is "pregnant", dated within a
    # pregnancy's length; delivery within 6 weeks.
    return record.current("pregnancy", "pregnancy") + record.current("postpartum", "postpartum")


def pe_symptoms(record: PatientRecord) -> list[Fact]:
    """Dyspnoea, pleuritic chest pain, haemoptysis, syncope, hypoxaemia or tachypnoea, recently."""
    facts = []
    for value_set in ("dyspnoea", "pleuritic-chest-pain", "haemoptysis", "syncope", "hypoxaemia", "tachypnoea"):
        facts += record.current(value_set, "finding")
    facts += above(record, "respiratory-rate", TACHYPNOEA_PER_MIN)
    facts += below(record, "oxygen-saturation", HYPOXAEMIA_SPO2)
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
