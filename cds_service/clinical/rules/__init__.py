"""The rules, in the order of clinical urgency (clinical-knowledge.md §2.4), and how they give way to
each other (cards/catalogue.json "giveWay"). Each rule is one small module that reads like the guideline
it encodes."""
from __future__ import annotations

from ...content.catalogue import GiveWay, phrase
from ...record.facts import PatientRecord
from .deep_vein_thrombosis import SUSPECTED_DVT, deep_vein_thrombosis
from .finding import Finding, Say
from .knee_trauma import knee_trauma_imaging
from .limb_ischaemia import ACUTE_LIMB_ISCHAEMIA, acute_limb_ischaemia
from .malignancy import malignancy_red_flags
from .musculoskeletal import musculoskeletal_causes
from .prosthetic_joint import prosthetic_joint_infection
from .pulmonary_embolism import known_pe_untreated, possible_pe
from .septic_arthritis import suspected_septic_arthritis

_RANK = {"critical": 0, "warning": 1, "info": 2}
RULES = (possible_pe, acute_limb_ischaemia, prosthetic_joint_infection, suspected_septic_arthritis,
         deep_vein_thrombosis, known_pe_untreated, malignancy_red_flags, knee_trauma_imaging)


def evaluate(record: PatientRecord) -> list[Finding]:
    """Every finding worth a card, most urgent first."""
    findings = [f for f in (rule(record) for rule in RULES) if f] + musculoskeletal_causes(record)
    for rule in record.catalogue.give_way:
        findings = _give_way(rule, findings)
    # A threatened leg (the critical limb card, not a known, chronic or re-examination one) that is also
    # swollen: duplex in the emergency, no D-dimer first.
    threatened = any(f.topic == ACUTE_LIMB_ISCHAEMIA and f.indicator == "critical" for f in findings)
    for finding in findings:
        if finding.topic == SUSPECTED_DVT and threatened and finding.variant != "child":
            finding.variant = "limb-threat"
    return sorted(findings, key=lambda f: _RANK[f.indicator])  # stable: rule order within an urgency


def _give_way(rule: GiveWay, findings: list[Finding]) -> list[Finding]:
    """The findings once the lesser cards of `rule` have given way to its leading card."""
    leader = next((f for f in findings if f.topic == rule.when and (not rule.variants or f.variant in rule.variants)),
                  None)
    if leader is None:
        return findings
    kept = []
    for finding in findings:
        shown = bool(finding.basis) and set(finding.basis) <= set(leader.evidence)
        if finding.topic in rule.yields and (shown or not rule.only_if_shown):
            if rule.line and not any(note.phrase == rule.line for note in leader.notes):
                leader.notes.append(Say(phrase(rule.when, rule.line)))
            continue
        kept.append(finding)
    return kept
