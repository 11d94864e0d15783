"""4-5. Deep vein thrombosis — NICE NG158 1.1.1-1.1.4 (two-level Wells), D-dimer 1.1.12-1.1.14,
RCOG Green-top 37b in pregnancy and up to 6 weeks postpartum (clinical-knowledge.md §1.3-§1.8).

Criteria:
- a confirmed DVT begun within about 6 months (or older, while anticoagulation continues): no "suspected
  DVT" card. Begun after the active anticoagulant was ordered: `warning` (treatment failure, §8.2). On an active anticoagulant:
  `info` (known-dvt), or `warning` when leg features were recorded after the DVT began (suspected
  extension: §1.8). With no active anticoagulant on record: `warning` (known-dvt, untreated).
- otherwise, recent leg DVT features (swelling that is not a coded mass, calf pain, ruptured Baker's cyst;
  or leg or knee pain when the record alone already scores Wells ≥ 2):
  - pregnant or ≤ 6 weeks postpartum: `warning` suspected-dvt-pregnancy (duplex, LMWH until excluded;
    no Wells, no D-dimer rule-out, no DOAC);
  - on an active anticoagulant: `warning` suspected-dvt, imaging first (a D-dimer cannot rule it out);
  - a DVT coded as suspected (or with no verification status) among the features: imaging first;
  - else `warning` suspected-dvt with the Wells score from the record: likely (≥ 2) → proximal leg-vein
    ultrasound within 4 h; otherwise D-dimer within 4 h (age-adjusted cut-off over 50), or, with a D-dimer
    already on record, what it means.
"""
from __future__ import annotations

from ...content.catalogue import phrase, topic, value_set, window
from ...record.facts import PatientRecord
from . import signals
from .ddimer import age_adjusted, cutoff_for, latest_d_dimer
from .finding import Finding, Say
from .wells import likely, wells_from_record

SUSPECTED_DVT, SUSPECTED_DVT_PREGNANCY, KNOWN_DVT = (
    topic("suspected-dvt"), topic("suspected-dvt-pregnancy"), topic("known-dvt"))
NEW_FEATURES = window("dvt-new-features")
BAKERS_CYST = value_set("bakers-cyst")
_DVT = "suspected-dvt"
NOTE_BAKERS_CYST, NOTE_TACHYCARDIA, NOTE_ANTICOAGULANT, NOTE_SURGERY = (
    phrase(_DVT, key) for key in ("note.bakers-cyst", "note.tachycardia", "note.anticoagulant",
                                  "note.recent-surgery"))
BASIS_AGE_ADJUSTED, BASIS_STANDARD = phrase(_DVT, "cutoff-basis.age-adjusted"), phrase(_DVT, "cutoff-basis.standard")
# "Wells 0" in a summary reads as a low score; the record showing none of the items is not that.
WELLS_NONE, WELLS_SOME = phrase(_DVT, "wells-record.none"), phrase(_DVT, "wells-record.some")


def deep_vein_thrombosis(record: PatientRecord) -> Finding | None:
    known = signals.active_dvt(record)
    if known:
        return _known_dvt(record, known)
    features = signals.leg_dvt_features(record) or _painful_leg_with_likely_wells(record)
    if not features:
        return None
    finding = _suspected(record, features)
    finding.basis = [f.evidence for f in features]
    return finding


def _painful_leg_with_likely_wells(record: PatientRecord) -> list:
    """Leg or knee pain alone is too common to raise a DVT card, but NG158 1.1.1 asks about a "painful leg"
    and a record that already scores Wells 2 (active cancer, recent surgery, previous DVT...) makes DVT
    likely: then the pain is the feature."""
    pain = record.current(signals.LEG_PAIN, signals.FINDING) + record.current(signals.KNEE_PAIN, signals.FINDING)
    if not pain or signals.child(record):
        return []
    score, _ = wells_from_record(record)
    return pain if likely(record, score) else []


