"""3. Suspected septic arthritis — critical (BSR/BHPR hot swollen joint guideline 2006; ACR AC suspected
septic arthritis; clinical-knowledge.md §2.3).

Criterion: septic arthritis coded as suspected (provisional/differential) recently, or a recent knee
effusion together with fever (≥ 38.0 °C within 24 h, or coded recently) or raised inflammatory markers (CRP
or white cell count above the laboratory's range or flag, else CRP > 10 mg/L, WCC > 11 × 10⁹/L, within
72 h). The effusion is a native knee's: one on a replaced knee's side (or unsided beside a replaced knee) is
the prosthetic-joint-infection rule's alone, fired or not (r35a F1). A confirmed diagnosis alone does not fire: the patient is already under treatment, and "aspirate
before antibiotics" would be noise. Nor does the effusion with fever or raised markers while a confirmed
septic arthritis that began within the treatment-course window is active: they are the known infection,
not a new suspicion (KB §1.8: a known diagnosis gets no "suspected" card). An effusion without fever or raised markers does not fire either
(effusions of osteoarthritis are common) — unless a knee-pain entry's words state the knee hot and swollen
(catalogue hotJointWords; swollen in its words or beside another effusion on record), or an effusion entry's
own words state it hot (r34b S5): variant "hot-joint",
`warning` (same-day assessment, aspirate before antibiotics: "treat as septic even if afebrile", BSR 2006,
KB Appendix A; r30 S8), a known gout flare notwithstanding (only the aspirate tells crystals from infection),
critical with an NG51 high-risk sign. With a NICE NG51 high-risk
sign of sepsis, or sepsis coded (variant "septic"): cultures and antibiotics at once — and then a confirmed
diagnosis fires too (deterioration under care). A coded sepsis counts as inflammation beside an effusion.
An effusion whose recorded onset lies before the catalogue's chronic-finding window is the knee's chronic
effusion, not a recent one, unless a knee finding of that knee began since or an NG51 high-risk sign is on
record (r36a 110: an RA effusion of 700 days re-coded today with CRP 18 gave the critical card).
A confirmed septic arthritis still active past the course, beside an effusion with fever or raised markers:
variant "known-episode", naming it (relapse, persisting infection or an out-of-date entry: r34a F8). The card
says what the record shows — a knee swelling (SNOMED 299322007) is not called an effusion (r36a 036) — and asks
at the bedside whether the knee is hot (r34a F10).

BSR 2006 is about "a short history of a hot, swollen and tender joint with restriction of movement". When no
hot knee is stated and every fever and marker has a coded explanation — recorded in the first days after a
major operation (a fever below 39 °C, a CRP, a white cell count: the operation's own response, as the PJI rule
reads its knee replacement's window, signals.explained_inflammation), or beside an acute infection coded
elsewhere (a fever, a white cell count, a CRP up to 100 mg/L), or, beside a knee swelling that is not coded as
an effusion, a cellulitis of that leg or a bursitis of that knee (the swelling may be theirs) — the card is the
"explained" warning: examine the knee (hot, new, painful to move?) and aspirate if so (r36a 033-037). A hot knee
stated, a suspected septic arthritis, an NG51 high-risk sign, coded sepsis, a fever of 39 °C or more after an
operation, or a CRP above 100 mg/L keep the critical card. Beside a coded cellulitis of that leg or a bursitis
of that knee every card adds that the needle must not pass through infected skin or the bursa (r36a 036, 037).
"""
from __future__ import annotations

from decimal import Decimal

from ...content.catalogue import measurement, phrase, threshold, topic, value_set, window
from ...record.facts import Fact, PatientRecord
from . import signals
from .finding import Finding, Say

