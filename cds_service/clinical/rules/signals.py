"""Clinical signals several rules share (clinical-knowledge.md Appendix A), each returning its evidence.
Thresholds are the catalogue's (cards/catalogue.json), with their sources: PE Wells HR > 100, PERC SpO₂ < 95 %
and RR > 20, fever ≥ 38.0 °C, REMEDY/CKS immediate admission HR > 130."""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from ...content.catalogue import Name, measurement, phrase, threshold, value_set, window
from ...record.facts import Fact, PatientRecord
from .finding import Say

FINDING, PREGNANCY_WINDOW, POSTPARTUM_WINDOW, ACUTE_DVT = (
    window("finding"), window("pregnancy"), window("postpartum"), window("acute-dvt"))
CHRONIC = window("chronic-finding")  # a recorded onset further back: a chronic finding re-recorded (r36a)
LEG_SWELLING, CALF_PAIN, LEG_PAIN, KNEE_PAIN = (
    value_set("leg-swelling"), value_set("calf-pain"), value_set("leg-pain"), value_set("knee-pain"))
BAKERS_CYST_RUPTURED, DVT, PE, VTE_HISTORY = (
    value_set("bakers-cyst-ruptured"), value_set("dvt-lower-limb"), value_set("pulmonary-embolism"),
    value_set("vte-history"))
ANTICOAGULANTS, LONG_TERM_ANTICOAGULANT = value_set("anticoagulants"), value_set("long-term-anticoagulant-use")
PROPHYLACTIC_STRENGTH = value_set("prophylactic-strength-anticoagulant")
ADMINISTRATION = window("administration")  # how long a dose, or a course's end, still anticoagulates
PREGNANCY, POSTPARTUM = value_set("pregnancy"), value_set("postpartum")
PREGNANCY_ENDED = value_set("pregnancy-ended")  # a loss or termination: ends the pregnancy recorded before it
PREGNANCY_STATUS = value_set("pregnancy-status-observation")  # read through its value, coded "pregnant"
PREGNANCY_TEST, POSITIVE_RESULT = value_set("pregnancy-test-observation"), value_set("positive-result")
PE_FEATURES = tuple(value_set(key) for key in
                    ("dyspnoea", "pleuritic-chest-pain", "haemoptysis", "syncope", "hypoxaemia", "tachypnoea"))
# The oxygen an SpO2 was taken on (US Core's 3151-8), a component or its own Observation: above 0, an oxygen need.
OXYGEN_FLOW, OXYGEN_NEED = measurement("inhaled-oxygen-flow"), threshold("oxygen-flow")
FIO2, FIO2_NEED = measurement("inhaled-oxygen-concentration"), threshold("oxygen-concentration")
TACHYCARDIA_CODED, FEVER_CODED, SEPSIS_CODED = value_set("tachycardia"), value_set("fever"), value_set("sepsis")
RESIDUAL_PE_SYMPTOMS = frozenset({value_set("dyspnoea"), value_set("pleuritic-chest-pain")})  # for weeks after a PE
ACTIVE_CANCER, IMMOBILISATION, MAJOR_SURGERY = (
    value_set("active-cancer"), value_set("immobilisation"), value_set("major-surgery"))
CANCER_TREATMENT, CANCER_ACTIVE = value_set("cancer-treatment"), window("cancer-active")
SURGERY = window("surgery")
HEART_RATE, RESPIRATORY_RATE, OXYGEN_SATURATION, TEMPERATURE = (
    measurement("heart-rate"), measurement("respiratory-rate"), measurement("oxygen-saturation"),
    measurement("body-temperature"))
TACHYCARDIA, TACHYPNOEA, HYPOXAEMIA, FEVER, ADMISSION_HEART_RATE = (
    threshold("tachycardia"), threshold("tachypnoea"), threshold("hypoxaemia"), threshold("fever"),
    threshold("admission-heart-rate"))
APS, SEVERE_RENAL = value_set("antiphospholipid-syndrome"), value_set("severe-renal-impairment")
RENAL_FAILURE, RENAL_IMPAIRMENT_EGFR = value_set("renal-failure-established"), threshold("renal-impairment-egfr")
BREASTFEEDING, BREASTFEEDING_WINDOW = value_set("breastfeeding"), window("breastfeeding")
EGFR, SEVERE_RENAL_EGFR = measurement("egfr"), threshold("severe-renal-egfr")
# eGFR as laboratories write it: per 1.73 m² (UCUM), or plain mL/min on a code that is per 1.73 m² by definition.
EGFR_UNITS = frozenset({"mL/min/{1.73_m2}", "mL/min"})
ANTICOAGULANT_CHOICE = {key: phrase("common", f"anticoagulant-choice.{key}")
                        for key in ("default", "default-may-be-pregnant", "pregnancy", "child", "aps", "renal", "breastfeeding")}
# What the leading advice does not cover, added to it (r41 S4, S5)
ANTICOAGULANT_ALSO = {key: phrase("common", f"anticoagulant-choice.also-{key}") for key in ("aps", "renal")}
CHOICE_WITH = phrase("common", "anticoagulant-choice.with")
PREGNANCY_POSSIBLE_AGE = threshold("pregnancy-possible-age")
ADULT_AGE, ADULT_PHYSIOLOGY_AGE = threshold("adult-age"), threshold("adult-physiology-age")
IMMOBILISATION_WINDOW, LEG_CONTEXT = window("immobilisation"), window("leg-context")
DVT_UPPER_LIMB = value_set("dvt-upper-limb")
PROSTHETIC_INFECTION, PROSTHETIC_COURSE = value_set("prosthetic-knee-infection"), window("prosthetic-infection-course")
DVT_IMAGING, PE_IMAGING = value_set("dvt-imaging"), value_set("pe-imaging")
SYSTEMIC_OEDEMA = value_set("systemic-oedema-cause")
LEFT, RIGHT, BILATERAL = value_set("left-site"), value_set("right-site"), value_set("bilateral-site")
SIDES = frozenset({LEFT, RIGHT, BILATERAL})
LOWER_LIMB = value_set("lower-limb-site")
PLACES = SIDES | {LOWER_LIMB}  # where a finding is, not what it is
EPISODE, TREATMENT_PHASE, NEW_FEATURES = (
    window("negative-test-episode"), window("treatment-phase"), window("dvt-new-features"))
SYSTOLIC = measurement("systolic-blood-pressure")
ADMISSION_SYSTOLIC = threshold("admission-systolic-pressure")  # REMEDY/CKS; PALS's limit for a child stops there
SEPSIS_HEART_RATE, SEPSIS_RESPIRATORY_RATE, SEPSIS_SYSTOLIC, SEPSIS_OXYGEN = (
    threshold("sepsis-heart-rate"), threshold("sepsis-respiratory-rate"), threshold("sepsis-systolic-pressure"),
    threshold("sepsis-oxygen-concentration"))
KNEE_PROSTHESIS = value_set("knee-prosthesis")
ANEURYSM, ANEURYSM_REPAIR = value_set("popliteal-artery-aneurysm"), value_set("popliteal-aneurysm-repair")
SUPERFICIAL_THROMBOSIS = value_set("superficial-thrombophlebitis")


# The leg DVT features a clinician sees or measures (swelling, 'calf 3 cm bigger', a clot coded as suspected):
# after a negative leg-vein scan, only a new one of these re-opens the question within its episode (r34a F6).
OBJECTIVE_DVT_SIGNS = frozenset({LEG_SWELLING, DVT})


def new_findings(record: PatientRecord, value_set, within=FINDING) -> list[Fact]:
    """Current findings in the value set dated inside the window, but not one whose recorded onset lies before
    the chronic-finding window (and the rule's own): the acute-feature rules read a chronic finding
    re-recorded at a routine visit — a venous swelling since 2023, a lung cancer's breathlessness of 6
    months, coded again today — as the chronic finding it is, not as new (r36a 006, 007, 012; catalogue
    "chronic-finding"). An entry with no onset is dated by its recordedDate, as before."""
    return [f for f in record.current(value_set, within) if not record.began_long_ago(f, CHRONIC, within)]


def chronic_findings(record: PatientRecord, facts: list[Fact], within=FINDING) -> list[Fact]:
    """Those of the facts whose recorded onset lies before the chronic-finding window (and `within`)."""
    return [f for f in facts if record.began_long_ago(f, CHRONIC, within)]


