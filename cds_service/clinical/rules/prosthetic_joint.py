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

A sinus tract (fistula) of the replaced knee, or a purulent wound discharge on the leg of its side (or recorded
with no site within the early post-operative window of the replacement, no other operation on record; or pus a knee-pain entry's words name: r34b S11), is enough
on its own (IDSA 2013 rec 1: "a sinus tract or persistent wound drainage over a joint prosthesis"; ICM 2018:
a sinus tract communicating with the prosthesis is a major criterion; r31 review S6). A raised ESR counts as a
marker beside CRP and WCC (IDSA: ESR or CRP; ICM 2018 minor criterion, 30 mm/h). In the early post-operative
period (a knee replacement Procedure within the catalogue window, 90 days: ICM 2018 acute PJI) CRP counts only
above the acute threshold (100 mg/L) and ESR not at all: both rise after the operation itself (r30 review F5);
fever, a sinus tract or wound drainage still count. A fever below 39 °C in the first 72 hours after that
replacement does not count unless an NG51 high-risk sign of sepsis is recorded (the operation's own response,
r34a F9); nor, in those 72 hours, a CRP, a white cell count or a knee stated warm and swollen (the operation's
own response, r35a F2). A replaced knee stated hot and swollen counts on its own (r34b W3). A confirmed infection under its
treatment course with an NG51 high-risk sign of sepsis gives the 'septic' card (r34b S1).
"""
from __future__ import annotations

from decimal import Decimal

from ...content.catalogue import measurement, phrase, threshold, topic, value_set, window
from ...record.facts import Fact, PatientRecord
from . import signals
from .finding import Finding, Say
from .septic_arthritis import (CRP, EFFUSION, SHOWN, _raised, hot_swollen_knee, known_episode, markers_shown,
                               raised_markers, with_sepsis)

PROSTHETIC_JOINT_INFECTION = topic("prosthetic-joint-infection")
KNEE_PROSTHESIS, CODED_INFECTION = value_set("knee-prosthesis"), value_set("prosthetic-knee-infection")
DRAINAGE, ESR = value_set("prosthetic-knee-drainage"), measurement("esr")
ESR_RAISED, CRP_EARLY = threshold("esr-raised"), threshold("crp-raised-early-postoperative")
ESR_AGE_FACTOR, ESR_FEMALE_OFFSET = threshold("esr-age-factor"), threshold("esr-female-offset")
EARLY_POSTOPERATIVE = window("early-postoperative")
MARKERS, MARKERS_EARLY = (phrase("prosthetic-joint-infection", key) for key in ("markers.usual", "markers.early"))
# S. aureus bacteraemia: coded as S. aureus sepsis, coded as a bacteraemia beside S. aureus as its cause, or a blood
# culture growing S. aureus (r36b S3)
SA_SEPSIS, BACTERAEMIA = value_set("staphylococcus-aureus-bacteraemia"), value_set("bacteraemia")
STAPH_AUREUS, BLOOD_CULTURE = value_set("staphylococcus-aureus"), value_set("blood-culture")
BACTERAEMIA_WINDOW = window("bacteraemia")
SHOWN_BACTERAEMIA = {key: phrase("prosthetic-joint-infection", f"shown.{key}")
                     for key in ("bacteraemia-coded", "bacteraemia-culture", "also")}
_KNEE_FISTULA = "M25.16"  # ICD-10-CM Fistula, knee: the code names the knee; a wound discharge needs a leg site


def prosthetic_joint_infection(record: PatientRecord) -> Finding | None:
    prosthesis = record.current(KNEE_PROSTHESIS) + record.procedures(KNEE_PROSTHESIS)
    if not prosthesis:
        return None
    bacteraemia = staphylococcus_aureus_bacteraemia(record)
    local = record.current(signals.KNEE_PAIN, signals.FINDING) + record.current(EFFUSION, signals.FINDING)
    drainage = _drainage(record)
    # The painful or swollen knee must be the replaced one (KB §8.8 rule 4): a native right knee beside a
    # left knee replacement is septic arthritis's. Unsided on either part: the knee could be the replaced one.
    replaced = {signals.side(f) for f in prosthesis}
    if None not in replaced and "both" not in replaced:
        local = [f for f in local if signals.side(f) in (None, "both") or signals.side(f) in replaced]
        drainage = [f for f in drainage if signals.side(f) in (None, "both") or signals.side(f) in replaced]
    local = local + [f for f in drainage if f not in local]
    # A coded, unconfirmed prosthesis infection with a painful or swollen knee is enough (IDSA rec 1).
    infections = record.current(CODED_INFECTION, signals.FINDING, undated=True)
    coded = [f for f in infections if not f.confirmed]
    under_care = []
    if not coded:
        # The known infection's knee is under care; only a replaced knee on another side is a new suspicion.
        under_care = signals.under_known_prosthetic_infection(record, local)
        local = [f for f in local if f not in under_care]
    # A sinus tract or wound drainage over the replaced knee is enough on its own (IDSA 2013 rec 1).
    drainage = [f for f in drainage if f in local]
    early = _early_postoperative(record, local)
    # A replaced knee stated hot and swollen: erythema is, after fever, the most specific sign of PJI after knee
    # replacement (Shohat 2019, KB §8.4), and this is the arthroplasty pathway, not the native joint's (r34b W3).
    sepsis_signs = signals.sepsis_high_risk(record)
    # In the first days after the replacement a warm swollen knee, a raised CRP or WCC and a fever below 39 °C
    # are the operation's own response (r34a F9, r35a F2); an NG51 high-risk sign of sepsis lets them count.
    operation = [] if sepsis_signs else early
    hot = [f for f in hot_swollen_knee(local) if not signals.of_the_operation(record, f, operation)]
    fever = signals.fever(record) if sepsis_signs else signals.fever_beyond_operation(record, early)
    markers = [f for f in _markers(record, early) if not signals.of_the_operation(record, f, operation)]
    inflammation = fever + markers + coded + signals.coded_sepsis(record) + drainage + hot
    # A confirmed infection, recent or under its treatment course, with an NG51 high-risk sign of sepsis is
    # deteriorating under care: the 'septic' card, whenever it began (r34b S1: one begun 100 days ago was silent).
    confirmed = [f for f in infections if f.confirmed]
    confirmed += [f for f in signals.known_prosthetic_infection(record) if f not in confirmed]
    septic = sepsis_signs if confirmed and not coded else None
    if septic:
        local = local + under_care or confirmed
        inflammation = inflammation or confirmed
    # An S. aureus bacteraemia beside a replaced knee is a reason to evaluate the prosthesis with no knee
    # complaint coded: S. aureus seeds a joint prosthesis through the blood in 21-41 % (Murdoch, CID 2001;32:647;
    # Tande, Am J Med 2016;129:221.e11; Honkanen, OFID 2019;6:ofz218), often with few signs (haematogenous PJI;
    # IDSA 2013, ICM 2018; r36b S3). Not beside a confirmed prosthesis infection: the bacteraemia is then its.
    haematogenous = [] if confirmed else bacteraemia
    inflammation = inflammation + [f for f in haematogenous if f not in inflammation]
    if not haematogenous and (not local or not inflammation):
        return None
    # KB §8.4 card: critical if septic (NG51 high-risk), otherwise warning — same-day orthopaedic review and
    # aspiration, not the emergency of sepsis (r21 review S4).
    finding = Finding(PROSTHETIC_JOINT_INFECTION, "warning")
    # The replaced knee as evidence: not a known, treated infection of the other knee (old news on this card).
    known = signals.known_prosthetic_infection(record)
    finding.add(([f for f in prosthesis if f not in known] or prosthesis)[:1] + local + inflammation
                + (confirmed if septic else []))
    finding.values["markers"] = Say(MARKERS_EARLY if early else MARKERS)  # ESR has no role early (ICM 2018)
    finding.values["shown"] = _shown(coded, drainage, hot, fever + markers + signals.coded_sepsis(record),
                                     confirmed if septic else []) if local else []
    if haematogenous:
        finding.values["shown"] = _shown_bacteraemia(haematogenous, finding.values["shown"],
                                                     [] if local else fever + markers)
        # A bacteraemic patient has cultures and antibiotics at once, not after the aspiration (AAOS's exception;
        # KB §8.4): the 'bacteraemia' card, or 'septic' with an NG51 high-risk sign — beside a painful or swollen
        # replaced knee any such sign, with no knee finding a measured one (a coded sepsis is the bacteraemia's
        # own code: the card's question is the prosthesis, the sepsis is already under care).
        finding.variant = "bacteraemia"
        if not local:
            sepsis_signs = [f for f in sepsis_signs if f not in signals.coded_sepsis(record)]
    with_sepsis(finding, sepsis_signs if septic is None else septic)
    if finding.variant == "septic":
        finding.indicator = "critical"
    elif not (fever or coded or drainage or hot or confirmed or signals.coded_sepsis(record) or haematogenous) and (
            explained := signals.explained_inflammation(record, markers, [], signals.infection_elsewhere(record))):
        # Only a marker is raised, and an infection coded elsewhere explains it (a CRP of 14 during a cold: r36a
        # 112): ICM 2018 reads a serum CRP as 2 of the 6 points, so a repeat when the infection has settled, not
        # a same-day aspiration; a fever, a hot knee, drainage or a suspected infection keep the warning.
        finding.indicator, finding.variant = "info", "explained"
        finding.add(explained)
    return finding


def staphylococcus_aureus_bacteraemia(record: PatientRecord) -> list[Fact]:
    """An S. aureus bacteraemia within the bacteraemia window: S. aureus sepsis coded (A41.0-), a bacteraemia
    coded (R78.81) beside S. aureus coded as a cause (B95.6-: alone it may be a skin infection's), or a final
    blood culture (600-7) whose coded value is S. aureus (r36b S3)."""
    coded = record.current(SA_SEPSIS, BACTERAEMIA_WINDOW)
    cause = [f for f in record.current(STAPH_AUREUS, BACTERAEMIA_WINDOW) if f.kind == "Condition"]
    bacteraemia = record.current(BACTERAEMIA, BACTERAEMIA_WINDOW)
    paired = bacteraemia + cause if bacteraemia and cause else []
    cultures = [f for f in record.results(BLOOD_CULTURE, BACTERAEMIA_WINDOW) if STAPH_AUREUS in f.value_sets_of_value]
    return coded + [f for f in paired if f not in coded] + cultures


def _shown_bacteraemia(bacteraemia: list[Fact], shown: list[Say], measured: list[Fact]) -> list[Say]:
    """The bacteraemia as the record has it (coded, or a blood culture), after the replaced knee's findings;
    with no knee finding, a fever or raised marker beside it."""
    said = [Say(SHOWN_BACTERAEMIA["bacteraemia-culture" if f.kind == "Observation" else "bacteraemia-coded"])
            for f in bacteraemia]
    said = [s for i, s in enumerate(said) if s not in said[:i]]
    return shown + said + ([Say(SHOWN_BACTERAEMIA["also"], markers=markers_shown(measured))] if measured else [])


def _shown(coded: list[Fact], drainage: list[Fact], hot: list[Fact], measured: list[Fact],
           under_care: list[Fact]) -> list[Say]:
    """What the card rests on, as the record has it (r34a F10): the replaced knee with its fever or markers, a
    suspected prosthesis infection, a sinus tract or discharge, the knee stated hot, a known infection."""
    said = [Say(SHOWN["prosthesis-suspected"])] if coded else []
    said += [Say(SHOWN["drainage"])] if drainage else []
    said += [Say(SHOWN["replaced-hot"])] if hot else []
    if measured:
        said.append(Say(SHOWN["replaced-with"], markers=markers_shown(measured)))
    return said + [known_episode(f) for f in under_care[:1]]


def _drainage(record: PatientRecord) -> list[Fact]:
    """A coded sinus tract (fistula) of a knee, or a purulent wound discharge placed on the leg by its bodySite
    or its knee-pain entry's words, recorded in the finding window. A discharge recorded with no site (one whose
    bodySite is not the leg was dropped when read) is the replaced knee's when its wound is recent (a knee
    replacement in the early post-operative window) and the record holds no other operation whose wound it
    could be: no other major surgery, no delivery (r34b S11). Years after the operation a wound with no site
    may be anywhere (r31 S6: a leg ulcer is as likely)."""
    found = record.current(DRAINAGE, signals.FINDING)
    placed = [f for f in found if signals.LOWER_LIMB in f.value_sets
              or any(code.startswith(_KNEE_FISTULA) for _, code in f.evidence.codes)]
    other_wounds = [p for p in record.procedures(signals.MAJOR_SURGERY) + record.procedures(signals.POSTPARTUM)
                    if KNEE_PROSTHESIS not in p.value_sets]
    recent_wound = record.procedures(KNEE_PROSTHESIS, EARLY_POSTOPERATIVE)
    return placed + ([f for f in found if f not in placed] if recent_wound and not other_wounds else [])


def _early_postoperative(record: PatientRecord, local: list[Fact]) -> list[Fact]:
    """Knee replacements performed within the early post-operative window, on the knee the findings may be
    about (a recent replacement of the other knee leaves this knee's markers readable)."""
    recent = record.procedures(KNEE_PROSTHESIS, EARLY_POSTOPERATIVE)
    if not local:
        return recent
    return [p for p in recent if any(signals.on_replaced_knee(f, [p]) for f in local)]


def _markers(record: PatientRecord, early: list[Fact]) -> list[Fact]:
    """Raised CRP or WCC (the septic-arthritis thresholds), and raised ESR. Early after the operation CRP counts
    only above ICM 2018's acute threshold, whatever the laboratory's flag, and ESR not at all (r30 review F5)."""
    markers = raised_markers(record)
    if early:
        crp = record.latest(CRP)
        markers = [m for m in markers if m is not crp]
        if crp is not None and (mg := signals.crp_mg_per_l(crp)) is not None and mg > record.threshold(CRP_EARLY):
            markers.append(crp)
        return markers
    # An ESR counts only when no CRP was measured: ICM 2018 scores an ESR alone 1 point of the 6 (0-1: not
    # infected), a CRP 2, so a raised ESR beside a normal CRP is no same-day aspiration (r36a 111).
    esr = record.latest(ESR)
    if esr is not None and record.latest(CRP) is None and _raised(
            esr, _esr_limit(record), record.catalogue.high_flags, {"mm/h"}, {}):
        markers.append(esr)
    return markers


def _esr_limit(record: PatientRecord) -> Decimal:
    """ICM 2018's 30 mm/h, or the upper limit of a normal ESR for the age when higher (Miller, BMJ 1983;286:266:
    age/2 in men, (age + 10)/2 in women; the female limit when the sex is not recorded): ESR 40 is normal at 82."""
    limit = record.threshold(ESR_RAISED)
    if record.age is None:
        return limit
    normal = Decimal(record.age) * record.threshold(ESR_AGE_FACTOR)
    if record.sex != "male":
        normal += record.threshold(ESR_FEMALE_OFFSET)
    return max(limit, normal)