SEPTIC_ARTHRITIS = topic("septic-arthritis")
SEPTIC, EFFUSION = value_set("septic-arthritis"), value_set("knee-effusion")
# A swelling of the knee (299322007, also in knee-effusion): the card says "swelling", not "effusion" (r36a 036).
SWELLING = value_set("knee-swelling")
# Infection over the knee: the needle must not pass through it, and beside a swelling it may be the swelling.
OVER_THE_KNEE = (value_set("cellulitis-leg"), value_set("knee-bursitis"))
CRP, WBC = measurement("crp"), measurement("wbc")
CRP_RAISED, WCC_RAISED = threshold("crp-raised"), threshold("wcc-raised")
COURSE = window("septic-arthritis-course")  # a confirmed septic arthritis this recent is under treatment
_WCC_UNITS = {"10*3/uL", "10*9/L"}  # UCUM, after record/units.py
ESR = measurement("esr")
# What the record shows, in the card's words (cards/common.json "shown.*"): the card says what is on record,
# not "a hot swollen knee" when only an effusion code and a CRP are (r34a F10).
SHOWN = {key: phrase("common", f"shown.{key}") for key in (
    "fever", "fever-coded", "crp", "wcc", "esr", "sepsis-coded", "effusion-with", "suspected", "hot-joint",
    "known", "replaced-with", "prosthesis-suspected", "drainage", "replaced-hot", "swelling-with")}
UNKNOWN_HOT = phrase("septic-arthritis", "unknown.hot-red")
NOTE_THROUGH_SKIN = phrase("septic-arthritis", "note.not-through-infected-skin")
UNDATED = phrase("common", "evidence.date-not-recorded")
# Knee pain without an effusion on record (r38b S1): Kocher's criteria in a child, fever with markers in an adult.
OSTEOARTHRITIS = value_set("knee-osteoarthritis")
CRP_KNOWN_OA = threshold("crp-known-osteoarthritis")  # a modest CRP beside an osteoarthritic knee's effusion
KOCHER_TEMPERATURE, KOCHER_ESR = threshold("kocher-temperature"), threshold("kocher-esr")
KOCHER_WCC, KOCHER_MET = threshold("kocher-wcc"), threshold("kocher-criteria-met")
KOCHER = {key: phrase("septic-arthritis", f"kocher.{key}") for key in ("temperature", "esr", "wcc")}
UNKNOWN_WEIGHT = phrase("septic-arthritis", "unknown.weight-bearing")
NOTE_SEPSIS = phrase("septic-arthritis", "note.sepsis-sign")
SEPSIS_SIGN = phrase("septic-arthritis", "shown.sepsis-sign")


