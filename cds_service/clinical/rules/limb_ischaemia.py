"""2. Acute limb ischaemia — critical (ACR AC Sudden Onset of Cold, Painful Leg; SVS popliteal artery
aneurysm guideline; clinical-knowledge.md §2.3, Appendix A).

Criterion, any of:
- a current, recently recorded acute arterial occlusion or critical limb ischaemia;
- ischaemic signs of the leg (pallor, numbness, paraesthesia, paralysis/paresis) recorded recently in at
  least two entries,
  together with recent leg or knee pain (one sign alone is common and chronic, e.g. neuropathy or
  sciatica; the acute picture is pain with more than one of the Ps) — or one sign with the pain when an
  embolic source (current atrial fibrillation or flutter, any date), a knee dislocation within 4 weeks
  or a popliteal aneurysm is on record (Appendix A: any one P);
- a known popliteal artery aneurysm with recent acute knee, calf or leg pain: critical with an occlusion or
  ischaemic signs; otherwise `warning` (urgent vascular review and arterial duplex: KB §2.3 "emergency if
  acute limb ischaemia", SVS 2022).
"""
from __future__ import annotations

from ...content.catalogue import phrase, threshold, topic, value_set, window
from ...record.facts import PatientRecord
from . import signals
from .finding import Finding, Say

ACUTE_LIMB_ISCHAEMIA = topic("acute-limb-ischaemia")
OCCLUSION, SIGNS, ANEURYSM, PARESIS = (
    value_set("acute-limb-ischaemia"), value_set("limb-ischaemia-signs"), value_set("popliteal-artery-aneurysm"),
    value_set("paralysis-paresis"))
ATRIAL_FIBRILLATION = value_set("atrial-fibrillation")  # an embolic source (KB §3.2)
KNEE_DISLOCATION, DISLOCATION_WINDOW = value_set("knee-dislocation-recent"), window("dislocation")
SIGNS_NEEDED = threshold("ischaemic-signs")
UNKNOWN = tuple(phrase("acute-limb-ischaemia", key) for key in
                ("unknown.cold-limb", "unknown.absent-pulses", "unknown.motor-weakness"))


def acute_limb_ischaemia(record: PatientRecord) -> Finding | None:
    occlusion = record.current(OCCLUSION, signals.FINDING)
    pain = signals.recent_leg_or_knee_pain(record)
    # Paralysis is one of the Ps (Appendix A): new paresis of the leg counts with pallor, numbness, paraesthesia.
    signs = record.current(SIGNS, signals.FINDING) + record.current(PARESIS, signals.FINDING)
    aneurysm = record.current(ANEURYSM)
    finding = Finding(ACUTE_LIMB_ISCHAEMIA, "critical")
    if occlusion:
        finding.add(occlusion + pain)
    # An embolic source, or a recent knee dislocation (a torn popliteal intima thromboses days later):
    # then one ischaemic sign with the pain is enough.
    # A known popliteal aneurysm is a source too (it thromboses or embolises: SVS, Appendix A).
    embolic_source = (record.current(ATRIAL_FIBRILLATION) + record.current(KNEE_DISLOCATION, DISLOCATION_WINDOW)
                      + aneurysm)
    needed = 1 if embolic_source else record.threshold(SIGNS_NEEDED)
    if signs and len({f.evidence.reference for f in signs}) >= needed and pain:
        finding.add(signs + pain + embolic_source)
    if aneurysm and pain:
        threatened = bool(finding.evidence)  # an occlusion or ischaemic signs as well
        finding.add(aneurysm + pain)
        if threatened:
            finding.variant = "aneurysm"
        else:
            # Symptomatic but no sign of a threatened limb: urgent, not emergency, review (KB §2.3, SVS).
            finding.variant, finding.indicator = "aneurysm-symptomatic", "warning"
    if not finding.evidence:
        return None
    finding.unknown = [Say(p) for p in UNKNOWN]
    return finding