def leg_dvt_features(record: PatientRecord, within=FINDING) -> list[Fact]:
    """Recent swelling of one leg (not a coded mass), calf pain, a ruptured Baker's cyst (treated as DVT
    until a duplex scan excludes it: clinical-knowledge.md §1.7, §2.3), or a DVT coded as suspected —
    recently, or undated (an active "?DVT" the EHR gives no date must not vanish) — that no negative
    leg-vein scan or refuted DVT has closed (still_open, with the objective signs that re-open it)."""
    return still_open(record, all_leg_dvt_features(record, within), DVT_IMAGING, DVT, OBJECTIVE_DVT_SIGNS)


def all_leg_dvt_features(record: PatientRecord, within=FINDING) -> list[Fact]:
    """The leg DVT features, closed or not. Beside a current cause of both-leg oedema (heart failure,
    nephrotic syndrome, fluid overload), leg swelling recorded without a side is that oedema (KB §8.8 rule 3).
    A swelling, calf pain or ruptured cyst begun before the chronic-finding window is chronic, whatever its
    recordedDate (new_findings: r36a 006, 007); a clot coded as suspected is the clinician's question now."""
    return (_leg_signs(record, within)
            + [f for f in record.current(DVT, within, undated=True) if not diagnosed(record, f)])


def _leg_signs(record: PatientRecord, within=FINDING) -> list[Fact]:
    """The leg DVT features short of a clot coded: swelling, calf pain, a ruptured cyst, a superficial clot."""
    swelling = new_findings(record, LEG_SWELLING, within)
    if swelling and record.current(SYSTEMIC_OEDEMA):
        swelling = [f for f in swelling if side(f) is not None]
    return (swelling + new_findings(record, CALF_PAIN, within)
            + new_findings(record, BAKERS_CYST_RUPTURED, within) + superficial_thrombosis(record, within))


# The DVT features a side is read across entries for (r39): one leg swollen or tender against the other.
BILATERAL_KINDS = frozenset({LEG_SWELLING, CALF_PAIN})
ONE_SIDE_NEWER = window("one-side-newer")


def one_sided(record: PatientRecord, features: list[Fact]) -> list[Fact]:
    """The features less those of both legs. The Wells DVT items are one leg's ("entire leg swollen", "calf
    swelling > 3 cm compared with the asymptomatic side", NICE NG158 1.1.1; KB Appendix A) and bilateral oedema
    points elsewhere (KB §8.8 rule 3), so the side of a swelling or calf pain is read across the entries of
    its kind among `features`, not entry by entry: a kind recorded on both sides — one entry of both legs
    (51440002 on a calf pain), or entries of the left and of the right (R22.41 + R22.42, R60.0 on each calf)
    — is of both legs, as a single bilateral swelling is (R22.43 or 51440002 take it out of leg-swelling:
    catalogue siteRules). An entry with no side stays a feature. Still one leg's (a red flag kept): an entry
    of one side with no entry of the other side begun within the one-side-newer window of it — that leg newly
    swollen or painful alone, worse than its fellow, or the first leg of a sequential swelling (r39 S1)."""
    return [f for f in features if not _of_both_legs(record, f, features)]


def _of_both_legs(record: PatientRecord, finding: Fact, features: list[Fact]) -> bool:
    kind = finding.value_sets & BILATERAL_KINDS
    where = side(finding)
    if not kind or where is None:
        return False
    if where == "both":
        return True
    other = "left" if where == "right" else "right"
    theirs = _starts(features, kind, other)
    began = finding.onset or finding.when
    if not theirs or began is None:
        return False
    margin = record.catalogue.window(ONE_SIDE_NEWER)
    # Both legs at once (entries of one visit, within the margin of each other) is the bilateral picture; a leg
    # that began alone, days before or after the other (R swollen 4 days, then L), was one leg's until then and
    # sequential swelling is bilateral or iliocaval DVT until excluded (NG158 1.1.1; r39 S1). Each entry is read
    # against the other leg's entries begun near it.
    return any(abs(t - began) <= margin for t in theirs)


def _starts(features: list[Fact], kind, where: str) -> list:
    """When the entries of this kind on this leg (or of both legs) began: onset, else recorded date."""
    return [f.onset or f.when for f in features
            if f.value_sets & kind and side(f) in (where, "both") and (f.onset or f.when)]


def superficial_thrombosis(record: PatientRecord, within=FINDING) -> list[Fact]:
    """A recent superficial vein thrombosis of the leg (r36b 337). About a quarter of people with one have a DVT
    too and a D-dimer cannot tell them apart (Thrombosis Canada 2021; NICE CKS), so it is a leg feature that
    asks for a duplex. Its ICD-10-CM codes name the leg (lower-limb-site holds them); the SNOMED CT concept
    names no site, so it counts only with a leg bodySite."""
    return [f for f in new_findings(record, SUPERFICIAL_THROMBOSIS, within) if LOWER_LIMB in f.value_sets]


def still_open(record: PatientRecord, findings: list[Fact], study, clot, objective=frozenset()) -> list[Fact]:
    """The findings no negative test has closed (KB §8.6-§8.7). A final negative study of `study` (on the
    finding's side, or unsided, or both sides) or a refuted `clot` closes every finding recorded up to it
    (undated ones too: the test answered the question they raised); for the catalogue's episode window after
    it, a finding closes too when its kind was already recorded before the test (the same swelling
    re-recorded, the pulse re-measured), so only a new kind of finding re-opens the suspicion; later, any
    finding does. A new kind whose recorded onset is after the test re-opens it (r38b S5: the scan could not
    have answered a pain that began after it). Otherwise, with `objective` value sets, a new kind re-opens it
    within the episode only beside a new objective sign among `findings` (one of those sets, itself of a kind
    not recorded before the test): calf pain coded the day after a negative scan for swelling, with no onset,
    or the ruptured Baker's cyst coded from the negative report itself, is the same presentation coded late
    (r34a F6)."""
    tests = record.negative_tests(study, clot)
    if not tests:
        return findings
    return [f for f in findings if not any(_closes(record, test, f, findings, objective) for test in tests)]


def closing_tests(record: PatientRecord, findings: list[Fact], study, clot, objective=frozenset()) -> list[Fact]:
    """The negative tests that closed any of these findings, newest first."""
    return [t for t in record.negative_tests(study, clot)
            if any(_closes(record, t, f, findings, objective) for f in findings)]


def _closes(record: PatientRecord, test: Fact, finding: Fact, findings=(), objective=frozenset()) -> bool:
    began = finding.onset or finding.when  # coded after the scan, but begun before it: what it answered
    if not (_covers(test, finding) or _coded_late(test, finding, objective, began)):
        return False
    if began is None or began <= test.when:
        return True
    if finding.when > test.when + record.catalogue.window(EPISODE):
        return False
    if finding.quantity is not None and finding.kind == "Observation":
        # A vital sign re-measured within the episode (the readings before the test may have left their
        # 24-hour window): still the same episode unless it reaches the immediate-admission level.
        return not _admission_level_reading(record, finding)
    if _not_new(record, test, finding):
        return True
    if finding.onset is not None and finding.onset > test.when:
        return False  # its recorded onset is after the test: not what the test answered (r38b S5)
    return bool(objective) and not any(f.value_sets & objective and _new_since(record, test, f) for f in findings)


def _coded_late(test: Fact, finding: Fact, objective, began) -> bool:
    """With objective signs to tell, a finding with no side that is none of them, begun from a one-sided scan
    on, is read with the scanned leg: the ruptured Baker's cyst of a right duplex's report coded without a
    side (r34a F6). Before the scan, or an objective sign with no side, it still needs an unsided scan."""
    return (bool(objective) and side(finding) is None and not finding.value_sets & objective
            and began is not None and began >= test.when)


def _not_new(record: PatientRecord, test: Fact, finding: Fact) -> bool:
    """The finding's kind was recorded (on the test's side) before the test: the same finding again."""
    since = test.when - record.catalogue.window(LEG_CONTEXT)
    return same_kind_recorded(record, finding, since, test.when, lambda f: _covers(test, f))


def _new_since(record: PatientRecord, test: Fact, finding: Fact) -> bool:
    """A finding on the test's side begun after it, within its episode, of a kind not recorded before it."""
    began = finding.onset or finding.when
    return (_covers(test, finding) and began is not None and began > test.when
            and finding.when <= test.when + record.catalogue.window(EPISODE) and not _not_new(record, test, finding))


def after_negative_test(record: PatientRecord, fact: Fact, study, clot, within, objective=frozenset()) -> list[Fact]:
    """The negative tests of the fact's side (or unsided; or, with `objective`, any one-sided test when the
    fact has no side and is none of those signs: _coded_late) that it was recorded after, within `within`."""
    if fact.when is None:
        return []
    span = record.catalogue.window(within)
    return [t for t in record.negative_tests(study, clot) if t.when < fact.when <= t.when + span
            and (_covers(t, fact) or _coded_late(t, fact, objective, fact.when))]


