"""1. Possible pulmonary embolism — critical (NICE NG158 §1.2; REMEDY/CKS; clinical-knowledge.md §1.6).

Criterion: a PE feature together with a VTE context — leg DVT features, a current DVT or suspected PE,
recent knee or leg pain, major surgery within 12 weeks, immobilisation, active cancer, previous VTE,
pregnancy or up to 6 weeks postpartum (the
PE Wells and PERC items the record can show) — where the PE feature is dyspnoea,
pleuritic chest pain, haemoptysis, syncope, hypoxaemia (SpO2 < 95 %), tachypnoea (RR > 20) or a heart rate
over the admission threshold (130/min) recorded recently; thresholds are the catalogue's. Tachycardia between 100 and 130 alone does not make the card critical (§5.10:
sensitivity is kept through the respiratory features; tachycardia from pain or fever is common); it is
shown as supporting evidence. Pregnant or up to 6 weeks postpartum: RCOG 37b wording, immediate admission.
"""
from __future__ import annotations

from ...content.catalogue import measurement, phrase, threshold, topic
from ...record.facts import PatientRecord
from . import signals
from .finding import Finding, Say

SUSPECTED_PE = topic("suspected-pe")
SYSTOLIC = measurement("systolic-blood-pressure")
_PE = "suspected-pe"
# REMEDY/CKS immediate-admission criteria the record can show (altered consciousness cannot be read).
ADMISSION_CRITERIA = (
    (signals.HEART_RATE, signals.above, threshold("admission-heart-rate"), phrase(_PE, "admit.heart-rate")),
    (signals.RESPIRATORY_RATE, signals.above, threshold("admission-respiratory-rate"),
     phrase(_PE, "admit.respiratory-rate")),
    (signals.OXYGEN_SATURATION, signals.below, threshold("admission-oxygen-saturation"),
     phrase(_PE, "admit.oxygen-saturation")),
    (SYSTOLIC, signals.below, threshold("admission-systolic-pressure"), phrase(_PE, "admit.systolic-pressure")),
)
LOW_TEMPERATURE, ADMIT_TEMPERATURE = threshold("admission-temperature"), phrase(_PE, "admit.temperature")
ADMIT_PREGNANT = phrase(_PE, "admit.pregnant")
UNKNOWN_SYSTOLIC, UNKNOWN_CONSCIOUSNESS = phrase(_PE, "unknown.systolic-pressure"), phrase(_PE, "unknown.consciousness")
NOTE_ANTICOAGULANT = phrase(_PE, "note.anticoagulant")
# What makes PE features more than breathlessness: a leg or VTE context (NG158 PE Wells items; PERC).
CONTEXTS = (
    (signals.leg_dvt_features, phrase(_PE, "context.dvt-features")),
    (signals.known_vte, phrase(_PE, "context.known-clot")),
    (signals.recent_leg_or_knee_pain, phrase(_PE, "context.leg-pain")),
    (signals.recent_surgery, phrase(_PE, "context.surgery")),
    (signals.immobilised, phrase(_PE, "context.immobilisation")),
    (signals.active_cancer, phrase(_PE, "context.cancer")),
    (signals.previous_vte, phrase(_PE, "context.previous-vte")),
    (signals.pregnant_or_postpartum, phrase(_PE, "context.pregnancy")),  # the strongest transient risk (§1.8)
)


def possible_pe(record: PatientRecord) -> Finding | None:
    symptoms = signals.pe_symptoms(record)
    if not symptoms:
        return None
    found = [(facts, words) for facts, words in ((signal(record), words) for signal, words in CONTEXTS) if facts]
    if not found:
        return None
    finding = Finding(SUSPECTED_PE, "critical")
    finding.add(symptoms)
    finding.add(signals.tachycardia(record))
    for facts, _ in found:
        finding.add(facts)
    finding.values["pe_context"] = [Say(words) for _, words in found]
    if signals.child(record):
        # Adult PE rules and admission thresholds are not validated under 18 (§8.1): same-day paediatric
        # emergency assessment, never a CTPA ordered from adult thresholds.
        finding.variant = "child"
        finding.add(signals.pregnant_or_postpartum(record))
        return finding
    admit = []
    for measurement, compare, limit, reason in ADMISSION_CRITERIA:
        met = compare(record, measurement, limit)
        if met:
            admit.append(Say(reason, threshold=record.threshold(limit)))
            finding.add(met)
    low = record.threshold(LOW_TEMPERATURE)
    coldest = signals.worst(record, signals.TEMPERATURE, lambda c: c < low, reading=signals.celsius, highest=False)
    if coldest:
        admit.append(Say(ADMIT_TEMPERATURE, threshold=low))
        finding.add(coldest)
    pregnant = signals.pregnant_or_postpartum(record)
    if pregnant:
        admit.append(Say(ADMIT_PREGNANT))
        finding.add(pregnant)
    if admit:
        finding.variant = "pregnancy" if pregnant else "admit"
        finding.values["admission_reasons"] = admit
    finding.unknown = [Say(UNKNOWN_CONSCIOUSNESS)]
    if record.latest(SYSTOLIC) is None:
        finding.unknown.insert(0, Say(UNKNOWN_SYSTOLIC, threshold=record.threshold(ADMISSION_CRITERIA[3][2])))
    if signals.on_anticoagulant(record):
        finding.notes.append(Say(NOTE_ANTICOAGULANT))
    return finding
