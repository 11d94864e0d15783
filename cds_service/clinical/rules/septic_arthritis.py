"""3. Suspected septic arthritis — critical (BSR/BHPR hot swollen joint guideline 2006; ACR AC suspected
septic arthritis; clinical-knowledge.md §2.3).

Criterion: septic arthritis coded as suspected (provisional/differential) recently, or a recent knee
effusion together with fever (≥ 38.0 °C within 24 h, or coded recently) or raised inflammatory markers (CRP
or white cell count above the laboratory's range or flag, else CRP > 10 mg/L, WCC > 11 × 10⁹/L, within
72 h). A confirmed diagnosis alone does not fire: the patient is already under treatment, and "aspirate
before antibiotics" would be noise. An effusion without fever or raised markers does not fire either
(effusions of osteoarthritis are common); the record cannot show a hot joint.
"""
from __future__ import annotations

from decimal import Decimal

from ..facts import Fact, PatientRecord
from . import signals
from .finding import Finding

CRP_MG_L = Decimal(10)
WCC_10E9_L = Decimal(11)
_WCC_UNITS = {"10*3/uL", "10*9/L", "10^9/L", "x10E3/uL", "K/uL", "/nL", "10*3/mm3"}


def suspected_septic_arthritis(record: PatientRecord) -> Finding | None:
    diagnosed = [f for f in record.current("septic-arthritis", "finding") if not f.confirmed]
    effusion = record.current("knee-effusion", "finding")
    inflammation = signals.fever(record) + raised_markers(record)
    if not diagnosed and not (effusion and inflammation):
        return None
    finding = Finding("septic-arthritis", "critical")
    finding.add(diagnosed + effusion + inflammation)
    return finding


def raised_markers(record: PatientRecord) -> list[Fact]:
    raised = []
    crp = record.latest("crp", "lab")
    if crp and _raised(crp, CRP_MG_L, {"mg/L"}, {"mg/dL": Decimal(10)}):
        raised.append(crp)
    wcc = record.latest("wbc", "lab")
    if wcc and _raised(wcc, WCC_10E9_L, _WCC_UNITS, {"/uL": Decimal("0.001"), "/mm3": Decimal("0.001")}):
        raised.append(wcc)
    return raised


def _raised(fact: Fact, threshold: Decimal, units: set[str], conversions: dict[str, Decimal]) -> bool:
    if fact.interpretation & {"H", "HH", "HU", "A", "AA"}:
        return True
    value, unit = fact.quantity
    if fact.reference_high is not None and (fact.reference_unit or unit) == unit:
        return value > fact.reference_high
    if unit in units:
        return value > threshold
    if unit in conversions:
        return value * conversions[unit] > threshold
    return False