def _suspected(record: PatientRecord, features) -> Finding:
    pregnant = signals.pregnant_or_postpartum(record)
    if pregnant:
        finding = Finding(SUSPECTED_DVT_PREGNANCY, "warning")
        finding.add(features + pregnant)
        return finding
    if signals.child(record):
        # Wells and D-dimer are not validated under 18 (§8.1): no score, no D-dimer rule-out.
        finding = Finding(SUSPECTED_DVT, "warning", variant="child")
        finding.add(features + signals.on_anticoagulant(record))
        return finding
    return _suspected_dvt(record, features)


def _known_dvt(record: PatientRecord, known) -> Finding:
    treatment = signals.on_anticoagulant(record)
    if not treatment:
        finding = Finding(KNOWN_DVT, "warning", variant="untreated")
        choice, facts = signals.anticoagulant_choice(record)
        finding.add(known + facts)
        finding.values["anticoagulant_choice"] = Say(choice)
        return finding
    began = min((f.onset or f.when for f in known if (f.onset or f.when)), default=None)
    margin = record.catalogue.window(NEW_FEATURES)
    started = [f for f in treatment if f.kind == "MedicationRequest" and f.when]
    if began and started and all(f.when + margin < began for f in started):
        # The clot began after the anticoagulant was ordered: treatment failure, not a treated DVT.
        finding = Finding(KNOWN_DVT, "warning", variant="treatment-failure")
        finding.add(known + treatment)
        return finding
    newer = [f for f in signals.leg_dvt_features(record) if began and f.when and f.when > began + margin]
    finding = Finding(KNOWN_DVT, "warning" if newer else "info", variant="treated-new-features" if newer else "treated")
    finding.add(known + treatment + newer)
    return finding


def _suspected_dvt(record: PatientRecord, features) -> Finding:
    finding = Finding(SUSPECTED_DVT, "warning")
    finding.add(features)
    score, unknown = wells_from_record(record)
    for item in score.items:
        finding.add(item.facts)
    finding.score = score
    finding.values.update({
        "wells_score": score.total,
        "wells_highest": score.highest_possible,
        "cutoff": cutoff_for(record),
        "cutoff_basis": Say(BASIS_AGE_ADJUSTED if age_adjusted(record) else BASIS_STANDARD),
        "wells_from_record": Say(WELLS_SOME, score=score.total) if score.items else Say(WELLS_NONE),
    })
    finding.unknown = unknown
    if signals.on_anticoagulant(record):
        finding.variant = "on-anticoagulant"  # a D-dimer cannot rule DVT out on anticoagulation (KB §8.2)
    elif likely(record, score):
        finding.variant = "likely"
    elif any(signals.DVT in f.value_sets for f in features):
        finding.variant = "coded-unconfirmed"  # a clinician coded a clot: scan it, never rule it out by D-dimer
    elif signals.recent_surgery(record):
        finding.variant = "recent-surgery"  # surgery raises D-dimer: imaging first
    else:
        d_dimer = latest_d_dimer(record)
        if d_dimer is None:
            finding.variant = "unlikely"
        else:
            finding.add([d_dimer.fact])
            finding.values["d_dimer_reading"] = d_dimer.reading
            finding.variant = {True: "d-dimer-positive", False: "d-dimer-negative", None: "d-dimer-unread"}[
                d_dimer.positive]
    _add_notes(record, finding)
    return finding


def _add_notes(record: PatientRecord, finding: Finding) -> None:
    cysts = record.current(BAKERS_CYST) + record.current(signals.BAKERS_CYST_RUPTURED)
    if cysts:
        finding.add(cysts)
        finding.notes.append(Say(NOTE_BAKERS_CYST))
    fast = signals.tachycardia(record)
    if fast:
        finding.add(fast)
        finding.notes.append(Say(NOTE_TACHYCARDIA, threshold=record.threshold(signals.TACHYCARDIA)))
    if signals.on_anticoagulant(record):
        finding.notes.append(Say(NOTE_ANTICOAGULANT))
    if signals.recent_surgery(record):
        finding.notes.append(Say(NOTE_SURGERY))
