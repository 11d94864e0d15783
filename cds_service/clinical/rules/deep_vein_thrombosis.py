"""4-5. Deep vein thrombosis — NICE NG158 1.1.1-1.1.4 (two-level Wells), D-dimer 1.1.12-1.1.14,
RCOG Green-top 37b in pregnancy and up to 6 weeks postpartum (clinical-knowledge.md §1.3-§1.8).

Criteria:
- a confirmed DVT under way (signals.active_dvt: begun within about 6 months, or older while
  anticoagulation continues; not when a course that ended covered the 3-month treatment phase, nor when
  undated and untreated): no "suspected DVT" card. Begun after the active anticoagulant was ordered:
  `warning` (treatment failure, §8.2). On an active anticoagulant: `warning` when a new kind of leg feature
  (or one on the other leg) began after the DVT began (suspected extension: §1.8; its onset, else its recorded
  date, but an undated swelling of the clot's leg within the treatment phase is the clot's own: r36a 082), not
  a swelling of a leg with a coded post-thrombotic syndrome (that syndrome's chronic swelling: r34a F8); `info` only while
  the leg or knee is a current complaint (nothing to act on otherwise). With no anticoagulant on record:
  `warning` (known-dvt, untreated; beside a known, untreated PE it gives way to that card: r34a F7).
- a leg-vein scan in the findings window that shows a proximal DVT in plain words (signals.dvt_shown_by_scan;
  not a hedged, limited, distal, superficial or chronic report) is a known DVT, coded or not (NG158 1.1.3:
  scan positive, diagnose DVT and treat): with no anticoagulant, `warning` known-dvt scan-shown (anticoagulate
  now, no Wells, D-dimer or repeat scan); on one, as a known DVT under treatment (above), dated from when
  its leg features began.
- otherwise, recent leg DVT features (swelling that is not a coded mass, calf pain, ruptured Baker's cyst,
  a superficial vein thrombosis of the leg;
  or leg or knee pain when the record alone already scores Wells ≥ 2, not beside a coded explanation of
  that knee, nor within the finding window after a negative scan of that leg: r34a F5) that no negative
  leg-vein scan or refuted DVT has closed (signals.still_open: within 7 days of the scan only a new kind
  with a new objective sign re-opens, r34a F6; a re-opened card names the scan). Closed by a negative scan
  within 8 days while the record scores Wells ≥ 2: `warning` scan-negative-likely (NG158 1.1.3: a D-dimer;
  positive → repeat scan 6-8 days later), repeat-scan once a D-dimer is positive; a negative D-dimer closes it.
  - pregnant or ≤ 6 weeks postpartum: `warning` suspected-dvt-pregnancy (duplex, LMWH until excluded;
    no Wells, no D-dimer rule-out, no DOAC);
  - on a prophylaxis-strength anticoagulant only: `warning` on-prophylaxis, imaging first, and a DVT on it
    is no treatment failure (r34a W2);
  - on an active anticoagulant: `warning` suspected-dvt, imaging first (a D-dimer cannot rule it out);
  - a DVT coded as suspected (or with no verification status) among the features: imaging first;
  - a superficial vein thrombosis of the leg among the features: duplex, no D-dimer first (r36b 337);
  - else `warning` suspected-dvt with the Wells score from the record: likely (≥ 2) → proximal leg-vein
    ultrasound within 4 h; otherwise D-dimer within 4 h (age-adjusted cut-off over 50), or, with a D-dimer
    already on record, what it means.
"""
from __future__ import annotations

from ...content.catalogue import phrase, topic, value_set, window
from ...record.facts import PatientRecord
from . import signals, wells
from .ddimer import LAB, age_adjusted, cutoff_for, latest_d_dimer
from .finding import Finding, Say, Score
from .wells import likely, likely_if_cancer_active, wells_from_record

SUSPECTED_DVT, SUSPECTED_DVT_PREGNANCY, KNOWN_DVT = (
    topic("suspected-dvt"), topic("suspected-dvt-pregnancy"), topic("known-dvt"))
NEW_FEATURES, REPEAT_SCAN, FINDING, TREATMENT_PHASE = (
    window("dvt-new-features"), window("repeat-scan"), window("finding"), window("treatment-phase"))
REPEAT_EARLIEST, REPEAT_LATEST, REPEAT_COUNTS_FROM, D_DIMER_BEFORE = (
    window("repeat-scan-earliest"), window("repeat-scan-latest"), window("repeat-scan-counts-from"),
    window("d-dimer-before-finding"))
