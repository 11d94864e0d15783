"""6. Malignancy red flags — warning (NICE NG12 sarcoma recommendations; ACR AC Soft-Tissue Masses;
clinical-knowledge.md §2.3-§2.4).

Criterion: a recently recorded mass of the leg (SNOMED 309527000: an ICD-10-CM R22.4x code alone is read
as swelling, not mass), or unexplained weight loss or night sweats together with recent knee or leg pain;
not when a sarcoma of the leg is already diagnosed. Night/rest pain has no verified code: the card asks.
"""
from __future__ import annotations

from ..facts import PatientRecord
from . import signals
from .finding import Finding


def malignancy_red_flags(record: PatientRecord) -> Finding | None:
    if record.current("soft-tissue-sarcoma") or record.current("bone-malignancy-lower-limb"):
        return None
    mass = record.current("leg-mass", "finding")
    systemic = record.current("unexplained-weight-loss", "finding") + record.current("night-sweats", "finding")
    pain = signals.recent_leg_or_knee_pain(record)
    if not mass and not (systemic and pain):
        return None
    finding = Finding("malignancy-red-flags", "warning", variant="mass" if mass else "systemic")
    finding.add(mass + systemic + (pain if systemic else []))
    finding.unknown = ["Mass enlarging, deep to fascia, or larger than 5 cm", "Night or rest pain"]
    return finding