def suspected_septic_arthritis(record: PatientRecord) -> Finding | None:
    coded = record.current(SEPTIC, signals.FINDING)
    diagnosed = [f for f in coded if not f.confirmed]
    effusion = record.current(EFFUSION, signals.FINDING)
    # A replaced knee (its side, or any when a side is unknown) is not a native joint: its effusion is the
    # prosthetic-joint rule's alone, which counts what it should (r35a F1: an effusion with the operation's own
    # fever on day 2, which that rule sets aside, fell through to this card as critical).
    replaced = signals.replaced_knees(record)
    effusion, reopened = _not_chronic(record, [f for f in effusion if not signals.on_replaced_knee(f, replaced)])
    inflammation = signals.fever(record) + raised_markers(record) + signals.coded_sepsis(record)
    known = known_septic_arthritis(record)
    # A confirmed septic arthritis of this knee still active past its course: a new effusion with raised markers
    # is a relapse, a persisting infection or an out-of-date entry, not a first presentation (KB §1.8: a known
    # diagnosis gets no 'suspected' card; r34a F8).
    earlier = [f for f in record.current(SEPTIC) if f.confirmed and f not in known
               and any(_same_knee(f, e) for e in effusion)]
    # While it is known, its effusion with fever or raised markers is the known infection, not a suspicion.
    hot_joint = bool(effusion and inflammation) and not known
    if diagnosed or hot_joint:
        septic = signals.sepsis_high_risk(record)
    elif not known and (hot := hot_swollen_knee(effusion)):
        # A hot swollen knee stated, no fever or raised marker on record (none measured, or normal): septic
        # until proven otherwise even afebrile (BSR 2006; KB §2.4 rule 3, Appendix A; r30 S8) — a same-day
        # warning, critical with an NG51 high-risk sign. A known gout or pseudogout flare does not lower it:
        # only the aspirate tells crystals from infection, and both can coexist.
        septic = signals.sepsis_high_risk(record)
        finding = Finding(SEPTIC_ARTHRITIS, "critical" if septic else "warning", variant="hot-joint")
        measured = [f for f in (record.latest(CRP), record.latest(WBC)) if f]  # normal: shown, not excluding
        finding.add(hot + earlier + effusion + measured)
        finding.values["shown"] = [Say(SHOWN["hot-joint"])] + [known_episode(f) for f in earlier[:1]]
        with_sepsis(finding, septic)
        _caution(finding, over := _infection_over_the_knee(record, effusion))
        finding.add(over)
        finding.basis = [f.evidence for f in hot + effusion]
        return finding
    else:
        # A confirmed diagnosis is under care; with sepsis physiology on top it is deteriorating (NG51).
        under_care = coded + [f for f in known if f not in coded]
        septic = signals.sepsis_high_risk(record) if under_care else []
        if not septic:
            # No effusion with markers, no hot knee, nothing coded: knee pain with fever, markers or sepsis
            # physiology can still be a septic joint whose swelling is not yet recorded (r38b S1).
            return None if under_care else knee_pain_without_effusion(record)
        diagnosed = under_care
    over_the_knee = _infection_over_the_knee(record, effusion)
    # No hot knee stated, and a coded cause explains every fever and marker: examine the knee, not an emergency
    # by the record alone (BSR 2006 is about the hot, swollen, tender joint; r36a 033-037).
    explained = [] if diagnosed or earlier or septic or hot_swollen_knee(effusion) else _explained(
        record, effusion, inflammation, over_the_knee)
    variant = "explained" if explained else "known-episode" if earlier and not diagnosed else "default"
    arthritic = [] if diagnosed or earlier or septic or explained or hot_swollen_knee(effusion) else (
        _modest_crp_in_arthritic_knee(record, effusion, inflammation))
    variant = "osteoarthritis" if arthritic else variant
    finding = Finding(SEPTIC_ARTHRITIS, "warning" if explained or arthritic else "critical", variant=variant)
    finding.add(arthritic)
    finding.add(diagnosed + earlier + effusion + reopened + inflammation + explained + over_the_knee)
    finding.values["shown"] = shown(diagnosed, effusion, inflammation) + [known_episode(f) for f in earlier[:1]]
    if not hot_swollen_knee(effusion):
        finding.unknown = [Say(UNKNOWN_HOT)]  # heat and redness are the bedside's, not the record's (r34a F10)
    with_sepsis(finding, septic)
    _caution(finding, over_the_knee)
    # The knee it rests on: the prosthetic-joint card replaces it only when that card shows the same knee.
    finding.basis = [f.evidence for f in diagnosed + effusion]
    return finding


def _modest_crp_in_arthritic_knee(record: PatientRecord, effusion: list[Fact], inflammation: list[Fact]) -> list[Fact]:
    """The osteoarthritis coded on every effusion's knee, when the only inflammation is a CRP at or below the
    catalogue's crp-known-osteoarthritis ceiling: no fever, no white cell count, no coded sepsis (the caller
    has set aside a hot knee, a suspected septic arthritis and NG51 signs). An osteoarthritic knee's effusion
    with a modest CRP is common and not specific (Mathews, Lancet 2010; BSR 2006 is about the hot, swollen,
    tender joint): a warning to examine and consider aspiration, not the emergency card (r38a F3). [] keeps
    the critical card."""
    if not effusion or not inflammation or any(CRP not in f.value_sets for f in inflammation):
        return []
    ceiling = record.threshold(CRP_KNOWN_OA)
    if any((value := signals.crp_mg_per_l(f)) is None or value > ceiling for f in inflammation):
        return []
    arthritis = record.current(OSTEOARTHRITIS)
    knees = [a for a in arthritis if any(_same_knee(a, e) for e in effusion)]
    return knees if all(any(_same_knee(a, e) for a in arthritis) for e in effusion) else []


