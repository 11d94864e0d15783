"""The rules, in the order of clinical urgency (clinical-knowledge.md §2.4), and how they give way to
each other. Each rule is one small module that reads like the guideline it encodes."""
from __future__ import annotations

from ...content.catalogue import phrase, topic
from ...record.facts import PatientRecord
from .deep_vein_thrombosis import SUSPECTED_DVT, SUSPECTED_DVT_PREGNANCY, deep_vein_thrombosis
from .finding import Finding, Say
from .knee_trauma import knee_trauma_imaging
from .limb_ischaemia import acute_limb_ischaemia
from .malignancy import malignancy_red_flags
from .musculoskeletal import musculoskeletal_causes
from .prosthetic_joint import prosthetic_joint_infection
from .pulmonary_embolism import known_pe_untreated, possible_pe
from .septic_arthritis import suspected_septic_arthritis

_RANK = {"critical": 0, "warning": 1, "info": 2}
ALSO_DVT = phrase("acute-limb-ischaemia", "note.also-dvt")
BAKERS_CYST, INTERNAL_DERANGEMENT, POPLITEAL_ANEURYSM = (
    topic("bakers-cyst"), topic("internal-derangement"), topic("popliteal-artery-aneurysm"))


def evaluate(record: PatientRecord) -> list[Finding]:
    """Every finding worth a card, most urgent first."""
    pe = possible_pe(record)
    ischaemia = acute_limb_ischaemia(record)
    prosthetic = prosthetic_joint_infection(record)
    septic = None if prosthetic else suspected_septic_arthritis(record)  # the replaced knee has its own pathway
    findings = [f for f in (pe, ischaemia, prosthetic, septic) if f]
    dvt = deep_vein_thrombosis(record)
    if dvt and ischaemia and dvt.basis and set(dvt.basis) <= set(ischaemia.evidence):
        # The limb card already shows every leg finding the DVT card rests on (the calf pain of an ischaemic
        # leg): one line there instead of a second card built on the same finding.
        ischaemia.notes.append(Say(ALSO_DVT))
        dvt = None
    if dvt and not pe:  # the PE card already sends the patient to emergency assessment with the leg findings
        if ischaemia and dvt.topic == SUSPECTED_DVT and dvt.variant != "child":
            dvt.variant = "limb-threat"  # a threatened, swollen leg: duplex in the emergency, no D-dimer first
        findings.append(dvt)
    known_pe = None if pe else known_pe_untreated(record)
    if known_pe:
        findings.append(known_pe)
    trauma = knee_trauma_imaging(record)
    findings += [f for f in (malignancy_red_flags(record), trauma) if f]
    suppressed = set()
    if trauma:
        suppressed.add(INTERNAL_DERANGEMENT)  # the trauma card already leads from radiograph to MRI
    if dvt and dvt.topic in (SUSPECTED_DVT, SUSPECTED_DVT_PREGNANCY):
        suppressed.add(BAKERS_CYST)  # the DVT card names the cyst; the duplex scan images both
    if ischaemia and ischaemia.variant in ("aneurysm", "aneurysm-symptomatic"):
        suppressed.add(POPLITEAL_ANEURYSM)
    findings += [f for f in musculoskeletal_causes(record) if f.topic not in suppressed]
    return sorted(findings, key=lambda f: _RANK[f.indicator])  # stable: rule order within an urgency
