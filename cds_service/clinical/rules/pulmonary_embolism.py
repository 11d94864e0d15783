"""1. Possible pulmonary embolism — critical (NICE NG158 §1.2; REMEDY/CKS; clinical-knowledge.md §1.6).

Criterion: leg DVT features, or a current DVT/PE, together with a PE feature: dyspnoea, pleuritic chest
pain, haemoptysis, syncope, hypoxaemia (SpO2 < 95 %) or tachypnoea (RR > 20) recorded recently.
Tachycardia (HR > 100) alone does not make the card critical (§5.10: sensitivity is kept through the
respiratory features; tachycardia from pain or fever is common); it is shown as supporting evidence.
"""
from __future__ import annotations

from decimal import Decimal

from ..facts import PatientRecord
from . import signals
from .finding import Finding

# REMEDY/CKS immediate-admission thresholds (altered consciousness cannot be read from the record).
ADMISSION_THRESHOLDS = (
    ("heart-rate", "above", Decimal(130), "heart rate > 130/min"),
    ("respiratory-rate", "above", Decimal(25), "respiratory rate > 25/min"),
    ("oxygen-saturation", "below", Decimal(91), "SpO₂ < 91 %"),
)


def possible_pe(record: PatientRecord) -> Finding | None:
    context = signals.leg_dvt_features(record) + signals.known_vte(record)
    symptoms = signals.pe_symptoms(record)
    if not context or not symptoms:
        return None
    finding = Finding("suspected-pe", "critical")
    finding.add(symptoms)
    finding.add(signals.tachycardia(record))
    finding.add(context)
    admit = []
    for value_set, direction, threshold, label in ADMISSION_THRESHOLDS:
        met = (signals.above if direction == "above" else signals.below)(record, value_set, threshold)
        if met:
            admit.append(label)
            finding.add(met)
    temperature = record.latest("body-temperature", "vital")
    if temperature and (signals.celsius(temperature) or Decimal(99)) < 35:
        admit.append("temperature < 35 °C")
        finding.add([temperature])
    pregnant = signals.pregnant_or_postpartum(record)
    if pregnant:
        admit.append("pregnant or within 6 weeks postpartum")
        finding.add(pregnant)
    if admit:
        finding.variant = "admit"
        finding.values["admission_reasons"] = "; ".join(admit)
    finding.unknown = ["Systolic blood pressure < 90 mmHg", "Altered level of consciousness"]
    return finding