def knee_pain_without_effusion(record: PatientRecord) -> Finding | None:
    """Recent pain of a native knee with no effusion, hot knee or septic arthritis on record (r38b S1).
    Under 18: Kocher's criteria readable from the record (temperature > 38.5 °C, ESR > 40 mm/h, WBC > 12 x
    10^9/L; the fourth, non-weight-bearing, is the bedside's): kocher-criteria-met or more is the critical card
    (variant 'kocher'; 'septic' with an NG51 high-risk sign), a fever alone the 'child-fever' warning. From 18:
    a fever with a raised CRP or white cell count that no coded cause explains, or an NG51 high-risk sign at any
    age, is the 'knee-pain-fever' warning: examine the knee for an effusion, consider aspiration. A replaced
    knee is the prosthetic-joint rule's."""
    replaced = signals.replaced_knees(record)
    pain = [f for f in signals.new_findings(record, signals.KNEE_PAIN) if not signals.on_replaced_knee(f, replaced)]
    if not pain:
        return None
    septic, fever = signals.sepsis_high_risk(record), signals.fever(record)
    if signals.child(record):
        criteria = kocher_criteria(record)
        if len(criteria) >= record.threshold(KOCHER_MET):
            finding = Finding(SEPTIC_ARTHRITIS, "critical", variant="kocher")
            finding.add(pain + [f for said, facts in criteria for f in facts])
            finding.values["shown"] = [said for said, _ in criteria]
            finding.unknown = [Say(UNKNOWN_WEIGHT), Say(UNKNOWN_HOT)]
            with_sepsis(finding, septic)
            finding.basis = [f.evidence for f in pain]
            return finding
        inflammation = fever
    else:
        markers = raised_markers(record) if fever else []
        inflammation = fever + markers if markers else []
        if inflammation and _explained(record, pain, inflammation, []):
            inflammation = []  # the first days after an operation, an infection elsewhere: not the knee's
    if not inflammation and not septic:
        return None
    finding = Finding(SEPTIC_ARTHRITIS, "warning", variant="child-fever" if signals.child(record) else "knee-pain-fever")
    finding.add(pain + inflammation + septic)
    finding.values["shown"] = markers_shown(inflammation) + ([Say(SEPSIS_SIGN)] if septic else [])
    finding.unknown = [Say(UNKNOWN_WEIGHT)] if signals.child(record) else [Say(UNKNOWN_HOT)]
    if septic:
        finding.notes.append(Say(NOTE_SEPSIS))  # NG51: a high-risk sign is acted on now, knee or not
    # What it rests on: a PE card that shows the same pain and physiology already sends the patient in
    # (catalogue giveWay), and the sepsis sign alone is no septic knee for the PE rule (septic_knee).
    finding.basis = [f.evidence for f in pain + inflammation + septic]
    return finding


EXAMINE_FIRST = ("knee-pain-fever", "child-fever")  # knee pain without an effusion: the examination decides


def septic_knee(record: PatientRecord) -> bool:
    """A septic-arthritis card that reads the knee as septic (an effusion or hot knee with its markers, Kocher
    criteria, a suspected or known septic arthritis): what explains a fast pulse and breathing for the PE rule.
    Knee pain with a sepsis sign alone asks for the examination and explains nothing (r38b S1)."""
    finding = suspected_septic_arthritis(record)
    return finding is not None and finding.variant not in EXAMINE_FIRST


def kocher_criteria(record: PatientRecord) -> list[tuple[Say, list[Fact]]]:
    """Kocher's criteria met in the record (Kocher, Zurakowski, Kasser, J Bone Joint Surg Am 1999;81:1662;
    validated Kocher et al., JBJS Am 2004;86:1629): the worst temperature in its window above kocher-temperature,
    the latest ESR above kocher-esr, the latest white cell count above kocher-wcc (catalogue thresholds; the
    measurements' own windows), each with its value and date. Non-weight-bearing is not read: a bedside item."""
    met: list[tuple[Say, list[Fact]]] = []
    hot = record.threshold(KOCHER_TEMPERATURE)
    temperature = signals.worst(record, signals.TEMPERATURE, lambda c: c > hot, reading=signals.celsius)
    if temperature:
        met.append((_criterion("temperature", temperature[0],
                               signals.celsius(temperature[0]).quantize(Decimal("0.1"))), temperature))
    esr = record.latest(ESR)
    if esr and esr.quantity[1] == "mm/h" and esr.quantity[0] > record.threshold(KOCHER_ESR):
        met.append((_criterion("esr", esr, esr.quantity[0]), [esr]))
    wcc = record.latest(WBC)
    if wcc and _raised_value(wcc, record.threshold(KOCHER_WCC), _WCC_UNITS, {"/uL": Decimal("0.001")}):
        met.append((_criterion("wcc", wcc, wcc.evidence.value or wcc.quantity[0]), [wcc]))
    return met


