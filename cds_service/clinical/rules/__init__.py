"""The rules, in the order of clinical urgency (clinical-knowledge.md §2.4), and how they give way to
each other (cards/catalogue.json "giveWay"). Each rule is one small module that reads like the guideline
it encodes."""
from __future__ import annotations

from ...content.catalogue import GiveWay, phrase, topic
from ...record.facts import PatientRecord
from .compartment_syndrome import compartment_syndrome
from . import wells
from .deep_vein_thrombosis import SUSPECTED_DVT, deep_vein_thrombosis, explained_knee_pain_wells_likely
from .finding import Finding, Say
from .knee_trauma import knee_trauma_imaging
from .limb_ischaemia import ACUTE_LIMB_ISCHAEMIA, acute_limb_ischaemia
from .malignancy import malignancy_red_flags
from .musculoskeletal import musculoskeletal_causes
from .prosthetic_joint import prosthetic_joint_infection
from .pulmonary_embolism import known_pe_untreated, possible_pe
from .septic_arthritis import suspected_septic_arthritis
from .signals import interim_caution, renal_failure, renal_impairment

_RANK = {"critical": 0, "warning": 1, "info": 2}
RULES = (possible_pe, acute_limb_ischaemia, compartment_syndrome, prosthetic_joint_infection, suspected_septic_arthritis,
         deep_vein_thrombosis, known_pe_untreated, malignancy_red_flags, knee_trauma_imaging)


def evaluate(record: PatientRecord) -> list[Finding]:
    """Every finding worth a card, most urgent first."""
    findings = [f for f in (rule(record) for rule in RULES) if f] + musculoskeletal_causes(record)
    for rule in record.catalogue.give_way:
        findings = _give_way(rule, findings)
    findings = _one_info_card(record, findings)
    # A threatened leg (the critical limb card, not a known, chronic or re-examination one) that is also
    # swollen: duplex in the emergency, no D-dimer first.
    threatened = any(f.topic == ACUTE_LIMB_ISCHAEMIA and f.indicator == "critical" for f in findings)
    for finding in findings:
        if finding.topic == SUSPECTED_DVT and threatened and finding.variant != "child":
            finding.variant = "limb-threat"
    _interim_caution(record, findings)
    _renal_dosing(record, findings)
    _dvt_not_excluded(record, findings)
    return sorted(findings, key=lambda f: (_RANK[f.indicator], f.follows))  # stable: rule order within an urgency


def _interim_caution(record: PatientRecord, findings: list[Finding]) -> None:
    """The cards that advise interim anticoagulation while a scan is awaited (catalogue recordHygiene
    interimCautionCards) name the anticoagulant that fits when the usual one (a DOAC) does not: established
    renal failure or antiphospholipid syndrome on record (r38b W3: 'interim therapeutic anticoagulation' beside
    an eGFR of 9 read as 'start apixaban')."""
    caution = interim_caution(record)
    if caution is None:
        return
    words, facts = caution
    for finding in findings:
        if f"{finding.topic}:{finding.variant}" in record.catalogue.hygiene["interimCautionCards"]:
            finding.add(facts)
            finding.notes.append(Say(words))


def _renal_dosing(record: PatientRecord, findings: list[Finding]) -> None:
    """The cards that name LMWH in their own words (catalogue recordHygiene renalDosingCards: pregnancy's)
    say, beside renal failure or severe impairment, that the heparin is dosed to the creatinine clearance
    (r42 S3: 'therapeutic LMWH now' beside CKD stage 5 in pregnancy)."""
    cards = [f for f in findings if f"{f.topic}:{f.variant}" in record.catalogue.hygiene["renalDosingCards"]]
    renal = (renal_failure(record) + renal_impairment(record)) if cards else []
    for finding in cards if renal else ():
        finding.add(renal)
        finding.notes.insert(0, Say(RENAL_DOSING))


# The cards whose pathway already answers "is this leg's pain a clot?"
_CLOT_TOPICS = frozenset(topic(t) for t in ("suspected-pe", "suspected-dvt", "suspected-dvt-pregnancy", "known-dvt",
                                            "known-pe"))