def same_kind_recorded(record: PatientRecord, finding: Fact, since, until, where) -> bool:
    """Another fact of the finding's kind (its value sets, sides and sites aside), not a negative test, dated
    from `since` to `until` and accepted by `where` (a side check): the finding is not new."""
    kind = finding.value_sets - PLACES
    return any(f is not finding and not f.negative and f.when is not None and since <= f.when <= until
               and (f.value_sets - PLACES) & kind and where(f) for f in record.facts)


def began(facts: list[Fact]):
    """When the earliest of these problems began (onset, else first recorded); None if none is dated."""
    return min((f.onset or f.when for f in facts if (f.onset or f.when)), default=None)


ADMISSION_TEMPERATURE = threshold("admission-temperature")
# REMEDY/CKS immediate-admission thresholds of the vital signs: (measurement, threshold, above it?).
ADMISSION_LEVEL = ((HEART_RATE, threshold("admission-heart-rate"), True),
                   (RESPIRATORY_RATE, threshold("admission-respiratory-rate"), True),
                   (OXYGEN_SATURATION, threshold("admission-oxygen-saturation"), False),
                   (SYSTOLIC, ADMISSION_SYSTOLIC, False))
# What re-opens a PE suspicion a negative CTPA closed: those, or an oxygen need measured after it (any flow,
# FiO2 above air): the saturation oxygen buys hides what it would be on air (r27 review S12: SpO2 93 % on
# 15 L/min after a negative CTPA read as the leg-scan pathway). Not an admission criterion in itself: REMEDY
# lists SpO2 < 91 %, not oxygen given.
REOPEN_LEVEL = ADMISSION_LEVEL + ((OXYGEN_FLOW, OXYGEN_NEED, True), (FIO2, FIO2_NEED, True))


def too_cold(record: PatientRecord) -> list[Fact]:
    """The coldest temperature in its window, if below the REMEDY/CKS immediate-admission threshold."""
    low = record.threshold(ADMISSION_TEMPERATURE)
    return worst(record, TEMPERATURE, lambda c: c < low, reading=celsius, highest=False)


def at_admission_level(record: PatientRecord, measurements, after=None) -> list[Fact]:
    """The worst readings of these measurements past their immediate-admission threshold (taken after
    `after`, when given)."""
    found = []
    for measured, limit, high in ADMISSION_LEVEL:
        if measured in measurements:
            found += (above if high else below)(record, measured, limit, after)
    return found


def _admission_level_reading(record: PatientRecord, fact: Fact) -> bool:
    """The reading is past the REMEDY/CKS immediate-admission threshold of its measurement, or is an
    oxygen need (REOPEN_LEVEL)."""
    value = fact.quantity[0]
    for measured, limit, above_it in REOPEN_LEVEL:
        if measured in fact.value_sets:
            level = record.threshold(limit)
            return value > level if above_it else value < level
    return False


def side(fact: Fact) -> str | None:
    """"left", "right", "both" or None, from the side codes in the fact's code or bodySite (KB §8.8)."""
    sides = fact.value_sets & SIDES
    if BILATERAL in sides or sides >= {LEFT, RIGHT}:
        return "both"
    return "left" if LEFT in sides else "right" if RIGHT in sides else None


def _covers(test: Fact, finding: Fact) -> bool:
    """A one-sided scan or refuted DVT answers only for findings known to be on its side (KB §8.7: a negative
    left duplex does not close a right-leg suspicion); an unsided or bilateral one for all."""
    tested = side(test)
    return tested in (None, "both") or side(finding) == tested


def leg_dvt_features_as_context(record: PatientRecord) -> list[Fact]:
    """Leg DVT features still on the problem list within about 3 months: the context of a new PE feature
    (the feature must be recent; an active Condition with no abatement is still valid, KB §8.6). A negative
    leg-vein scan does not remove them: it answers the DVT question, not the PE one (a PE is decided by
    PE Wells, CTPA or D-dimer: NG158, KB §1.6, §8.7)."""
    return all_leg_dvt_features(record, LEG_CONTEXT)


def knee_pain_as_context(record: PatientRecord) -> list[Fact]:
    """Knee pain within about 3 months: a musculoskeletal complaint, no VTE risk factor (KB §1.6, §2.4); not a
    chronic knee pain re-recorded (new_findings)."""
    return new_findings(record, KNEE_PAIN, LEG_CONTEXT)


def leg_pain_as_context(record: PatientRecord) -> list[Fact]:
    """Leg pain within about 3 months: NG158 1.1.1 names "a swollen or painful leg" among the signs
    and symptoms of DVT, so beside a PE feature it is a leg context in full (r30 S1: 'pain in leg', SOB and
    HR 112 gave no card when leg pain was read like knee pain)."""
    return new_findings(record, LEG_PAIN, LEG_CONTEXT)  # calf pain is a leg DVT feature already


def active_dvt(record: PatientRecord) -> list[Fact]:
    """A confirmed, current DVT under way (_clots_under_way)."""
    return _clots_under_way(record, DVT)


INTERIM_ANTICOAGULATION = window("interim-anticoagulation")


def diagnosed(record: PatientRecord, clot: Fact) -> bool:
    """A DVT or PE Condition read as a diagnosed clot: confirmed, or — with no verification status recorded,
    as many problem lists leave it — treated as one: a full-strength anticoagulant, current, started no earlier
    than the new-features margin before the clot began and longer ago than the interim-anticoagulation window
    (NICE NG158 1.1.5: interim anticoagulation while a scan with its result within 24 hours is awaited). Ten
    days of apixaban begun with an unverified DVT is that DVT's treatment, not a question for a scan today
    (r38a F1). Still suspected: a clot coded provisional or differential, whatever is given; an undated one or
    one on an anticoagulant begun before it (a clot on treatment is a treatment failure to scan); interim
    treatment begun within the window; a course that has ended."""
    if clot.confirmed:
        return True
    began = clot_began(record, clot)
    if clot.evidence.verification != "unrecorded" or began is None:
        return False
    since = record.now - record.catalogue.window(INTERIM_ANTICOAGULATION)
    # A long-term-use code (Z79.01) dates its coding, not when a treatment began: it cannot show one begun
    # for this clot, so only an order, a statement or a dose does.
    return any(begun_for(record, m, began) and m.when <= since
               for m in full_strength(on_anticoagulant(record)) if m.kind != "Condition")


def clot_began(record: PatientRecord, clot: Fact):
    """When a clot began: its recorded onset; without one, the first leg DVT feature of its leg (the same
    side, or the side unknown on either) begun before the clot was coded, within the finding window — the
    presentation that led to the diagnosis —, else when it was coded. Interim apixaban begun for a swollen leg
    60 h before the scan's DVT was coded is that DVT's treatment (NICE NG158 1.1.5), not one the clot came on
    (r39 F1, F2: 'treatment failure, switch to LMWH' on the usual pathway)."""
    if clot.onset is not None or clot.when is None or DVT not in clot.value_sets:
        return clot.onset or clot.when
    leading = [f.onset or f.when for f in _leg_signs(record)
               if (f.onset or f.when) is not None
               and (f.onset or f.when) <= clot.when and on_the_same_leg(f, [clot])]
    return min([clot.when] + leading)


def begun_for(record: PatientRecord, anticoagulant: Fact, began) -> bool:
    """The anticoagulant began (ordered, stated, given or coded) no earlier than the new-features margin before
    the clot or occlusion began: its treatment, not one the clot came on (KB §8.2 treatment failure; r30 S4).
    An undated anticoagulant cannot show it."""
    return anticoagulant.when is not None and anticoagulant.when + record.catalogue.window(NEW_FEATURES) >= began


def _as_diagnosed(clot: Fact) -> Fact:
    """The clot as a card states it: one of unrecorded verification read as diagnosed says why."""
    return clot if clot.confirmed else replace(clot, evidence=replace(clot.evidence, verification="treated"))


def _clots_under_way(record: PatientRecord, value_set) -> list[Fact]:
    """A confirmed, current clot while an anticoagulant is active (extended-phase treatment: CHEST 2021);
    off treatment, one begun within about 6 months — unless it began before the 3-month treatment phase
    and a course of anticoagulant started after it has ended (completed: the "active" problem is stale).
    Undated and untreated, it cannot be placed in time: history, not a clot to warn about at every visit. A
    prophylaxis-strength anticoagulant alone does not keep an old clot under way (KB §8.3)."""
    if full_strength(on_anticoagulant(record)):
        return [_as_diagnosed(f) for f in record.current(value_set) if diagnosed(record, f)]
    courses = record.ended_courses(ANTICOAGULANTS)
    under_way = []
    for clot in (f for f in record.current(value_set) if diagnosed(record, f)):
        began = clot.onset or clot.when
        if began is None or record.older_than(clot, ACUTE_DVT):
            continue
        completed = record.older_than(clot, TREATMENT_PHASE) and any(begun_for(record, c, began) for c in courses)
        if not completed:
            under_way.append(_as_diagnosed(clot))
    return under_way