def _criterion(key: str, fact: Fact, value) -> Say:
    taken = fact.when.date().isoformat() if fact.when else Say(UNDATED)
    return Say(KOCHER[key], value=value, date=taken)


def _raised_value(fact: Fact, limit: Decimal, units: set[str], conversions: dict[str, Decimal]) -> bool:
    """Above a fixed limit (a published rule's, not the laboratory's range or flag)."""
    value, unit = fact.quantity
    if unit in units:
        return value > limit
    return unit in conversions and value * conversions[unit] > limit


def _not_chronic(record: PatientRecord, effusion: list[Fact]) -> tuple[list[Fact], list[Fact]]:
    """The effusions that are recent: one whose recorded onset lies before the chronic-finding window is the
    knee's chronic effusion re-recorded (rheumatoid arthritis, an effusion of 2024 coded again today: r36a
    110), not the recent effusion of the criterion — unless a knee finding of that knee began since (an
    effusion or knee-pain entry with a recent onset, or none recorded: a new entry), or an NG51 high-risk sign
    of sepsis is on record: a septic joint in a chronically swollen knee must not be missed (the BSR hot
    swollen joint is a new one; a known arthritis raises the risk of infection). With the knee pains that keep
    a chronic effusion, for the card to list."""
    chronic = signals.chronic_findings(record, effusion)
    if not chronic or signals.sepsis_high_risk(record):
        return effusion, []
    recent = [f for f in effusion if f not in chronic]
    pain = [f for f in signals.new_findings(record, signals.KNEE_PAIN) if f not in effusion]
    kept = [f for f in effusion if f not in chronic or any(_same_knee(f, n) for n in recent + pain)]
    return kept, [n for n in pain if any(_same_knee(f, n) for f in kept if f in chronic)]


def shown(diagnosed: list[Fact], effusion: list[Fact], inflammation: list[Fact]) -> list[Say]:
    """What the native-joint card rests on, as the record has it: septic arthritis coded (suspected, or known and
    under treatment), and a knee effusion with its fever or markers (r34a F10)."""
    said = [Say(SHOWN["suspected"]) if not f.confirmed else known_episode(f) for f in diagnosed[:1]]
    if effusion and inflammation:
        # What the record shows: a swelling code is a swelling, not an effusion (r36a 036)
        key = "swelling-with" if all(SWELLING in f.value_sets for f in effusion) else "effusion-with"
        said.append(Say(SHOWN[key], markers=markers_shown(inflammation)))
    return said


def _infection_over_the_knee(record: PatientRecord, effusion: list[Fact]) -> list[Fact]:
    """A current cellulitis of the leg, or a bursitis of the knee, on the side of the knee finding (or either
    unsided)."""
    return [f for vs in OVER_THE_KNEE for f in record.current(vs)
            if any(signals.on_the_same_leg(e, [f]) for e in effusion)]


def _explained(record: PatientRecord, effusion: list[Fact], inflammation: list[Fact],
               over_the_knee: list[Fact]) -> list[Fact]:
    """What explains every fever and marker (signals.explained_inflammation): a major operation in its first
    days, an infection coded elsewhere, or — when the knee finding is a swelling, not a coded effusion — a
    cellulitis of that leg or a bursitis of that knee, read as an infection there (the swelling may be theirs:
    extra-articular; BSR 2006's picture is the joint's). An effusion coded beside a cellulitis stays critical."""
    infections = signals.infection_elsewhere(record)
    if over_the_knee and all(SWELLING in f.value_sets for f in effusion):
        infections = infections + over_the_knee
    operations = record.procedures(signals.MAJOR_SURGERY, signals.SURGERY)
    return signals.explained_inflammation(record, inflammation, operations, infections)