SUPERFICIAL_SCAN = window("superficial-scan")
BAKERS_CYST = value_set("bakers-cyst")
# What explains pain of a knee, so that the pain is not read as that leg's DVT (r34a F5): a chronic knee
# disease, an injury of the knee begun within the msk-injury window, a knee replacement within 12 weeks.
KNEE_DISEASE = (value_set("knee-osteoarthritis"),)
KNEE_INJURY = (value_set("meniscal-tear"), value_set("knee-ligament-injury"), value_set("knee-trauma"))
KNEE_REPLACEMENT, MSK_INJURY, SURGERY = value_set("knee-prosthesis"), window("msk-injury"), window("surgery")
CALF_MUSCLE_INJURY = value_set("calf-muscle-injury")
THROMBOPHILIA, HORMONES = value_set("thrombophilia"), value_set("hormonal-contraception-hrt")
POST_THROMBOTIC = value_set("post-thrombotic-syndrome")
_DVT = "suspected-dvt"
NOTE_BAKERS_CYST, NOTE_TACHYCARDIA, NOTE_ANTICOAGULANT, NOTE_SURGERY, NOTE_REPEAT_OVERDUE = (
    phrase(_DVT, key) for key in ("note.bakers-cyst", "note.tachycardia", "note.anticoagulant",
                                  "note.recent-surgery", "note.repeat-overdue"))
BASIS_AGE_ADJUSTED, BASIS_STANDARD = phrase(_DVT, "cutoff-basis.age-adjusted"), phrase(_DVT, "cutoff-basis.standard")
# "Wells 0" in a summary reads as a low score; the record showing none of the items is not that.
WELLS_NONE, WELLS_SOME = phrase(_DVT, "wells-record.none"), phrase(_DVT, "wells-record.some")
NOTE_STOPPED_LATELY = phrase(_DVT, "note.anticoagulant-stopped-lately")
NOTE_HELD = phrase(_DVT, "note.anticoagulant-held")
NOTE_CHILD_FAST_PULSE, NOTE_CHILD_TACHYCARDIA = phrase(_DVT, "note.child-fast-pulse"), phrase(_DVT, "note.child-tachycardia")
NOTE_EARLIER_SCAN = phrase(_DVT, "note.earlier-negative-scan")
NOTE_ONE_SIDED_SCAN = phrase(_DVT, "note.one-sided-negative-scan")
NOTE_SUPERFICIAL = phrase(_DVT, "note.superficial-thrombosis")
NOTE_SUPERFICIAL_RENAL = phrase(_DVT, "note.superficial-renal")
NOTE_CHILD_RISK = phrase(_DVT, "note.child-risk")
CHILD_RISK = {key: phrase(_DVT, f"child-risk.{key}")
              for key in ("surgery", "immobilised", "cancer", "previous-vte", "thrombophilia", "hormones")}
# What raises a child's DVT card with no VTE risk on record: a swelling, a clot coded, a ruptured Baker's cyst
CHILD_FIRES_ALONE = signals.OBJECTIVE_DVT_SIGNS | {signals.BAKERS_CYST_RUPTURED, signals.SUPERFICIAL_THROMBOSIS}
SIDE_WORDS = {"left": phrase(_DVT, "side.left"), "right": phrase(_DVT, "side.right")}
NOTE_CONFLICT = phrase("common", "anticoagulant-conflict.note")


def deep_vein_thrombosis(record: PatientRecord) -> Finding | None:
    known = signals.active_dvt(record)
    if known:
        # dated from the leg findings that led to it when its onset is not recorded (signals.clot_began)
        starts = [b for b in (signals.clot_began(record, f) for f in known) if b is not None]
        return _known_dvt(record, known, began=min(starts) if starts else None)
    if signals.pe_under_treatment(record):
        return None  # a PE under treatment (coded or on CTPA): a DVT would change nothing now (NG158: same treatment)
    shown = signals.dvt_shown_by_scan(record)
    if shown:
        # The clot began before the scan found it: with the leg features that led to the scan (treatment
        # failure is judged from them, not from the scan's date: interim anticoagulation precedes the scan).
        features = signals.all_leg_dvt_features(record)
        return _known_dvt(record, shown, began=signals.began(features + shown), untreated="scan-shown",
                          also=features)
    features = _unexplained_by_calf_injury(record, _one_leg(record, signals.leg_dvt_features(record))) \
        or _painful_leg_with_likely_wells(record)
    finding = _suspected(record, features) if features else (
        _scan_negative_wells_likely(record) or _scan_superficial(record))
    if finding and features:
        finding.basis = [f.evidence for f in features]
    return finding


def _superficial_scan(record: PatientRecord):
    """The newest negative leg-vein scan, within the superficial-scan window, when its report says no DVT and
    shows a superficial vein thrombosis (ReportReader: catalogue "$superficialComment"; r38a F5)."""
    scans = [t for t in record.negative_tests(signals.DVT_IMAGING, signals.DVT) if t.kind != "Condition"]
    if scans and scans[0].superficial and record.now - scans[0].when <= record.catalogue.window(SUPERFICIAL_SCAN):
        return scans[0]
    return None