def dvt_shown_by_scan(record: PatientRecord) -> list[Fact]:
    """Final leg-vein scans in the findings window whose report shows a proximal DVT in plain words
    (ReportReader.shows_dvt), unless a later negative scan of that leg or a refuted DVT undid it: a DVT shown
    is a DVT known, coded or not yet (NG158 1.1.3: scan positive, diagnose DVT and treat). The report's whole
    text is read where the record is built (Fact.shown)."""
    shown = [f for f in record.studies(DVT_IMAGING, FINDING) if f.current and f.shown and not f.negative and not f.unread]
    undone = record.negative_tests(DVT_IMAGING, DVT)
    return [f for f in shown if not any(t.when > f.when and _covers(t, f) for t in undone)]


def previous_dvt(record: PatientRecord) -> list[Fact]:
    """Wells "previously documented DVT": resolved DVT, a history code, or an "active" DVT no longer under
    way (begun > 6 months ago and untreated, a completed course, undated and untreated)."""
    current = {f.evidence.reference for f in active_dvt(record)}
    stale = [f for f in record.current(DVT) if diagnosed(record, f) and f.evidence.reference not in current]
    return record.history(DVT) + record.current(VTE_HISTORY) + stale


def known_vte(record: PatientRecord) -> list[Fact]:
    """A current DVT (of the leg, coded or shown by a leg-vein scan; of the arm within about 6 months), or a PE
    coded as suspected (a
    confirmed PE has its own context, active_pe)."""
    arm = [f for f in record.current(DVT_UPPER_LIMB) if f.confirmed and not record.older_than(f, ACUTE_DVT)]
    return active_dvt(record) + dvt_shown_by_scan(record) + arm + suspected_pe(record)


def suspected_pe(record: PatientRecord) -> list[Fact]:
    """A PE coded as suspected — provisional, differential or with no verification status — recently, or
    active and undated: a clinician suspects a PE, which is an emergency on its own (§2.3); unless a
    negative CTPA or a refuted PE has closed it."""
    return still_open(record, [f for f in record.current(PE, FINDING, undated=True) if not diagnosed(record, f)],
                      PE_IMAGING, PE)


def active_pe(record: PatientRecord) -> list[Fact]:
    """A confirmed, current PE that began within about 6 months, or an older one while anticoagulated."""
    return _clots_under_way(record, PE)


def known_prosthetic_infection(record: PatientRecord) -> list[Fact]:
    """A confirmed, active knee-prosthesis infection (any encounter character) that began within its treatment
    course: known and under care, so its knee's pain, effusion, fever and markers raise no new suspicion."""
    return [f for f in record.current(PROSTHETIC_INFECTION) if f.confirmed and f.when is not None
            and not record.older_than(f, PROSTHETIC_COURSE)]


def under_known_prosthetic_infection(record: PatientRecord, facts: list[Fact]) -> list[Fact]:
    """The knee findings that belong to a known prosthetic infection's knee (its side, or any when unsided)."""
    treated = {side(f) for f in known_prosthetic_infection(record)}
    if not treated:
        return []
    if None in treated or "both" in treated:
        return list(facts)
    return [f for f in facts if side(f) in treated or side(f) in (None, "both")]


def replaced_knees(record: PatientRecord) -> list[Fact]:
    """A replaced knee on record: presence of an artificial knee, a knee replacement of any date, or a coded
    knee-prosthesis infection (of any status: the prosthesis is there)."""
    return (record.current(KNEE_PROSTHESIS) + record.procedures(KNEE_PROSTHESIS)
            + record.current(PROSTHETIC_INFECTION, undated=True))


def on_replaced_knee(fact: Fact, replaced: list[Fact]) -> bool:
    """The fact may be about a replaced knee: the same side, or the side unknown on either. A diagnosis of
    both knees is so only when both are known replaced (the other knee is still a native joint)."""
    return on_the_same_leg(fact, replaced)


def on_the_same_leg(fact: Fact, others: list[Fact]) -> bool:
    """The fact may be about the leg (or knee) of one of the others: the same side, or the side unknown on
    either; a fact of both legs only when both are among the others."""
    if not others:
        return False
    sides = {side(f) for f in others}
    where = side(fact)
    if where == "both":
        return "both" in sides or {"left", "right"} <= sides
    return where is None or None in sides or "both" in sides or where in sides


def either_leg(fact: Fact, other: Fact) -> bool:
    """The two may be about the same leg: the same side, either of both legs, or the side unknown on either."""
    one, two = side(fact), side(other)
    return one is None or two is None or "both" in (one, two) or one == two


def unrepaired_aneurysms(record: PatientRecord) -> list[Fact]:
    """The current popliteal artery aneurysms with no repair on record (r36a F4). A repair (catalogue value
    set popliteal-aneurysm-repair: femoral-popliteal bypass, the open repair with exclusion, SVS 2022 rec 4)
    repairs the aneurysm when it is on the aneurysm's side, or, either unsided, done on or after the aneurysm
    began (onset, else first recorded): a repaired aneurysm is under surveillance (SVS 2022 rec 6: examination,
    ABI and duplex at 3, 6, 12 months, then yearly), and knee pain beside it is not a symptom of it."""
    repairs = record.procedures(ANEURYSM_REPAIR)
    return [a for a in record.current(ANEURYSM) if not any(_repairs(r, a) for r in repairs)]


def _repairs(repair: Fact, aneurysm: Fact) -> bool:
    if side(repair) in ("left", "right") and side(aneurysm) in ("left", "right"):
        return side(repair) == side(aneurysm)
    began = aneurysm.onset or aneurysm.when
    return either_leg(repair, aneurysm) and repair.when is not None and began is not None \
        and repair.when.date() >= began.date()


def pe_under_treatment(record: PatientRecord) -> list[Fact]:
    """A PE under full-strength anticoagulation: coded, or shown by a CTPA in the findings window that is not
    read as negative and is not on the problem list yet (between the emergency department and the coding).
    Known and treated (KB §1.8): no suspected card is built on it."""
    if not full_strength(on_anticoagulant(record)):
        return []
    return active_pe(record) + [f for f in record.studies(PE_IMAGING, FINDING) if not (f.negative and f.current)]


def previous_vte(record: PatientRecord) -> list[Fact]:
    """Previous DVT (as Wells reads it), a PE that is history, or an "active" PE no longer under way (older
    than the windows, a completed course, undated and untreated): any earlier PE is previous VTE (PE Wells
    1.5, KB §1.6)."""
    current = {f.evidence.reference for f in active_pe(record)}
    stale = [f for f in record.current(PE) if diagnosed(record, f) and f.evidence.reference not in current]
    return previous_dvt(record) + record.history(PE) + stale


def recent_surgery(record: PatientRecord) -> list[Fact]:
    """A major operation within 12 weeks: a Procedure, or a Condition code such as joint-replacement aftercare."""
    return record.procedures(MAJOR_SURGERY, SURGERY) + record.current(MAJOR_SURGERY, SURGERY)


def immobilised(record: PatientRecord) -> list[Fact]:
    """Bed rest or immobilisation recorded within 4 weeks (PE Wells: 3 days or more in the previous 4 weeks)."""
    return record.current(IMMOBILISATION, IMMOBILISATION_WINDOW)


def cancer_on_record(record: PatientRecord) -> list[Fact]:
    """Every current cancer, however old: a VTE risk factor for the PE context and a child's VTE risk, where
    the question is the risk, not Wells' point."""
    return record.current(ACTIVE_CANCER)


def active_cancer(record: PatientRecord) -> list[Fact]:
    """Wells item 1 / PE-Wells malignancy, 'treatment ongoing, within 6 months, or palliative' (NICE NG158
    table 1; KB §1.9): a current cancer begun (its onset, else recorded) within the cancer-active window, or
    any current cancer beside a treatment or palliative care recorded within it, with that record; or a cancer
    ended (abated) within it — treated within 6 months. An undated current cancer counts: the EHR calls it
    active and nothing says it is old. A current cancer older than the window with none of these is not
    scored: the Wells card asks about it at the bedside (wells_from_record; r38a F4)."""
    current = record.current(ACTIVE_CANCER)
    treated = record.procedures(CANCER_TREATMENT, CANCER_ACTIVE) + record.current(CANCER_TREATMENT, CANCER_ACTIVE)
    if current and treated:
        return current + treated
    recent = [f for f in current if not record.older_than(f, CANCER_ACTIVE)]
    ended = [f for f in record.history(ACTIVE_CANCER)
             if f.ended is not None and f.ended >= record.now - record.catalogue.window(CANCER_ACTIVE)]
    return recent + ended


