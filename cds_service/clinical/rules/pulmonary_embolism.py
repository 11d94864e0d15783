"""1. Possible pulmonary embolism — critical (NICE NG158 §1.2; REMEDY/CKS; clinical-knowledge.md §1.6).

Criterion: leg DVT features, a current DVT, or a suspected PE, together with a PE feature: dyspnoea,
pleuritic chest pain, haemoptysis, syncope, hypoxaemia (SpO2 < 95 %), tachypnoea (RR > 20) or a heart rate
over 130 recorded recently. Tachycardia between 100 and 130 alone does not make the card critical (§5.10:
sensitivity is kept through the respiratory features; tachycardia from pain or fever is common); it is
shown as supporting evidence. Pregnant or up to 6 weeks postpartum: RCOG 37b wording, immediate admission.
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
    ("systolic-blood-pressure", "below", Decimal(90), "systolic blood pressure < 90 mmHg"),
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
        finding.variant = "pregnancy" if pregnant else "admit"
        finding.values["admission_reasons"] = "; ".join(admit)
    finding.unknown = ["Altered level of consciousness"]
    if record.latest("systolic-blood-pressure", "vital") is None:
        finding.unknown.insert(0, "Systolic blood pressure < 90 mmHg")
    if signals.on_anticoagulant(record):
        finding.notes.append("An anticoagulant is active: a D-dimer may be falsely low — image rather than "
                             "rule out with a D-dimer.")
    return finding