def _scan_superficial(record: PatientRecord) -> Finding | None:
    """A scan that answered the DVT question and found a superficial vein thrombosis: the SVT's treatment by
    its length and distance from the junction (Thrombosis Canada 2021; CALISTO), not a 'review the report'
    card for the DVT episode's 14 days (r38a F5). Not once an anticoagulant is on record: the decision is made."""
    scan = _superficial_scan(record)
    if scan is None or signals.on_anticoagulant(record) or signals.anticoagulated_lately(record):
        return None
    # the SVT evidence (CALISTO, Thrombosis Canada) is adults': a child's is paediatric haematology's (r41 S7)
    finding = Finding(SUSPECTED_DVT, "warning",
                      variant="scan-superficial-child" if signals.child(record) else "scan-superficial")
    finding.add([scan] + signals.superficial_thrombosis(record))
    finding.values["scan_date"] = scan.when.date().isoformat()
    finding.basis = [scan.evidence]
    _svt_renal(record, finding)
    return finding


def _one_leg(record: PatientRecord, features: list) -> list:
    """The features less a swelling or calf pain of both legs, read across entries (signals.one_sided, r39:
    Wells scores the swollen or tender leg against the other; bilateral oedema points elsewhere). Calf pain
    of both legs is still a painful leg beside a VTE risk: an adult's Wells ≥ 2 (_painful_leg_with_likely_wells),
    a child's risk on record (the child rule's own reading of both calves: r36a 090, scenario 1379)."""
    kept = signals.one_sided(record, features)
    if signals.child(record) and _child_vte_risk(record):
        return [f for f in features if f in kept or signals.CALF_PAIN in f.value_sets]
    return kept


def _child_vte_risks(record: PatientRecord) -> list[tuple[str, list]]:
    """Adolescent VTE: reduced mobility, thrombophilia, cancer, surgery and the combined pill are its
    commonest provoking factors (Biss et al., Arch Dis Child 2016; r36b 275): each found, by its phrase key."""
    found = (("surgery", signals.recent_surgery(record)), ("immobilised", signals.immobilised(record)),
             ("cancer", signals.cancer_on_record(record)), ("previous-vte", signals.previous_vte(record)),
             ("thrombophilia", record.current(THROMBOPHILIA)), ("hormones", record.current(HORMONES)))
    return [(key, facts) for key, facts in found if facts]


def _child_vte_risk(record: PatientRecord) -> list:
    return [f for _, facts in _child_vte_risks(record) for f in facts]


def _painful_leg_with_likely_wells(record: PatientRecord, closed_too: bool = False) -> list:
    """Leg or knee pain alone is too common to raise a DVT card, but NG158 1.1.1 asks about a "painful leg"
    (posterior knee pain can be a popliteal DVT's) and a record that already scores Wells 2 (active cancer,
    recent surgery, previous DVT...) makes DVT likely: then the pain is the feature, calf pain of both legs too
    (no one-leg feature of its own: _one_leg, r39). Not a knee's pain that a
    coded diagnosis of that knee explains, and not once a negative scan of that leg answered it: pain is no
    new objective sign, so pain recorded within the finding window after the scan re-opens nothing (r34a F5).
    Nor a chronic pain re-recorded: begun before the chronic-finding window (signals.new_findings, r36a)."""
    explained = _knee_explanations(record)
    pain = _unanswered(record, signals.new_findings(record, signals.LEG_PAIN) + signals.new_findings(
        record, signals.CALF_PAIN) + [f for f in signals.new_findings(record, signals.KNEE_PAIN)
                                      if not signals.on_the_same_leg(f, explained)], closed_too)
    if not pain or signals.child(record):
        return []
    score, unknown = wells_from_record(record)
    return pain if likely_if_cancer_active(record, score, unknown) else []


def explained_knee_pain_wells_likely(record: PatientRecord) -> tuple[list, list, Score, list] | None:
    """(the pain, its explanations, the Wells score from the record, its unknown items) when knee pain that a coded diagnosis of
    that knee explains (so no DVT card rests on it) stands beside a record that scores Wells 2, or would once
    a cancer on record is active: the knee diagnosis's card then says DVT is not excluded (r39 S5: osteoarthritis
    beside a previous DVT and an old cancer gave only 'exercise therapy'). Adults only, as the DVT reading."""
    explained = _knee_explanations(record)
    pain = _unanswered(record, [f for f in signals.new_findings(record, signals.KNEE_PAIN)
                                if signals.on_the_same_leg(f, explained)])
    if not pain or signals.child(record):
        return None
    score, unknown = wells_from_record(record)
    return (pain, explained, score, unknown) if likely_if_cancer_active(record, score, unknown) else None


def _unanswered(record: PatientRecord, pain: list, closed_too: bool = False) -> list:
    """The pain no negative leg-vein scan has answered (pain is no new objective sign: r34a F5)."""
    if closed_too:
        return pain
    objective = signals.OBJECTIVE_DVT_SIGNS
    return [f for f in signals.still_open(record, pain, signals.DVT_IMAGING, signals.DVT, objective)
            if not signals.after_negative_test(record, f, signals.DVT_IMAGING, signals.DVT, FINDING, objective)]


