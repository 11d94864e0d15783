"""3a. Possible prosthetic knee joint infection — warning, critical when septic (IDSA 2013, Osmon CID 2013;56:e1-25; AAOS PJI
guideline; ICM 2018; clinical-knowledge.md §8.4).

Criterion: a replaced knee (presence of an artificial knee, a knee replacement of any date, or a coded
knee-prosthesis infection) with recent knee pain or effusion, and fever or raised inflammatory markers
(the septic-arthritis thresholds), or a knee-prosthesis infection coded as suspected. IDSA: "acute onset of a painful prosthesis" is enough to suspect PJI;
fever is its most specific sign after knee replacement. The card routes to same-day orthopaedic review
with aspiration before antibiotics — unless a NICE NG51 high-risk sign of sepsis is recorded (variant
"septic": cultures and antibiotics at once, AAOS) — so it replaces the native-joint septic arthritis card.
A confirmed knee-prosthesis infection that began within the treatment course is known and under care: the
replaced knee's pain, effusion, fever and markers do not fire again (KB §1.8), only new high-risk signs of
sepsis do; a replaced knee on the other side still can.
"""
from __future__ import annotations

from ...content.catalogue import topic, value_set
from ...record.facts import PatientRecord
from . import signals
from .finding import Finding
from .septic_arthritis import EFFUSION, raised_markers, with_sepsis

PROSTHETIC_JOINT_INFECTION = topic("prosthetic-joint-infection")
KNEE_PROSTHESIS, CODED_INFECTION = value_set("knee-prosthesis"), value_set("prosthetic-knee-infection")


def prosthetic_joint_infection(record: PatientRecord) -> Finding | None:
    prosthesis = record.current(KNEE_PROSTHESIS) + record.procedures(KNEE_PROSTHESIS)
    if not prosthesis:
        return None
    local = record.current(signals.KNEE_PAIN, signals.FINDING) + record.current(EFFUSION, signals.FINDING)
    # The painful or swollen knee must be the replaced one (KB §8.8 rule 4): a native right knee beside a
    # left knee replacement is septic arthritis's. Unsided on either part: the knee could be the replaced one.
    replaced = {signals.side(f) for f in prosthesis}
    if None not in replaced and "both" not in replaced:
        local = [f for f in local if signals.side(f) in (None, "both") or signals.side(f) in replaced]
    # A coded, unconfirmed prosthesis infection with a painful or swollen knee is enough (IDSA rec 1).
    infections = record.current(CODED_INFECTION, signals.FINDING, undated=True)
    coded = [f for f in infections if not f.confirmed]
    if not coded:
        # The known infection's knee is under care; only a replaced knee on another side is a new suspicion.
        under_care = signals.under_known_prosthetic_infection(record, local)
        local = [f for f in local if f not in under_care]
    inflammation = signals.fever(record) + raised_markers(record) + coded + signals.coded_sepsis(record)
    septic = signals.sepsis_high_risk(record) if infections and not coded else None
    if septic:
        local, inflammation = local or infections, inflammation or infections  # confirmed, now septic
    if not local or not inflammation:
        return None
    # KB §8.4 card: critical if septic (NG51 high-risk), otherwise warning — same-day orthopaedic review and
    # aspiration, not the emergency of sepsis (r21 review S4).
    finding = Finding(PROSTHETIC_JOINT_INFECTION, "warning")
    # The replaced knee as evidence: not a known, treated infection of the other knee (old news on this card).
    known = signals.known_prosthetic_infection(record)
    finding.add(([f for f in prosthesis if f not in known] or prosthesis)[:1] + local + inflammation)
    with_sepsis(finding, signals.sepsis_high_risk(record) if septic is None else septic)
    if finding.variant == "septic":
        finding.indicator = "critical"
    return finding