def on_anticoagulant(record: PatientRecord) -> list[Fact]:
    """An active order or statement of an anticoagulant, one given within the administration window, or
    long-term anticoagulant use coded — unless an anticoagulant course on record has ended and none is
    current: a problem-list Z79.01 outlives the order stopped for bleeding, and an order carries no stop
    date, so the ended course wins (KB §8.3; the card then asks to confirm treatment)."""
    medicines = record.medicines(ANTICOAGULANTS)
    not_given = _charted_not_given(record, medicines)
    if not_given:
        # the drug chart shows the doses are not being given: the order is not treatment (r34b S7)
        medicines = [f for f in medicines if f not in not_given]
        if not medicines:
            return []
    ended = [f for f in record.ended_courses(ANTICOAGULANTS) if f.kind != "MedicationAdministration"]
    return medicines + ([] if ended and not medicines else record.current(LONG_TERM_ANTICOAGULANT))


def _charted_not_given(record: PatientRecord, medicines: list[Fact]) -> list[Fact]:
    """With doses charted not given within the administration window and none given there, the orders and
    statements begun before the latest of those doses, and the doses themselves: a patient refusing every dose
    of an active apixaban order is not anticoagulated (r34b S7; KB §8.3: classify from the dose given now)."""
    not_given = record.doses_not_given(ANTICOAGULANTS)
    if not not_given or any(f.kind == "MedicationAdministration" for f in medicines):
        return []
    latest = not_given[0].when
    set_aside = [f for f in medicines if f.kind in ("MedicationRequest", "MedicationStatement")
                 and (f.when is None or latest is None or f.when <= latest)]
    return set_aside + not_given if set_aside else []


def anticoagulated_lately(record: PatientRecord) -> list[Fact]:
    """A full-strength anticoagulant course whose own end date lies within the catalogue's "administration"
    window: its effect outlasts the order, so a D-dimer is still unreliable (KB §1.5: falsely low on
    anticoagulation; r32 review S2: an order ended yesterday let a D-dimer of 300 read as 'DVT unlikely').
    Not treatment: the clot's own cards read on_anticoagulant."""
    since = record.now - record.catalogue.window(ADMINISTRATION)
    return full_strength([f for f in record.ended_courses(ANTICOAGULANTS)
                          if f.ended is not None and since <= f.ended <= record.now])


def anticoagulation_unknown(record: PatientRecord) -> bool:
    """The anticoagulant orders could not be read (catalogue refiningSources 'treatment'): none found is not
    none given, and the card says anticoagulation is not known (r34b W2)."""
    return bool(record.catalogue.treatment_sources & record.unavailable.keys())


def held_anticoagulants(record: PatientRecord) -> list[Fact]:
    """Open anticoagulant orders or statements that say it is not being given ('ON HOLD', 'DO NOT GIVE - GI
    bleed', doNotPerform): no treatment, but the card names them — the reason decides what to start (r32 S2)."""
    return record.held(ANTICOAGULANTS) + _charted_not_given(record, record.medicines(ANTICOAGULANTS))


def on_prophylaxis_only(record: PatientRecord) -> list[Fact]:
    """Anticoagulant exposure now at a prophylaxis strength only (enoxaparin 40 mg, rivaroxaban 10 mg), with
    the word 'prophylaxis' or without it, and nothing at full strength: it may lower a D-dimer, but a DVT
    begun on it is no treatment failure (KB §8.2-§8.3; r34a W2)."""
    on = on_anticoagulant(record)
    if full_strength(on) or anticoagulated_lately(record):
        return []
    return on + [f for f in record.medicines(PROPHYLACTIC_STRENGTH) if f not in on]


def full_strength(anticoagulants: list[Fact]) -> list[Fact]:
    """The anticoagulant exposures not at a prophylaxis strength (KB §8.3: intent unknown otherwise)."""
    return [f for f in anticoagulants if PROPHYLACTIC_STRENGTH not in f.value_sets]


def anticoagulant_choice(record: PatientRecord) -> tuple[Say, list[Fact]]:
    """Which anticoagulant advice fits (KB §8.2), as a phrase of cards/common.json, with the facts behind it:
    pregnancy first (LMWH, never a DOAC), then a child's (paediatric haematology: NG158 covers adults only;
    ASH/ISTH 2024; r40 S3: children were told 'NICE NG158, usually a DOAC'), then antiphospholipid syndrome (a
    VKA), then severe renal impairment (heparin or a VKA), then breastfeeding within its window (LMWH or
    warfarin: NHS SPS; r39 W3), else the usual (a DOAC), with the pregnancy caution only for a woman under
    pregnancy-possible-age (or of unrecorded sex or age). Each phrase names the guideline it follows. What
    the leading advice does not cover is added, not dropped (r41 S4, S5: a child on dialysis was offered a
    DOAC, APS beside end-stage renal disease lost the renal dosing): APS beside a child's advice (no DOAC),
    renal failure beside pregnancy, a child's or APS advice (heparin dosed to it)."""
    renal = renal_failure(record) + renal_impairment(record, coded_only=True)
    aps = record.current(APS)
    found = [(key, facts) for key, applies, facts in (
        ("pregnancy", None, pregnant_or_postpartum(record)), ("child", child(record), []), ("aps", None, aps),
        ("renal", None, renal), ("breastfeeding", None, record.current(BREASTFEEDING, BREASTFEEDING_WINDOW)))
        if applies or facts]
    if not found:
        # The pregnancy caution is for a woman who may be pregnant, not for a man or a woman past the age (r34a W4)
        may_be_pregnant = record.sex in (None, "female", "unknown", "other") and (
            record.age is None or record.age < record.threshold(PREGNANCY_POSSIBLE_AGE))
        return Say(ANTICOAGULANT_CHOICE["default-may-be-pregnant" if may_be_pregnant else "default"]), []
    lead, _ = found[0]
    also = [key for key, _ in found[1:] if (key == "aps" and lead == "child") or key == "renal"]
    facts = [f for key, facts in found if key == lead or key in also for f in facts]
    choice = Say(ANTICOAGULANT_CHOICE[lead])
    for key in also:
        choice = Say(CHOICE_WITH, choice=choice, also=Say(ANTICOAGULANT_ALSO[key]))
    return choice, facts


INTERIM_CAUTION = {key: phrase("common", f"interim-anticoagulation.{key}") for key in ("aps", "renal", "renal-impaired")}


def interim_caution(record: PatientRecord) -> tuple[Name, list[Fact]] | None:
    """What interim anticoagulation fits while a DVT or PE is being confirmed, when anticoagulant_choice does
    not read 'usually a DOAC': antiphospholipid syndrome or established renal failure (KB §8.2), with the
    entries behind it. None when nothing calls for it, when the patient is already anticoagulated (the card
    says so itself), or in pregnancy (its own pathway: LMWH, RCOG 37a/37b)."""
    if on_anticoagulant(record) or pregnant_or_postpartum(record):
        return None
    for key, facts in (("aps", record.current(APS)), ("renal", renal_failure(record)),
                       ("renal-impaired", renal_impairment(record))):
        if facts:
            return INTERIM_CAUTION[key], facts
    return None


def renal_failure(record: PatientRecord) -> list[Fact]:
    """Established renal failure: dialysis, end-stage or stage 5 disease coded (renal-failure-established), or
    the latest eGFR below severe-renal-egfr (KB §8.2: under 15)."""
    return record.current(RENAL_FAILURE) + severe_renal_egfr(record)


def renal_impairment(record: PatientRecord, coded_only: bool = False) -> list[Fact]:
    """Severe renal impairment short of established failure: a coded CKD stage 4 or acute kidney injury
    (severe-renal-impairment, not renal-failure-established) unless the latest eGFR is at or above
    renal-impairment-egfr — a later reading settles a stale or recovered code (r39 F3) —, or, unless
    `coded_only`, a latest eGFR below it. With it the creatinine clearance decides the drug and dose (r39 F4)."""
    low = egfr_below(record, RENAL_IMPAIRMENT_EGFR)
    coded = [f for f in record.current(SEVERE_RENAL) if RENAL_FAILURE not in f.value_sets]
    if _egfr_readings(record) and not low:
        return []
    return coded + ([] if coded_only and not coded else low)