def _caution(finding: Finding, over_the_knee: list[Fact]) -> None:
    """Cellulitis or bursitis on record over the knee: the needle must not pass through infected skin or the
    bursa, which can seed the joint (Berney, Medscape 'Joint aspiration (arthrocentesis)': contraindications;
    r36a 036, 037)."""
    if over_the_knee:
        finding.notes.append(Say(NOTE_THROUGH_SKIN))


def known_episode(fact: Fact) -> Say:
    began = fact.onset or fact.when
    return Say(SHOWN["known"], since=began.date().isoformat() if began else Say(UNDATED))


def markers_shown(facts: list[Fact]) -> list[Say]:
    """Each fever, marker or coded sepsis with its value as recorded (the worst temperature, in °C: the reading
    after it that signals.fever also lists may be normal)."""
    said: list[Say] = []
    for fact in facts:
        if signals.TEMPERATURE in fact.value_sets and fact.quantity:
            if not any(s.phrase == SHOWN["fever"] for s in said):
                said.append(Say(SHOWN["fever"], value=signals.celsius(fact).quantize(Decimal("0.1"))))
        elif signals.FEVER_CODED in fact.value_sets:
            said.append(Say(SHOWN["fever-coded"]))
        elif signals.SEPSIS_CODED in fact.value_sets:
            said.append(Say(SHOWN["sepsis-coded"]))
        else:
            for key, marker in (("crp", CRP), ("wcc", WBC), ("esr", ESR)):
                if marker in fact.value_sets:
                    said.append(Say(SHOWN[key], value=fact.evidence.value or ""))
    return [s for i, s in enumerate(said) if s not in said[:i]]


def hot_swollen_knee(effusion: list[Fact]) -> list[Fact]:
    """The knee-pain or effusion entries whose words state a hot knee (catalogue hotJointWords "hot": hot, warm,
    red, erythema, inflamed), swollen in their own words (an effusion is) or beside another effusion on record; a coded effusion
    alone, or swelling words alone, is not a hot joint (effusions of osteoarthritis are common; r30 S8)."""
    hot = [f for f in effusion if "hot" in f.joint]
    return [f for f in hot if "swollen" in f.joint or any(e is not f and _same_knee(e, f) for e in effusion)]


def _same_knee(one: Fact, other: Fact) -> bool:
    sides = {signals.side(one), signals.side(other)}
    return None in sides or len(sides) == 1 or "both" in sides


def known_septic_arthritis(record: PatientRecord) -> list[Fact]:
    """A confirmed, active septic arthritis that began (onset, else first recorded) within the treatment
    course: diagnosed and under care."""
    return [f for f in record.current(SEPTIC) if f.confirmed and f.when is not None
            and not record.older_than(f, COURSE)]


def with_sepsis(finding: Finding, septic: list[Fact]) -> None:
    """A septic patient is not kept waiting for the aspiration: cultures and antibiotics at once (NICE NG51;
    AAOS's exception to "aspirate before antibiotics", clinical-knowledge.md §8.4). `septic` is
    signals.sepsis_high_risk's evidence."""
    if septic:
        finding.variant = "septic"
        finding.add(septic)


def raised_markers(record: PatientRecord) -> list[Fact]:
    raised = []
    high_flags = record.catalogue.high_flags
    crp = record.latest(CRP)
    if crp and _raised(crp, record.threshold(CRP_RAISED), high_flags, {"mg/L"}, {"mg/dL": Decimal(10)}):
        raised.append(crp)
    wcc = record.latest(WBC)
    if wcc and _raised(wcc, record.threshold(WCC_RAISED), high_flags, _WCC_UNITS,
                       {"/uL": Decimal("0.001")}):
        raised.append(wcc)
    return raised


def _raised(fact: Fact, limit: Decimal, high_flags, units: set[str], conversions: dict[str, Decimal]) -> bool:
    if fact.interpretation & high_flags:
        return True
    value, unit = fact.quantity
    if fact.reference_high is not None and (fact.reference_unit or unit) == unit:
        return value > fact.reference_high
    if unit in units:
        return value > limit
    if unit in conversions:
        return value * conversions[unit] > limit
    return False