def _unexplained_by_calf_injury(record: PatientRecord, features: list) -> list:
    """The leg features without the calf pain that a coded calf muscle injury explains (r36a 094, as a coded
    knee diagnosis explains that knee's pain: r34a F5). NG158 1.1.1 asks to exclude other causes of a painful
    leg; a strain or tear with an inciting injury is the commonest (KB §2.3: venous duplex first if there is
    any calf swelling). Only calf pain on the injury's leg (its side, or the side unknown on either), the
    injury begun within the msk-injury window, and only while nothing points to a clot: no swelling of that
    leg within the finding window, no Wells item on record (cancer, paralysis, bed rest or surgery, previous
    DVT), no previous VTE or pregnancy, no fast pulse (over 100/min or coded; a child's for the age). A
    swollen calf or a VTE risk keeps the DVT card; the muscle-injury card says when to scan."""
    pain = [f for f in features if signals.CALF_PAIN in f.value_sets
            and not f.value_sets & (signals.OBJECTIVE_DVT_SIGNS | {signals.BAKERS_CYST_RUPTURED})]
    if not pain:
        return features
    injuries = [f for f in record.current(CALF_MUSCLE_INJURY)
                if (f.onset or f.when) is not None and not record.older_than(f, MSK_INJURY)]
    if not injuries or _clot_pointers(record):
        return features
    swollen = record.current(signals.LEG_SWELLING, FINDING)
    explained = [f for f in pain if signals.on_the_same_leg(f, injuries) and not signals.on_the_same_leg(f, swollen)]
    return [f for f in features if f not in explained]


def _clot_pointers(record: PatientRecord) -> list:
    """What keeps calf pain a DVT question beside a muscle injury: a Wells item on record, a current cancer
    however old (its activity unknown is still a VTE risk: r38a F4), a previous VTE,
    pregnancy or the puerperium, a fast pulse (a child's for the age), and the VTE risks the child rule reads
    (thrombophilia, current hormonal contraception or HRT: Biss et al., Arch Dis Child 2016). A strain does not
    explain away calf pain beside them (r38a S1: the muscle-injury card said no VTE risk was on record)."""
    score, _ = wells_from_record(record)
    pulse = signals.fast_pulse_for_age(record) if signals.child(record) else signals.tachycardia(record)
    return ([f for item in score.items for f in item.facts] + signals.cancer_on_record(record)
            + signals.previous_vte(record) + signals.pregnant_or_postpartum(record) + pulse
            + record.current(THROMBOPHILIA) + record.current(HORMONES))


def _scan_negative_wells_likely(record: PatientRecord) -> Finding | None:
    """NG158 1.1.3: with Wells likely, a negative proximal scan is followed by a D-dimer; if it is positive,
    the scan is repeated 6-8 days later. Only a negative D-dimer (or a refuted DVT) closes the question."""
    features = (signals.one_sided(record, signals.all_leg_dvt_features(record))
                or _painful_leg_with_likely_wells(record, closed_too=True))
    if not features or signals.child(record) or signals.pregnant_or_postpartum(record):
        return None
    windows = record.catalogue.window
    scans = [t for t in signals.closing_tests(record, features, signals.DVT_IMAGING, signals.DVT,
                                              signals.OBJECTIVE_DVT_SIGNS)
             if t.kind != "Condition" and t.when >= record.now - windows(REPEAT_SCAN)]  # newest first
    if not scans:
        return None
    first = scans[-1]  # the pathway's first negative scan: its dates, its D-dimer
    if any(t.when - first.when >= windows(REPEAT_COUNTS_FROM) for t in scans[:-1]):
        return None  # the repeat scan is done and negative too: DVT excluded (NG158 1.1.3)
    if any(t.kind == "Condition" and t.when >= first.when
           for t in record.negative_tests(signals.DVT_IMAGING, signals.DVT)):
        return None  # a clinician refuted the DVT after the scan
    score, unknown = wells_from_record(record)
    if not likely(record, score):
        return None
    # The D-dimer of this pathway is the one taken with its first scan (within the lab window before it: NG158
    # takes a D-dimer with interim anticoagulation when the scan is delayed) or after it, however long ago.
    d_dimer = latest_d_dimer(record, since=first.when - windows(LAB))
    if d_dimer is not None and d_dimer.positive is False:
        return None  # scan and D-dimer negative: DVT excluded for now (NG158 1.1.3)
    finding = Finding(SUSPECTED_DVT, "warning", variant="scan-negative-likely")
    finding.add(features + scans)
    finding.add(wells.evidence(record, score, unknown))
    finding.score, finding.unknown = score, unknown
    repeat_to = (first.when + windows(REPEAT_LATEST)).date()
    finding.values.update({"wells_score": score.total, "wells_highest": score.highest_possible,
                           "wells_from_record": Say(WELLS_SOME, score=score.total),
                           "repeat_from": (first.when + windows(REPEAT_EARLIEST)).date().isoformat(),
                           "repeat_to": repeat_to.isoformat()})
    if d_dimer is not None and d_dimer.positive:
        finding.add([d_dimer.fact])
        finding.values["d_dimer_reading"] = d_dimer.reading
        finding.variant = "repeat-scan"
    if record.now.date() > repeat_to:
        finding.notes.append(Say(NOTE_REPEAT_OVERDUE, repeat_to=repeat_to.isoformat()))
    finding.basis = [f.evidence for f in features]
    return finding