RENAL_DOSING = phrase("common", "note.renal-dosing")
NOTE_DVT_NOT_EXCLUDED = {cancer: phrase("common", f"note.dvt-not-excluded{'.cancer-asked' if cancer else ''}")
                         for cancer in (False, True)}
LEAD_DVT_NOT_EXCLUDED = {cancer: phrase("common", f"lead.dvt-not-excluded{'.cancer-asked' if cancer else ''}")
                         for cancer in (False, True)}


def _dvt_not_excluded(record: PatientRecord, findings: list[Finding]) -> None:
    """Knee pain a coded knee diagnosis explains raises no DVT card, but beside a record that scores Wells 2
    (or would, once its cancer is active) the card that explains it says DVT is not excluded, with the items
    (r39 S5; NG158 1.1.1: a painful leg with a likely Wells is assessed for DVT). Not when a clot card is shown."""
    if any(f.topic in _CLOT_TOPICS for f in findings):
        return
    reading = explained_knee_pain_wells_likely(record)
    if reading is None:
        return
    pain, explained, score, unknown = reading
    # the card that shows the pain, else the one that shows its explanation (r40 S5: a knee diagnosis recorded
    # after the pain was on a card that did not list the pain, and the note was lost)
    target = next((f for f in findings if {p.evidence for p in pain} & set(f.evidence)), None) or next(
        (f for f in findings if {e.evidence for e in explained} & set(f.evidence)), None)
    if target is None:
        return
    target.add(pain + wells.evidence(record, score, unknown))
    asked = wells.ACTIVE_CANCER in unknown
    target.notes.append(Say(NOTE_DVT_NOT_EXCLUDED[asked], score=score.total,
                            **({"likely": score.total + record.catalogue.points(wells.ACTIVE_CANCER)} if asked else {})))
    # said first, in the summary: a clinician reading an info card's first line must see it (r40 S5 wording)
    target.leads_with = Say(LEAD_DVT_NOT_EXCLUDED[asked], score=score.total)


def _leads(rule: GiveWay, finding: Finding) -> bool:
    if rule.when_indicator is not None:
        return finding.indicator == rule.when_indicator
    return finding.topic == rule.when and (not rule.variants or finding.variant in rule.variants)


def _give_way(rule: GiveWay, findings: list[Finding]) -> list[Finding]:
    """The findings once the lesser cards of `rule` have given way to its leading card (a topic's, or the
    first card of an urgency: r31 review F4)."""
    leader = next((f for f in findings if _leads(rule, f)), None)
    if leader is None:
        return findings
    kept, gave_way = [], []
    for finding in findings:
        shown = bool(finding.basis) and set(finding.basis) <= set(leader.evidence)
        if finding is not leader and finding.topic in rule.yields and (shown or not rule.only_if_shown):
            gave_way.append(topic(finding.topic))
            if rule.list_basis:  # what the line names is on the card, dated (r34a F7, W3)
                leader.evidence += [e for e in finding.basis if e not in leader.evidence]
            continue
        kept.append(finding)
    if gave_way and rule.line and not any(note.phrase == rule.line for note in leader.notes):
        leader.notes.append(Say(phrase(rule.line_scope, rule.line), topics=list(dict.fromkeys(gave_way))))
    return kept


def _one_info_card(record: PatientRecord, findings: list[Finding]) -> list[Finding]:
    """One card where several of the catalogue's "oneInfoCard" topics would be shown (r31 review F4): the
    leader (a new diagnosis first, then the list's order) names the others in one line and lists their
    entries; the others give way."""
    one = record.catalogue.one_info_card
    group = [f for f in findings if f.topic in one.topics and f.indicator == "info"]
    if len(group) < 2:
        return findings
    since = record.now - record.catalogue.windows[one.new_first_within]
    new = {id(f) for f in group if any(e.when is not None and e.when >= since for e in f.basis)}  # basis: the diagnoses
    leader = min(group, key=lambda f: (id(f) not in new, one.topics.index(f.topic)))
    others = [f for f in group if f is not leader]
    leader.notes.append(Say(phrase("common", one.line), topics=[topic(f.topic) for f in others]))
    for finding in others:
        for evidence in finding.evidence:
            if evidence not in leader.evidence:
                leader.evidence.append(evidence)
    return [f for f in findings if f not in others]