def severe_renal_egfr(record: PatientRecord) -> list[Fact]:
    """The latest eGFR in its window, when it is below the severe-renal-egfr threshold (KB §8.2: under 15,
    established renal failure). The latest decides: a later value settles an earlier one (a recovered acute
    kidney injury); "<15" is below, ">90" is not; a reading in another unit is not read."""
    return egfr_below(record, SEVERE_RENAL_EGFR)


def _egfr_readings(record: PatientRecord) -> list[Fact]:
    """The eGFR readings in a unit the rules read (EGFR_UNITS), newest first."""
    return [f for f in record.measurements(EGFR) if f.quantity[1] in EGFR_UNITS]


def egfr_below(record: PatientRecord, limit: Name) -> list[Fact]:
    """The latest eGFR (as severe_renal_egfr reads it), when it is below the threshold `limit`."""
    limit_value = record.threshold(limit)
    readings = _egfr_readings(record)
    if not readings:
        return []
    value, comparator = readings[0].quantity[0], readings[0].comparator
    below = value <= limit_value if comparator in ("<", "<=") else value < limit_value and comparator not in (">", ">=")
    return [readings[0]] if below else []


# The eGFR below which a DOAC already taken is not used (catalogue anticoagulants.drugs egfrBelow; SmPCs, KB §8.2)
DOAC_EGFR_LIMITS = {str(name): name for name in (threshold("doac-egfr-factor-xa"), threshold("doac-egfr-dabigatran"))}
CONFLICT_WORDS = {key: phrase("common", f"anticoagulant-conflict.{key}")
                  for key in ("pregnancy", "aps", "renal", "renal-coded")}


def anticoagulant_conflicts(record: PatientRecord, treatment: list[Fact]) -> list[tuple[Fact, Name, list[Fact]]]:
    """The anticoagulants the patient takes that the record says should not be used now (r38b S3: any
    anticoagulant silenced the known-clot card), each with the words of the conflict and the entries behind
    it: a DOAC or warfarin in pregnancy (RCOG GTG 37a/37b: LMWH), a DOAC beside antiphospholipid syndrome
    (MHRA Drug Safety Update 2019; CHEST 2021 statement 17: a VKA), a DOAC whose latest eGFR is below its
    cut-off (SmPCs: apixaban, rivaroxaban, edoxaban < 15, dabigatran < 30; KB §8.2), or beside established
    renal failure coded with no such eGFR (dialysis, end-stage or stage 5 disease: below every DOAC's cut-off,
    and a patient on dialysis often has no eGFR reported; r40 S2: the choice text read the codes, the conflict
    did not). Which drug an order is, and where it conflicts, is the catalogue's (anticoagulants.drugs: Fact.drug)."""
    drugs = record.catalogue.anticoagulant_drugs
    pregnant, aps, failure = pregnant_now(record), record.current(APS), record.current(RENAL_FAILURE)
    conflicts = []
    for fact in treatment:
        drug = drugs.get(fact.drug) if fact.drug else None
        if drug is None:
            continue
        if "pregnancy" in drug.avoid_in and pregnant:
            conflicts.append((fact, CONFLICT_WORDS["pregnancy"], pregnant))
        if "antiphospholipid-syndrome" in drug.avoid_in and aps:
            conflicts.append((fact, CONFLICT_WORDS["aps"], aps))
        low = egfr_below(record, DOAC_EGFR_LIMITS[drug.egfr_below]) if drug.egfr_below else []
        if low:
            conflicts.append((fact, CONFLICT_WORDS["renal"], low))
        elif drug.egfr_below and failure:
            conflicts.append((fact, CONFLICT_WORDS["renal-coded"], failure))
    return conflicts


def conflict_lines(record: PatientRecord, conflicts) -> list:
    """The conflicts as the card names them: the drug, the conflict, and the entry with its value and date."""
    return [Say(words, drug=record.catalogue.anticoagulant_drugs[fact.drug].key, entry=_entry_named(facts[0]),
                threshold=_limit_of(record, fact)) for fact, words, facts in conflicts]


# The switch a conflict asks for, the weightiest first: in pregnancy LMWH whatever else (no VKA before delivery,
# RCOG 37a/37b), then antiphospholipid syndrome's VKA, then renal function's heparin or VKA (r39 W2: step 2
# said "switch as advised above" while the advice sat below the steps)
SWITCH_WORDS = {CONFLICT_WORDS[key]: phrase("common", f"anticoagulant-switch.{key.removesuffix('-coded')}")
                for key in ("pregnancy", "aps", "renal", "renal-coded")}


SWITCH_CHILD = phrase("common", "anticoagulant-switch.child")


def conflict_switch(record: PatientRecord, conflicts) -> Say:
    """The switch the card's next step names for these conflicts (SWITCH_WORDS, the weightiest first); for a
    child, made with paediatric haematology (r41 W1: a 13-year-old was given the adult switch only)."""
    found = {words for _, words, _ in conflicts}
    switch = Say(next(SWITCH_WORDS[w] for w in SWITCH_WORDS if w in found))
    return Say(SWITCH_CHILD, switch=switch) if child(record) else switch


def _limit_of(record: PatientRecord, fact: Fact):
    key = record.catalogue.anticoagulant_drugs[fact.drug].egfr_below
    return record.threshold(DOAC_EGFR_LIMITS[key]) if key else ""


def _entry_named(fact: Fact) -> str:
    """An entry as a conflict names it: its value (an eGFR of 11) or its name, and its date."""
    reading = fact.evidence.value if fact.quantity else None
    name = f"eGFR {reading}" if reading and EGFR in fact.value_sets else (fact.evidence.display or fact.kind)
    when = fact.evidence.when or fact.when
    return f"{name} on {when.date().isoformat()}" if when else f"{name}, undated"


def pregnant_now(record: PatientRecord) -> list[Fact]:
    """The pregnancy evidence of pregnant_or_postpartum, without the puerperium's: a current pregnancy
    Condition, a pregnancy status 'pregnant', a positive hCG (a drug used after delivery, as warfarin is, is
    no conflict: RCOG 37a)."""
    after = {POSTPARTUM, PREGNANCY_ENDED}
    return [f for f in pregnant_or_postpartum(record) if f.current and f.ended is None
            and f.value_sets & {PREGNANCY, PREGNANCY_TEST, PREGNANCY_STATUS}
            and not (f.value_sets | f.value_sets_of_value) & after]


def pregnant_or_postpartum(record: PatientRecord) -> list[Fact]:
    """The pregnancy evidence (_pregnancy_evidence) that opens the pregnancy pathway: all of it, unless the
    rest of the record makes it implausible (doubtful_pregnancy)."""
    evidence = _pregnancy_evidence(record)
    return [] if _implausible(record, evidence) else evidence


def doubtful_pregnancy(record: PatientRecord) -> list[Fact]:
    """Pregnancy evidence the record makes implausible: undated only, on a man or a patient aged
    pregnancy-possible-age or more (r38a F6: an undated Z33.1 on a 68-year-old man got 'Start LMWH, no Wells').
    Not the pregnancy pathway, and not silence either: the cards that read pregnancy ask about it first."""
    evidence = _pregnancy_evidence(record)
    return evidence if _implausible(record, evidence) else []


def _implausible(record: PatientRecord, evidence: list[Fact]) -> bool:
    # Only undated evidence is doubted: a dated pregnancy stays evidence on any record (Patient.gender is
    # administrative, a trans man may be pregnant; late pregnancies happen), as the fail-safe wants
    return bool(evidence) and all((f.onset or f.when) is None for f in evidence) and (
        record.sex == "male" or (record.age is not None and record.age >= record.threshold(PREGNANCY_POSSIBLE_AGE)))