def _suspected(record: PatientRecord, features) -> Finding:
    pregnant = signals.pregnant_or_postpartum(record)
    if pregnant:
        finding = Finding(SUSPECTED_DVT_PREGNANCY, "warning")
        finding.add(features + pregnant)
    elif signals.child(record):
        risks = _child_vte_risks(record)
        risk = [f for _, facts in risks for f in facts]
        if not risk and not any(f.value_sets & CHILD_FIRES_ALONE for f in features):
            # Calf pain alone in a child is a strain or a growing pain far more often than a clot (paediatric
            # DVT comes with a line, surgery or a swollen leg: KB §8.1): no same-day ultrasound card on it without
            # a VTE risk on record or a pulse fast for the age that nothing else explains (r35a F7). Pain in
            # both calves is no one-leg clot (myositis, exertion, growing pains: r36a 090), whatever the pulse.
            # A clot coded by a clinician (a DVT suspected, a superficial thrombosis) is never passed over
            # (r40 S4: a 15-year-old's coded SVT raised nothing; a quarter of SVTs have a DVT).
            if _both_legs(features) or not _child_pulse_unexplained(record):
                return None
        # Wells and D-dimer are not validated under 18 (§8.1): no score, no D-dimer rule-out.
        finding = Finding(SUSPECTED_DVT, "warning", variant="child")
        finding.add(features + (risk or []) + signals.on_anticoagulant(record))
        unread = [f for f in record.studies(signals.DVT_IMAGING, FINDING) if not (f.negative and f.current)]
        if unread:
            # a scan already done and not read as negative: its report decides, not another scan (r42 S4: a
            # 13-year-old's SVT 1 cm from the junction got 'leg-vein ultrasound the same day')
            finding.variant = "child-scan-not-negative"
            finding.add(unread)
        if risk:
            # which risk made it a card is said, not only listed (r38a W3)
            finding.notes.append(Say(NOTE_CHILD_RISK, risks=[Say(CHILD_RISK[key]) for key, _ in risks]))
        fast = signals.fast_pulse_for_age(record)
        if fast:
            # A fast pulse alone is no PE feature in a child (crying, pain, fever: r34a F9), but it is not
            # passed over in silence either (r34b S9): PE features or sepsis make this an emergency.
            finding.add(fast)
            measured = [f for f in fast if f.quantity]
            finding.notes.append(Say(NOTE_CHILD_FAST_PULSE, rate=measured[0].quantity[0]) if measured
                                 else Say(NOTE_CHILD_TACHYCARDIA))
    else:
        finding = _suspected_dvt(record, features)
    _name_earlier_scan(record, finding, features)
    return finding


def _both_legs(features) -> bool:
    """Pain of both calves or legs: one coded on both sides, or one on each side (r36a 090)."""
    sides = {signals.side(f) for f in features}
    return "both" in sides or {"left", "right"} <= sides


def _child_pulse_unexplained(record: PatientRecord) -> list:
    """A child's pulse fast for the age (signals.fast_pulse_for_age) that a fever or a coded sepsis does not
    explain: the adult rule's reading (§5.10, r35b 279: a fever explains a pulse of 100-130 beside leg
    features without a strong VTE risk, not one at the immediate-admission level) with the child's
    thresholds (KB §8.1). From 12 the adult tiers: a fever explains HR > 100, not > 130 (NG51's high-risk
    value for 12 and over). Under 12 the rule reads only NG51's high-risk rate for the age, the tier KB §8.1
    puts in place of both adult triggers; a fever explains it as a clot's sign (7 years, 38.6 °C, HR 125 is
    the fever's pulse: r36a 090). What a fever and that pulse mean for sepsis is NG51's question, not this
    card's."""
    fast = signals.fast_pulse_for_age(record)
    if not fast or not (signals.fever(record) or signals.coded_sepsis(record)):
        return fast
    return signals.very_fast_heart_rate(record) if signals.adult_physiology(record) else []


def _name_earlier_scan(record: PatientRecord, finding: Finding, features) -> None:
    """A card re-opened after a negative leg-vein scan of that leg names the scan and its date (r34a F6, as
    the PE card names its CTPA): the clinician compares with it rather than reads a first presentation."""
    scans = [t for f in features
             for t in signals.after_negative_test(record, f, signals.DVT_IMAGING, signals.DVT, signals.LEG_CONTEXT)
             if t.kind != "Condition"]
    if scans:
        scan = max(scans, key=lambda t: t.when)
        finding.add([scan])
        finding.notes.append(Say(NOTE_EARLIER_SCAN, scan_date=scan.when.date().isoformat()))
        return
    # Findings with no side recorded stay open beside a one-sided negative scan (it answers only for its
    # leg, KB §8.7), but a card silent about that scan reads as a first presentation (r38a F5): name it, so
    # the side is recorded or the other leg scanned rather than the same leg re-scanned.
    unsided = [f for f in features if signals.side(f) is None and f.when is not None]
    one_sided = [t for t in record.negative_tests(signals.DVT_IMAGING, signals.DVT)
                 if t.kind != "Condition" and signals.side(t) in ("left", "right")
                 and any(abs(t.when - f.when) <= record.catalogue.window(FINDING) for f in unsided)]
    if one_sided:
        scan = max(one_sided, key=lambda t: t.when)
        finding.add([scan])
        finding.notes.append(Say(NOTE_ONE_SIDED_SCAN, scan_date=scan.when.date().isoformat(),
                                 scan_side=Say(SIDE_WORDS[signals.side(scan)])))


