"""7. Acute knee trauma — Ottawa knee rule (Stiell 1995/1996) and ACR AC Acute Trauma to the Knee
(clinical-knowledge.md §2.1-§2.2).

Criterion: a knee injury recorded within 7 days (the rule's limit).
- knee dislocation or popliteal artery injury: `critical` (vascular injury: angiography, vascular surgery);
- Ottawa met from the record (age ≥ 55): `warning`, knee radiograph;
- otherwise `info`: apply the Ottawa rule at the bedside (radiograph only if any criterion is met).
"""
from __future__ import annotations

from ..facts import PatientRecord
from .finding import Finding

OTTAWA_AGE = 55
OTTAWA_BEDSIDE = [
    "Isolated tenderness of the patella",
    "Tenderness of the head of the fibula",
    "Inability to flex the knee to 90°",
    "Inability to bear weight both immediately and in the department (4 steps)",
]


def knee_trauma_imaging(record: PatientRecord) -> Finding | None:
    dislocation = record.current("knee-dislocation", "trauma") + record.current("popliteal-artery-injury", "trauma")
    injury = record.current("knee-trauma", "trauma")
    if dislocation:
        finding = Finding("knee-trauma-imaging", "critical", variant="dislocation")
        finding.add(dislocation + injury)
        return finding
    if not injury:
        return None
    if record.age is not None and record.age >= OTTAWA_AGE:
        finding = Finding("knee-trauma-imaging", "warning", variant="ottawa-met")
        finding.values["ottawa_reason"] = f"age {record.age} (≥ {OTTAWA_AGE})"
    else:
        finding = Finding("knee-trauma-imaging", "info", variant="apply-ottawa")
        finding.unknown = list(OTTAWA_BEDSIDE)
    finding.add(injury)
    return finding