def _pregnancy_evidence(record: PatientRecord) -> list[Fact]:
    """A pregnancy Condition dated within a pregnancy's length, or active and undated (the EHR calls it
    current); a pregnancy-status Observation whose value is "pregnant"; a positive hCG test (flagged
    positive by the laboratory, or valued Positive, coded or as text) within a pregnancy's length; delivery
    within 6 weeks (a delivery code, or a delivery Procedure such as a caesarean section), or a pregnancy
    Condition that ended within 6 weeks, or a pregnancy loss or termination within 6 weeks; a pregnancy
    recorded before the latest delivery or loss is over. Patient.gender does
    not override any of these: the record's pregnancy evidence decides (RCOG 37b)."""
    positive_tests = [f for f in record.results(PREGNANCY_TEST, PREGNANCY_WINDOW) if _positive(record, f)]
    # A pregnancy the record closed (resolved, abated) within 6 weeks: its end is a delivery or a loss, and
    # the puerperium's risk runs from it (RCOG 37b; r30 review S5: a pregnancy resolved 3 weeks ago got Wells
    # and D-dimer). Only an abatement date places the end; a resolved pregnancy without one is history.
    since = record.now - record.catalogue.window(POSTPARTUM_WINDOW)
    ended = [f for f in record.history(PREGNANCY) if f.ended is not None and since <= f.ended <= record.now]
    # A miscarriage, ectopic or termination within 6 weeks keeps the cautious pathway; any delivery or loss
    # ends the pregnancy recorded before it (r31 F5: Z3A.12 200 days ago beside a miscarriage 150 days ago)
    lost = record.current(PREGNANCY_ENDED) + record.history(PREGNANCY_ENDED)
    losses = [f for f in lost if f.when is not None and since <= (f.onset or f.when) <= record.now]
    # Only a date the end happened on decides: a Condition's onset, a Procedure's performed date (an old
    # delivery imported today must not end the pregnancy under way)
    ends = [d for f in (lost + record.current(POSTPARTUM) + record.history(POSTPARTUM) + record.procedures(POSTPARTUM))
            for d in [f.when if f.kind == "Procedure" else f.onset] if d is not None and d <= record.now]
    last_end = max(ends, default=None)
    pregnant = [f for f in record.current(PREGNANCY, PREGNANCY_WINDOW, undated=True) + positive_tests
                if last_end is None or (f.onset or f.when) is None or (f.onset or f.when) > last_end]
    return (pregnant + ended + losses
            + record.current(POSTPARTUM, POSTPARTUM_WINDOW) + record.procedures(POSTPARTUM, POSTPARTUM_WINDOW))


def adult_physiology(record: PatientRecord) -> bool:
    """From 12 the vital signs are read against NG51's one table for 12 and over and adults (sepsis, admission,
    RR ≥ 25 as a child's PE feature), SpO₂ < 95 % and HR > 100 as an adult's (KB §8.1; r34b S9); unknown age
    counts as adult."""
    return record.age is None or record.age >= record.threshold(ADULT_PHYSIOLOGY_AGE)


def _positive(record: PatientRecord, test: Fact) -> bool:
    """Flagged positive or high by the laboratory, valued Positive, or a number above its own reference
    range in the same unit (never above a threshold of ours: hCG assays differ)."""
    if test.interpretation & record.catalogue.high_flags or POSITIVE_RESULT in test.value_sets_of_value:
        return True
    if test.quantity is None or test.reference_high is None:
        return False
    value, unit = test.quantity
    return (test.reference_unit or unit) == unit and value > test.reference_high


def child(record: PatientRecord) -> bool:
    """Under the adult age: NG158, Wells, PERC, D-dimer and the admission thresholds do not apply (§8.1)."""
    return record.age is not None and record.age < record.threshold(ADULT_AGE)


def pe_symptoms(record: PatientRecord) -> list[Fact]:
    """A PE coded as suspected; dyspnoea, chest pain, haemoptysis, syncope, hypoxaemia or tachypnoea,
    recently. Under 18 the respiratory rate is read against NG51's high-risk value for the age (KB §8.1 rule
    for authors: age-banded physiology in place of the adult triggers; 12 to 17: RR ≥ 25, r21 review: RR 22
    is within APLS's normal to 12), and SpO₂ below the paediatric 92 % under 12, below 95 % from 12 (the KB
    gives teenagers no laxer saturation). The heart rate is read apart (very_fast_heart_rate, tachycardia):
    what it means depends on the context, and in a child it is never the PE feature alone (r34a F9)."""
    facts = suspected_pe(record)
    for feature in PE_FEATURES:
        # An episode recorded as resolved inside the window still happened: a transient syncope or
        # breathlessness is a PE feature (NG158 §1.1; r26 review S-H: the same story in text fired)
        # One whose recorded onset is months back is the chronic symptom re-recorded (r36a 012: a lung
        # cancer's breathlessness of 6 months, coded again at each clinic), not a new PE feature.
        facts += new_findings(record, feature) + record.recent_episodes(feature, FINDING)
    # "SpO2 96 % on 4 L/min", "on 40 %": oxygen given is an oxygen need, at any age
    facts += above(record, OXYGEN_FLOW, OXYGEN_NEED) + above(record, FIO2, FIO2_NEED)
    if child(record):
        facts += paediatric_high_risk(record, heart_rate=False)
        return facts + (below(record, OXYGEN_SATURATION, HYPOXAEMIA) if adult_physiology(record) else [])
    facts += above(record, RESPIRATORY_RATE, TACHYPNOEA)
    facts += below(record, OXYGEN_SATURATION, HYPOXAEMIA)
    return facts


def very_fast_heart_rate(record: PatientRecord, after=None) -> list[Fact]:
    """A heart rate above the immediate-admission threshold (130/min); under 12, at or above NG51's
    high-risk rate for the age."""
    if not adult_physiology(record):
        band = record.catalogue.paediatric_band(record.age)
        if band is None:
            return []
        high_risk = Decimal(str(band[str(HEART_RATE)]))
        return worst(record, HEART_RATE, lambda value: value >= high_risk, after=after)
    return above(record, HEART_RATE, ADMISSION_HEART_RATE, after)


def paediatric_high_risk(record: PatientRecord, heart_rate: bool = True, sepsis: bool = False) -> list[Fact]:
    """Heart rate (unless left out) or respiratory rate at or above the NG51 high-risk value for the child's
    age, or SpO₂ below the catalogue's paediatric threshold (92 %, above NG51's high-risk 90 %: the PE card
    reads a low saturation beside a VTE context) — for sepsis, below the band's NG51 high-risk SpO₂ (none
    from 12) — at any reading in the window. On oxygen or not: a saturation this low with oxygen given is
    worse than the same on air."""
    band = record.catalogue.paediatric_band(record.age)
    if band is None:
        return []
    found = very_fast_heart_rate(record) if heart_rate else []
    high_risk = Decimal(str(band[str(RESPIRATORY_RATE)]))
    found += worst(record, RESPIRATORY_RATE, lambda value: value >= high_risk)
    saturation = (record.catalogue.paediatric_sepsis_saturation(record.age) if sepsis
                  else record.catalogue.paediatric_saturation)
    if saturation is None:
        return found
    return found + worst(record, OXYGEN_SATURATION, lambda value: value < saturation, highest=False)


HYPOTENSION_BASE, HYPOTENSION_PER_YEAR = threshold("paediatric-hypotension-base"), threshold("paediatric-hypotension-per-year")


def paediatric_hypotension(record: PatientRecord) -> list[Fact]:
    """A child's systolic pressure below PALS's lower limit for the age: 70 + 2 × age in years, 90 mmHg at
    most (catalogue paediatric-hypotension-*), at the lowest reading in the window (r42 S1: SBP 70 in a
    10-year-old beside a confirmed PE was read as nothing under 12)."""
    if record.age is None:
        return []
    limit = min(record.threshold(HYPOTENSION_BASE) + record.threshold(HYPOTENSION_PER_YEAR) * record.age,
                record.threshold(ADMISSION_SYSTOLIC))
    return worst(record, SYSTOLIC, lambda value: value < limit, highest=False)


def sepsis_high_risk(record: PatientRecord) -> list[Fact]:
    """A NICE NG51 high-risk sign of sepsis at the worst reading in the window: for 12 and over, heart rate
    > 130/min, respiratory rate ≥ 25/min, systolic pressure ≤ 90 mmHg or an inspired oxygen concentration
    above 40 % (the table's "new need for oxygen (more than 40 % FiO2) to maintain saturation more than
    92 %"); under 12, the high-risk heart and respiratory rates for the age and the band's high-risk SpO₂
    (below 90 % in air, KB §8.1); or sepsis coded recently (altered mental state, mottled skin or no urine
    cannot be read from the record). From 12 an SpO₂ on air is no NG51 high-risk sign: the KB's table gives
    none, so SpO₂ 91 % on air is read by the PE and admission rules, not here."""
    coded = coded_sepsis(record)
    if not adult_physiology(record):
        return coded + paediatric_high_risk(record, sepsis=True)
    fast, rapid, low = (record.threshold(SEPSIS_HEART_RATE), record.threshold(SEPSIS_RESPIRATORY_RATE),
                        record.threshold(SEPSIS_SYSTOLIC))
    return coded + (worst(record, HEART_RATE, lambda value: value > fast)
            + worst(record, RESPIRATORY_RATE, lambda value: value >= rapid)
            + worst(record, SYSTOLIC, lambda value: value <= low, highest=False)
            + above(record, FIO2, SEPSIS_OXYGEN))