def _known_dvt(record: PatientRecord, known, began=None, untreated: str = "untreated", also=()) -> Finding | None:
    finding = _known_dvt_card(record, known, began, untreated, also)
    if finding:
        finding.basis = [f.evidence for f in known]  # the clot (a known-PE card names it: giveWay)
    return finding


def _known_dvt_card(record: PatientRecord, known, began, untreated: str, also) -> Finding | None:
    # The long-term-use code counts as anticoagulation (a DVT begun after it is a treatment failure), unless
    # a course on record ended after it was recorded (signals.on_anticoagulant).
    treatment = signals.on_anticoagulant(record)
    if not treatment:
        # An order held or not to be given is named, with its words: the reason (a bleed, an INR of 6.2)
        # decides what to start, and 'no anticoagulant found' beside it would be false (r32 S2, W5)
        held = signals.held_anticoagulants(record)
        variant = "held" if held and untreated == "untreated" else untreated
        if variant == "untreated" and signals.anticoagulation_unknown(record):
            variant = "untreated-unknown"  # orders unread: not 'no anticoagulant found' (r34b W2)
        finding = Finding(KNOWN_DVT, "warning", variant=variant)
        choice, facts = signals.anticoagulant_choice(record)
        finding.add(known + list(also) + held + facts)
        finding.values["anticoagulant_choice"] = choice
        return finding
    began = began or signals.began(known)
    margin = record.catalogue.window(NEW_FEATURES)
    full = signals.full_strength(treatment)
    if not full and (began is None or began >= record.now - record.catalogue.window(TREATMENT_PHASE)):
        # Only a prophylaxis-strength anticoagulant (enoxaparin 40 mg, apixaban 2.5 mg...) in the treatment
        # phase: not this clot's treatment until a treatment dose is confirmed (KB §8.3); a DVT begun on it
        # is a DVT on prophylaxis, not a failure of treatment (§8.2).
        finding = Finding(KNOWN_DVT, "warning", variant="prophylactic-dose")
        choice, facts = signals.anticoagulant_choice(record)
        finding.add(known + list(also) + treatment + facts)
        finding.values["anticoagulant_choice"] = choice
        return finding
    finding = _treated_dvt_card(record, known, began, also, treatment, full, margin)
    return _with_conflicts(record, finding, known, also, treatment, full)


def _with_conflicts(record: PatientRecord, finding: Finding | None, known, also, treatment, full) -> Finding | None:
    """An anticoagulant that should not be used in this patient (pregnancy, antiphospholipid syndrome, an eGFR
    below the drug's cut-off: signals.anticoagulant_conflicts) is no treated clot to stay quiet about (r38b S3:
    apixaban in pregnancy silenced the card). A treated card becomes the warning naming it; a warning already
    raised (treatment failure, new features) names it in a note."""
    conflicts = signals.anticoagulant_conflicts(record, full)
    if not conflicts:
        return finding
    lines = signals.conflict_lines(record, conflicts)
    if finding is None or finding.indicator == "info":
        finding = Finding(KNOWN_DVT, "warning", variant="anticoagulant-conflict")
        finding.add(known + list(also) + treatment)
        finding.values["anticoagulant_conflict"] = lines
        finding.values["anticoagulant_switch"] = signals.conflict_switch(record, conflicts)
    else:
        finding.notes.append(Say(NOTE_CONFLICT, conflicts=lines))
    finding.add([f for _, _, facts in conflicts for f in facts])
    return finding


def _treated_dvt_card(record: PatientRecord, known, began, also, treatment, full, margin) -> Finding | None:
    """A known DVT on a full-strength anticoagulant (or an older one on a reduced dose): treatment failure,
    new features (suspected extension), a leg complaint (info), or nothing to act on."""
    # An order, a statement, or the long-term-use code recorded before the clot began (Z79.01: on an
    # anticoagulant for AF when the DVT came): treatment failure or non-adherence to be found out (KB §8.2).
    started = [f for f in full if f.kind in ("MedicationRequest", "MedicationStatement", "Condition") and f.when]
    if began and started and not any(signals.begun_for(record, f, began) for f in started):
        # The clot began after the anticoagulant was ordered: treatment failure, not a treated DVT.
        finding = Finding(KNOWN_DVT, "warning", variant="treatment-failure")
        finding.add(known + list(also) + treatment)
        return finding
    # Swelling of a leg with a coded post-thrombotic syndrome is that syndrome's, not an extension (r34a F8)
    chronic = record.current(POST_THROMBOTIC)
    # Only an objective sign that began after the clot is news on treatment: calf pain is expected for weeks,
    # and one whose onset came before the clot is the presenting pain recorded late (r35a F5)
    newer = [f for f in signals.leg_dvt_features(record)
             if began and f.when and _began_after(record, f, known, began, margin) and _new_kind(record, f, began + margin)
             and f.value_sets & signals.OBJECTIVE_DVT_SIGNS
             and not (signals.LEG_SWELLING in f.value_sets and signals.on_the_same_leg(f, chronic))]
    if newer:
        finding = Finding(KNOWN_DVT, "warning", variant="treated-new-features")
        finding.add(known + treatment + newer)
        return finding
    complaint = signals.leg_dvt_features(record) + signals.recent_leg_or_knee_pain(record)
    if not complaint:
        return None  # a treated clot and no leg complaint now: nothing to act on at this chart opening
    finding = Finding(KNOWN_DVT, "info", variant="treated")
    finding.add(known + treatment + complaint)
    return finding


