"""4-5. Deep vein thrombosis — NICE NG158 1.1.1-1.1.4 (two-level Wells), D-dimer 1.1.12-1.1.14,
RCOG Green-top 37b in pregnancy and up to 6 weeks postpartum (clinical-knowledge.md §1.3-§1.8).

Criteria:
- a confirmed DVT begun within about 6 months: no "suspected DVT" card. On an active anticoagulant:
  `info` (known-dvt), or `warning` when leg features were recorded after the DVT began (suspected
  extension: §1.8). With no active anticoagulant on record: `warning` (known-dvt, untreated).
- otherwise, recent leg DVT features (swelling that is not a coded mass, calf pain, ruptured Baker's cyst):
  - pregnant or ≤ 6 weeks postpartum: `warning` suspected-dvt-pregnancy (duplex, LMWH until excluded;
    no Wells, no D-dimer rule-out, no DOAC);
  - else `warning` suspected-dvt with the Wells score from the record: likely (≥ 2) → proximal leg-vein
    ultrasound within 4 h; otherwise D-dimer within 4 h (age-adjusted cut-off over 50), or, with a D-dimer
    already on record, what it means.
"""
from __future__ import annotations

from datetime import timedelta

from ..facts import PatientRecord
from . import signals
from .ddimer import cutoff_for, latest_d_dimer
from .finding import Finding
from .wells import recent_surgery, wells_from_record


def deep_vein_thrombosis(record: PatientRecord) -> Finding | None:
    known = signals.active_dvt(record)
    if known:
        return _known_dvt(record, known)
    features = signals.leg_dvt_features(record)
    if not features:
        return None
    pregnant = signals.pregnant_or_postpartum(record)
    if pregnant:
        finding = Finding("suspected-dvt-pregnancy", "warning")
        finding.add(features + pregnant)
        return finding
    return _suspected_dvt(record, features)


def _known_dvt(record: PatientRecord, known) -> Finding:
    treatment = signals.on_anticoagulant(record)
    if not treatment:
        finding = Finding("known-dvt", "warning", variant="untreated")
        finding.add(known + signals.pregnant_or_postpartum(record))
        return finding
    began = min((f.onset or f.when for f in known if (f.onset or f.when)), default=None)
    newer = [f for f in signals.leg_dvt_features(record) if began and f.when and f.when > began + timedelta(days=1)]
    finding = Finding("known-dvt", "warning" if newer else "info", variant="treated-new-features" if newer else "treated")
    finding.add(known + treatment + newer)
    return finding


def _suspected_dvt(record: PatientRecord, features) -> Finding:
    finding = Finding("suspected-dvt", "warning")
    finding.add(features)
    wells = wells_from_record(record)
    for _, facts in wells.items:
        finding.add(facts)
    finding.values.update({
        "wells_score": str(wells.score),
        "wells_highest": str(wells.highest_possible),
        "cutoff": f"{cutoff_for(record.age)} ng/mL FEU",
        "cutoff_basis": "age-adjusted, age × 10" if record.age and record.age > 50 else "standard",
    })
    finding.values["wells_breakdown"] = "\n".join(f"- {line}" for line in wells.breakdown())
    finding.unknown = wells.unknown
    if wells.likely:
        finding.variant = "likely"
    else:
        d_dimer = latest_d_dimer(record)
        if d_dimer is None:
            finding.variant = "unlikely"
        else:
            finding.add([d_dimer.fact])
            finding.values["d_dimer_reading"] = d_dimer.basis
            finding.variant = {True: "d-dimer-positive", False: "d-dimer-negative", None: "d-dimer-unread"}[
                d_dimer.positive]
    _add_notes(record, finding)
    return finding


def _add_notes(record: PatientRecord, finding: Finding) -> None:
    cysts = record.current("bakers-cyst") + record.current("bakers-cyst-ruptured")
    if cysts:
        finding.add(cysts)
        finding.notes.append("A Baker's cyst is on record. It does not lower the Wells score (the −2 item is a "
                             "bedside judgement) and it can coexist with DVT; the duplex scan images the cyst too.")
    fast = signals.tachycardia(record)
    if fast:
        finding.add(fast)
        finding.notes.append("Heart rate > 100/min: ask about breathlessness, chest pain and haemoptysis — "
                             "PE features make this an emergency.")
    if signals.on_anticoagulant(record):
        finding.notes.append("An anticoagulant is active: a D-dimer may be falsely low.")
    if recent_surgery(record):
        finding.notes.append("Recent surgery raises D-dimer: imaging is the practical first test.")
    if record.age is not None and record.age < 18:
        finding.notes.append("NICE NG158 covers adults: seek paediatric advice for under-18s.")