def coded_sepsis(record: PatientRecord) -> list[Fact]:
    """Sepsis or septic shock diagnosed recently."""
    return record.current(SEPSIS_CODED, FINDING)


def tachycardia(record: PatientRecord, after=None) -> list[Fact]:
    """Tachycardia coded, or a heart rate over 100/min from 12 (adult_physiology: APLS's upper normal over
    12 is 100, KB §8.1; a younger child's rate is read by very_fast_heart_rate against NG51's band). In a
    child it is named, or counted beside a respiratory feature, never the PE feature alone (r34a F9)."""
    measured = above(record, HEART_RATE, TACHYCARDIA, after) if adult_physiology(record) else []
    return new_findings(record, TACHYCARDIA_CODED) + measured


def fast_pulse_for_age(record: PatientRecord) -> list[Fact]:
    """A child's fast pulse the PE card does not act on alone (r34a F9): tachycardia from 12, NG51's
    high-risk rate for the age under 12."""
    if adult_physiology(record):
        return tachycardia(record)
    return new_findings(record, TACHYCARDIA_CODED) + very_fast_heart_rate(record)


def fever(record: PatientRecord) -> list[Fact]:
    """Fever coded recently, or the highest temperature in the vital-sign window at or above 38.0 °C (a
    later normal reading after paracetamol does not undo it)."""
    limit = record.threshold(FEVER)
    return record.current(FEVER_CODED, FINDING) + worst(record, TEMPERATURE, lambda c: c >= limit, reading=celsius)


def recent_leg_or_knee_pain(record: PatientRecord, within=FINDING) -> list[Fact]:
    return (record.current(KNEE_PAIN, within) + record.current(CALF_PAIN, within)
            + record.current(LEG_PAIN, within))


def above(record: PatientRecord, measurement, limit, after=None) -> list[Fact]:
    """The highest value in the measurement's window, if it is above the threshold."""
    threshold_value = record.threshold(limit)
    return worst(record, measurement, lambda value: value > threshold_value, after=after)


def below(record: PatientRecord, measurement, limit, after=None) -> list[Fact]:
    """The lowest value in the window, if below the threshold (SpO₂ 89 % on air, then 96 % on oxygen: 89 %
    counts)."""
    threshold_value = record.threshold(limit)
    return worst(record, measurement, lambda value: value < threshold_value, highest=False, after=after)


def _value(fact: Fact) -> Decimal:
    return fact.quantity[0]


def worst(record: PatientRecord, measurement, crosses, reading=_value, highest: bool = True,
          after=None) -> list[Fact]:
    """The worst reading of a measurement in its window — the highest, or the lowest — if it `crosses` the
    limit, with the latest reading when that is another: the worst counts, and the card shows both with
    their times. Readings `reading` cannot interpret (a temperature in an unknown unit) are left out, and
    with `after`, readings taken by then (a known PE's presenting physiology)."""
    values = [f for f in record.measurements(measurement) if reading(f) is not None
              and (after is None or f.when > after)]  # newest first
    found = (max if highest else min)(values, key=reading, default=None)
    if found is None or not crosses(reading(found)):
        return []
    return [found] if values[0] is found else [found, values[0]]


def celsius(fact: Fact) -> Decimal | None:
    value, unit = fact.quantity  # units are UCUM by now (record/units.py)
    if unit == "Cel":
        return value
    if unit == "[degF]":
        return (value - 32) * 5 / 9
    return None


# The first days after an operation, and an infection coded elsewhere, explain a fever or a raised marker beside
# a knee finding: the PJI rule reads its knee replacement's window so (r34a F9, r35a F2), the native-knee rule any
# major operation's and a coded infection's (r36a 033-035, 112).
POSTOPERATIVE_FEVER, POSTOPERATIVE_FEVER_HIGH = window("postoperative-fever"), threshold("postoperative-fever-high")
INFECTION_ELSEWHERE, CRP_EXPLAINED = value_set("infection-elsewhere"), threshold("crp-explained-by-infection")
CRP_MEASURED, WBC_MEASURED = measurement("crp"), measurement("wbc")


def of_the_operation(record: PatientRecord, fact: Fact, operations: list[Fact]) -> bool:
    """Recorded within the post-operative-fever window after one of these operations: a CRP then is at its
    post-operative peak (day 2-3, often above ICM 2018's acute 100 mg/L: Park, Clin Orthop Relat Res
    2008;466:179; Lee, J Korean Orthop Assoc 2009;44:442, no difference from an infected knee before day 8;
    after any major operation a mean rise of about 100 mg/L by day 3 without infection: Santonocito, Anesth
    Analg 2014;119:624), a white cell count is the operation's leucocytosis (ICM 2018 scores no serum WBC), and
    the operated knee is warm and swollen (r35a F2)."""
    after = record.catalogue.window(POSTOPERATIVE_FEVER)
    return fact.when is not None and any(
        p.when is not None and p.when <= fact.when <= p.when + after for p in operations)


def fever_beyond_operation(record: PatientRecord, operations: list[Fact]) -> list[Fact]:
    """Fever (fever()), less a fever below the high threshold in the first days after one of these operations:
    fever then is usually the operation's own response, not infection (r34a F9: 30-66 % of patients have a
    temperature ≥ 38 °C after TKA, most on day 0-2; a fever ≥ 39 °C, or one that persists past day 3, raises
    the suspicion: Lu, KSSTA 2015;23:1870; Tai, Orthopedics 2009;32:886; Ishii, Arch Orthop Trauma Surg
    2014;134:707)."""
    if not operations:
        return fever(record)
    limit = record.threshold(FEVER)
    readings = [f for f in record.measurements(TEMPERATURE) if (c := celsius(f)) is not None and c >= limit
                and not _operation_fever(record, f, c, operations)]
    coded = [f for f in record.current(FEVER_CODED, FINDING) if not _operation_fever(record, f, Decimal(0), operations)]
    return coded + sorted(readings, key=celsius, reverse=True)[:1]


def _operation_fever(record: PatientRecord, fact: Fact, degrees: Decimal, operations: list[Fact]) -> bool:
    return degrees < record.threshold(POSTOPERATIVE_FEVER_HIGH) and of_the_operation(record, fact, operations)


def infection_elsewhere(record: PatientRecord) -> list[Fact]:
    """An acute infection of another site coded within the findings window (pneumonia, a cold, a urinary
    infection, COVID-19: value set infection-elsewhere)."""
    return record.current(INFECTION_ELSEWHERE, FINDING)


def explained_inflammation(record: PatientRecord, facts: list[Fact], operations: list[Fact],
                           infections: list[Fact]) -> list[Fact]:
    """The operations and infections that explain every one of these fevers and raised markers, or [] when one is
    beyond them. An operation explains what was recorded in its post-operative-fever window (fever_beyond_operation:
    a temperature below postoperative-fever-high, a CRP, a white cell count); a coded infection a fever, a white
    cell count and a CRP up to crp-explained-by-infection (above it, a bacterial infection that can seed a joint:
    NICE CG191). Anything else (coded sepsis, an ESR) is explained by neither."""
    reasons: list[Fact] = []
    for fact in facts:
        why = [p for p in operations if _explained_by_operation(record, fact, p)]
        if not why and _explained_by_infection(record, fact):
            why = infections
        if not why:
            return []
        reasons += [f for f in why if f not in reasons]
    return reasons


def _explained_by_operation(record: PatientRecord, fact: Fact, operation: Fact) -> bool:
    if not of_the_operation(record, fact, [operation]):
        return False
    if TEMPERATURE in fact.value_sets:
        return (degrees := celsius(fact)) is not None and degrees < record.threshold(POSTOPERATIVE_FEVER_HIGH)
    return bool(fact.value_sets & {FEVER_CODED, CRP_MEASURED, WBC_MEASURED})


def _explained_by_infection(record: PatientRecord, fact: Fact) -> bool:
    if fact.value_sets & {TEMPERATURE, FEVER_CODED, WBC_MEASURED}:
        return True
    if CRP_MEASURED in fact.value_sets:
        value = crp_mg_per_l(fact)
        return value is not None and value <= record.threshold(CRP_EXPLAINED)
    return False


def crp_mg_per_l(fact: Fact) -> Decimal | None:
    """A CRP in mg/L (from mg/dL); None in another unit."""
    value, unit = fact.quantity
    return value if unit == "mg/L" else value * 10 if unit == "mg/dL" else None