def _began_after(record: PatientRecord, feature, known, began, margin) -> bool:
    """The leg feature began after the clot (by more than the margin): its recorded onset says so. Without an
    onset its recorded date stands in, except for a swelling of the clot's own leg (its side, or the side
    unknown on either) recorded within the treatment phase: the clot's swelling, expected for weeks, charted
    again at follow-up. Nothing shows it new, and the same swelling with its onset recorded is not new either
    (r36a 082 vs 081: the data form decided the urgency). A swelling of the other leg, or one whose recorded
    onset came after the clot (KB §1.8: new swelling despite anticoagulation), is still new."""
    if feature.onset is not None:
        return feature.onset > began + margin
    if (signals.LEG_SWELLING in feature.value_sets and signals.on_the_same_leg(feature, known)
            and feature.when <= began + record.catalogue.window(TREATMENT_PHASE)):
        return False
    return feature.when > began + margin


def _knee_explanations(record: PatientRecord) -> list:
    """Coded explanations of a knee's pain: osteoarthritis, an injury or derangement of the knee begun within
    the msk-injury window, a knee replacement within 12 weeks (r34a F5)."""
    injuries = [f for vs in KNEE_INJURY for f in record.current(vs) if (f.onset or f.when) is not None
                and not record.older_than(f, MSK_INJURY)]
    return ([f for vs in KNEE_DISEASE for f in record.current(vs)] + injuries
            + record.procedures(KNEE_REPLACEMENT, SURGERY))


def _new_kind(record: PatientRecord, feature, by) -> bool:
    """A leg feature is new (suspected extension, §1.8) unless the same kind, on the same or an unknown
    side, was already recorded by the time the DVT was diagnosed: swelling re-recorded at follow-up is the
    same swelling."""
    here = signals.side(feature)
    since = by - record.catalogue.window(FINDING) - record.catalogue.window(NEW_FEATURES)
    return not signals.same_kind_recorded(record, feature, since, by,
                                          lambda f: here is None or signals.side(f) in (None, here, "both"))


