"""3. Suspected septic arthritis — critical (BSR/BHPR hot swollen joint guideline 2006; ACR AC suspected
septic arthritis; clinical-knowledge.md §2.3).

Criterion: septic arthritis coded as suspected (provisional/differential) recently, or a recent knee
effusion together with fever (≥ 38.0 °C within 24 h, or coded recently) or raised inflammatory markers (CRP
or white cell count above the laboratory's range or flag, else CRP > 10 mg/L, WCC > 11 × 10⁹/L, within
72 h). A confirmed diagnosis alone does not fire: the patient is already under treatment, and "aspirate
before antibiotics" would be noise. Nor does the effusion with fever or raised markers while a confirmed
septic arthritis that began within the treatment-course window is active: they are the known infection,
not a new suspicion (KB §1.8: a known diagnosis gets no "suspected" card). An effusion without fever or raised markers does not fire either
(effusions of osteoarthritis are common) — unless a knee-pain entry's words state the knee hot and swollen
(catalogue hotJointWords; swollen in its words or beside another effusion on record), or an effusion entry's
own words state it hot (r34b S5): variant "hot-joint",
`warning` (same-day assessment, aspirate before antibiotics: "treat as septic even if afebrile", BSR 2006,
KB Appendix A; r30 S8), a known gout flare notwithstanding (only the aspirate tells crystals from infection),
critical with an NG51 high-risk sign. With a NICE NG51 high-risk
sign of sepsis, or sepsis coded (variant "septic"): cultures and antibiotics at once — and then a confirmed
diagnosis fires too (deterioration under care). A coded sepsis counts as inflammation beside an effusion.
"""
from __future__ import annotations

from decimal import Decimal

from ...content.catalogue import measurement, threshold, topic, value_set, window
from ...record.facts import Fact, PatientRecord
from . import signals
from .finding import Finding

SEPTIC_ARTHRITIS = topic("septic-arthritis")
SEPTIC, EFFUSION = value_set("septic-arthritis"), value_set("knee-effusion")
CRP, WBC = measurement("crp"), measurement("wbc")
CRP_RAISED, WCC_RAISED = threshold("crp-raised"), threshold("wcc-raised")
COURSE = window("septic-arthritis-course")  # a confirmed septic arthritis this recent is under treatment
_WCC_UNITS = {"10*3/uL", "10*9/L"}  # UCUM, after record/units.py


def suspected_septic_arthritis(record: PatientRecord) -> Finding | None:
    coded = record.current(SEPTIC, signals.FINDING)
    diagnosed = [f for f in coded if not f.confirmed]
    effusion = record.current(EFFUSION, signals.FINDING)
    # A replaced knee under treatment for its known infection is not a native joint to aspirate.
    replaced = signals.under_known_prosthetic_infection(record, effusion)
    effusion = [f for f in effusion if f not in replaced]
    inflammation = signals.fever(record) + raised_markers(record) + signals.coded_sepsis(record)
    known = known_septic_arthritis(record)
    # While it is known, its effusion with fever or raised markers is the known infection, not a suspicion.
    hot_joint = bool(effusion and inflammation) and not known
    if diagnosed or hot_joint:
        septic = signals.sepsis_high_risk(record)
    elif not known and (hot := hot_swollen_knee(effusion)):
        # A hot swollen knee stated, no fever or raised marker on record (none measured, or normal): septic
        # until proven otherwise even afebrile (BSR 2006; KB §2.4 rule 3, Appendix A; r30 S8) — a same-day
        # warning, critical with an NG51 high-risk sign. A known gout or pseudogout flare does not lower it:
        # only the aspirate tells crystals from infection, and both can coexist.
        septic = signals.sepsis_high_risk(record)
        finding = Finding(SEPTIC_ARTHRITIS, "critical" if septic else "warning", variant="hot-joint")
        measured = [f for f in (record.latest(CRP), record.latest(WBC)) if f]  # normal: shown, not excluding
        finding.add(hot + effusion + measured)
        with_sepsis(finding, septic)
        finding.basis = [f.evidence for f in hot + effusion]
        return finding
    else:
        # A confirmed diagnosis is under care; with sepsis physiology on top it is deteriorating (NG51).
        under_care = coded + [f for f in known if f not in coded]
        septic = signals.sepsis_high_risk(record) if under_care else []
        if not septic:
            return None
        diagnosed = under_care
    finding = Finding(SEPTIC_ARTHRITIS, "critical")
    finding.add(diagnosed + effusion + inflammation)
    with_sepsis(finding, septic)
    # The knee it rests on: the prosthetic-joint card replaces it only when that card shows the same knee.
    finding.basis = [f.evidence for f in diagnosed + effusion]
    return finding


def hot_swollen_knee(effusion: list[Fact]) -> list[Fact]:
    """The knee-pain or effusion entries whose words state a hot knee (catalogue hotJointWords "hot": hot, warm,
    red, erythema, inflamed), swollen in their own words (an effusion is) or beside another effusion on record; a coded effusion
    alone, or swelling words alone, is not a hot joint (effusions of osteoarthritis are common; r30 S8)."""
    hot = [f for f in effusion if "hot" in f.joint]
    return [f for f in hot if "swollen" in f.joint or any(e is not f and _same_knee(e, f) for e in effusion)]


def _same_knee(one: Fact, other: Fact) -> bool:
    sides = {signals.side(one), signals.side(other)}
    return None in sides or len(sides) == 1 or "both" in sides


def known_septic_arthritis(record: PatientRecord) -> list[Fact]:
    """A confirmed, active septic arthritis that began (onset, else first recorded) within the treatment
    course: diagnosed and under care."""
    return [f for f in record.current(SEPTIC) if f.confirmed and f.when is not None
            and not record.older_than(f, COURSE)]


def with_sepsis(finding: Finding, septic: list[Fact]) -> None:
    """A septic patient is not kept waiting for the aspiration: cultures and antibiotics at once (NICE NG51;
    AAOS's exception to "aspirate before antibiotics", clinical-knowledge.md §8.4). `septic` is
    signals.sepsis_high_risk's evidence."""
    if septic:
        finding.variant = "septic"
        finding.add(septic)


def raised_markers(record: PatientRecord) -> list[Fact]:
    raised = []
    high_flags = record.catalogue.high_flags
    crp = record.latest(CRP)
    if crp and _raised(crp, record.threshold(CRP_RAISED), high_flags, {"mg/L"}, {"mg/dL": Decimal(10)}):
        raised.append(crp)
    wcc = record.latest(WBC)
    if wcc and _raised(wcc, record.threshold(WCC_RAISED), high_flags, _WCC_UNITS,
                       {"/uL": Decimal("0.001")}):
        raised.append(wcc)
    return raised


def _raised(fact: Fact, limit: Decimal, high_flags, units: set[str], conversions: dict[str, Decimal]) -> bool:
    if fact.interpretation & high_flags:
        return True
    value, unit = fact.quantity
    if fact.reference_high is not None and (fact.reference_unit or unit) == unit:
        return value > fact.reference_high
    if unit in units:
        return value > limit
    if unit in conversions:
        return value * conversions[unit] > limit
    return False