def _suspected_dvt(record: PatientRecord, features) -> Finding:
    finding = Finding(SUSPECTED_DVT, "warning")
    finding.add(features)
    score, unknown = wells_from_record(record)
    finding.add(wells.evidence(record, score, unknown))
    finding.score = score
    finding.values.update({
        "wells_score": score.total,
        "wells_highest": score.highest_possible,
        "cutoff": cutoff_for(record),
        "cutoff_basis": Say(BASIS_AGE_ADJUSTED if age_adjusted(record) else BASIS_STANDARD),
        "wells_from_record": Say(WELLS_SOME, score=score.total) if score.items else Say(WELLS_NONE),
    })
    finding.unknown = unknown
    unread = [f for study in (signals.DVT_IMAGING, signals.PE_IMAGING) for f in record.studies(study, FINDING)
              if not (f.negative and f.current)]
    lately = signals.anticoagulated_lately(record)
    held = signals.full_strength([f for f in signals.held_anticoagulants(record) if f.held != "not-started"])
    if unread:
        # A scan is on record but not read as negative (mixed, limited, preliminary, a distal or superficial
        # clot): its report decides, never a D-dimer rule-out after it (KB §8.7).
        finding.add(unread)
        finding.variant = "scan-not-negative"
        # the question is the report now, not the score: no Wells or bedside list pushing it out of a narrow
        # side panel (r40 W11)
        finding.score, finding.unknown = None, []
    elif (prophylaxis := signals.on_prophylaxis_only(record)) and not held:
        # A prophylactic dose only (enoxaparin 40 mg after a knee replacement), named 'prophylaxis' or not:
        # imaging first, but a DVT on it is no treatment failure (KB §8.2-§8.3; r34a W2)
        finding.add(prophylaxis)
        finding.variant = "on-prophylaxis"
    elif signals.on_anticoagulant(record) or lately or held:
        finding.variant = "on-anticoagulant"  # a D-dimer cannot rule DVT out on anticoagulation (KB §8.2)
        if lately:  # a course that ended within 48 h still lowers the D-dimer (r32 S2)
            finding.add(lately)
            finding.notes.append(Say(NOTE_STOPPED_LATELY))
        if held and not signals.on_anticoagulant(record):
            # held tonight for an INR of 6.2, or 'do not give' since this morning: still anticoagulated (r32 S2)
            finding.add(held)
            finding.notes.append(Say(NOTE_HELD))
    elif likely(record, score):
        finding.variant = "likely"
        # A positive D-dimer for this presentation already on record: the next step is the scan it calls for,
        # not the D-dimer the 'likely' card would ask for again (NICE NG158 1.1.3-1.1.4; r36b 339).
        d_dimer = latest_d_dimer(record, since=_presentation_began(record, features))
        if d_dimer is not None and d_dimer.positive:
            finding.add([d_dimer.fact])
            finding.values["d_dimer_reading"] = d_dimer.reading
            finding.variant = "likely-d-dimer-positive"
    elif any(signals.SUPERFICIAL_THROMBOSIS in f.value_sets for f in features):
        # a D-dimer cannot tell an SVT from a DVT, and a quarter of SVTs have one: the duplex decides (r36b 337)
        finding.variant = "superficial-thrombosis"
    elif any(signals.DVT in f.value_sets for f in features):
        finding.variant = "coded-unconfirmed"  # a clinician coded a clot: scan it, never rule it out by D-dimer
        # The code may be a confirmed clot whose status was never recorded: then it is untreated (r39 W4)
        choice, facts = signals.anticoagulant_choice(record)
        finding.add(facts)
        finding.values["anticoagulant_choice"] = choice
    elif record.current(BAKERS_CYST) or record.current(signals.BAKERS_CYST_RUPTURED):
        # KB §1.7 rule 2: a ruptured cyst mimics DVT and a cyst can coexist with one; the duplex images both,
        # so it is the first test, not a D-dimer (r42 W10)
        finding.variant = "bakers-cyst"
    elif signals.recent_surgery(record):
        finding.variant = "recent-surgery"  # surgery raises D-dimer: imaging first
    elif pe_excluded := [t for t in record.negative_tests(signals.PE_IMAGING, signals.PE)
                         if record.catalogue.window(FINDING) >= record.now - t.when]:
        # NG158: a negative CTPA with DVT suspected → proximal leg-vein ultrasound (no D-dimer first).
        finding.add(pe_excluded[:1])
        finding.variant = "ctpa-negative"
    else:
        d_dimer = latest_d_dimer(record, since=_presentation_began(record, features))
        if d_dimer is None:
            finding.variant = "unlikely"
        else:
            finding.add([d_dimer.fact])
            finding.values["d_dimer_reading"] = d_dimer.reading
            finding.variant = {True: "d-dimer-positive", False: "d-dimer-negative", None: "d-dimer-unread"}[
                d_dimer.positive]
    _add_notes(record, finding)
    return finding


def _presentation_began(record: PatientRecord, features) -> object:
    """The earliest moment a D-dimer can answer for these leg findings: not before the first of them began
    (a recorded onset), or shortly before it was recorded (no onset), and within the lab window."""
    windows = record.catalogue.window
    starts = [f.onset if f.onset else f.when - windows(D_DIMER_BEFORE) for f in features if f.onset or f.when]
    return max([record.now - windows(LAB)] + ([min(starts)] if starts else []))


def _svt_renal(record: PatientRecord, finding: Finding) -> None:
    """An SVT's drugs are renally cleared: fondaparinux is contraindicated below a creatinine clearance of
    20 mL/min (EMA SmPC), LMWH needs its dose adjusted (r40 S7: eGFR 12 beside 'fondaparinux 2.5 mg daily')."""
    renal = signals.renal_failure(record) + signals.renal_impairment(record)
    if renal:
        finding.add(renal)
        finding.notes.append(Say(NOTE_SUPERFICIAL_RENAL))


def _add_notes(record: PatientRecord, finding: Finding) -> None:
    superficial = signals.superficial_thrombosis(record)
    if finding.variant != "superficial-thrombosis" and (superficial or _superficial_scan(record)):
        # a stronger variant leads, but the SVT still needs its own treatment once a DVT is excluded (r38a W1)
        finding.add(superficial)
        finding.notes.append(Say(NOTE_SUPERFICIAL))
    if finding.variant == "superficial-thrombosis" or Say(NOTE_SUPERFICIAL) in finding.notes:
        _svt_renal(record, finding)
    cysts = record.current(BAKERS_CYST) + record.current(signals.BAKERS_CYST_RUPTURED)
    if cysts:
        finding.add(cysts)
        finding.notes.append(Say(NOTE_BAKERS_CYST))
    fast = signals.tachycardia(record)
    if fast:
        finding.add(fast)
        finding.notes.append(Say(NOTE_TACHYCARDIA, threshold=record.threshold(signals.TACHYCARDIA)))
    if signals.on_anticoagulant(record) and finding.variant != "on-prophylaxis":  # that card says so itself
        finding.notes.append(Say(NOTE_ANTICOAGULANT))
    if signals.recent_surgery(record):
        finding.notes.append(Say(NOTE_SURGERY))
