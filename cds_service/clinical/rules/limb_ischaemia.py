"""2. Acute limb ischaemia — critical (ACR AC Sudden Onset of Cold, Painful Leg; SVS popliteal artery
aneurysm guideline; clinical-knowledge.md §2.3, §2.4 rule 2, §8.8 rule 2, Appendix A).

An ischaemic sign of the leg (Appendix A: "cold/pale limb, absent pulses, **new** numbness/paraesthesia/
paralysis") is a pallor, numbness, paraesthesia or paresis code that
- is new: it began (onset, else first recorded) within the finding window — a paraplegia of 2010 recorded
  again at admission is not new (the trauma rule reads onset the same way);
- is on the leg (KB §8.8 rule 2): a leg site or side in its code, bodySite or laterality, or a leg-specific
  code (numbness of lower limb, paresis of the leg), or a P named in a knee, calf or leg pain entry's own text
  (r34b S3: 'R knee pain. R foot cold, pale, no pulses palpable'); a sign recorded without a site counts only when it began
  with calf or leg pain or with a sign placed on the leg (the same presentation), or within 4 weeks of a
  knee dislocation (the injured leg);
- is not explained: numbness, paraesthesia or paresis beside a current neurological cause (stroke,
  hemiplegia or paraplegia, spinal cord injury, neuropathy, sciatica or radiculopathy, lumbar spinal
  stenosis, multiple sclerosis: r36a F3) is that cause's (pallor is not); a pallor recorded without a site
  or side beside a current anaemia is the anaemia's (R23.1 is any pallor; r36a F3), one placed on the leg is
  not; a hemiplegia or paraplegia code is never an ischaemic sign.

Criterion, critical, any of:
- a current acute arterial occlusion of the leg that began within 2 weeks (a critical limb ischaemia
  only with its onset recorded within 2 weeks), unless it is confirmed and a full-strength anticoagulant
  began with it or after it (r30 S4: apixaban for AF, or Z79.01, running before the embolus is not its
  treatment — the embolus came on it, and the card says so; ESVS 2020 acute limb ischaemia, KB §8.2);
  beside atrial fibrillation or flutter the card is 'embolus-af', naming the embolic source;
- ischaemic signs that began within the short critical window, in at least two entries, with recent leg or
  knee pain (one sign alone is common and chronic; the acute picture is pain with more than one of the
  Ps) — or one sign with the pain beside an embolic source: current atrial fibrillation or flutter (any
  date), a knee dislocation within 4 weeks, a popliteal aneurysm, or a known occlusion (re-occlusion: signs
  that began after it);
- a known popliteal artery aneurysm with recent acute knee, calf or leg pain on its leg (the same side, or
  the side unknown on either: r36a F4): critical with an occlusion or ischaemic signs; otherwise, when no
  repair is on record, `warning` (urgent vascular review and arterial duplex: KB §2.3 "emergency if acute
  limb ischaemia", SVS 2022: a symptomatic aneurysm is treated, an asymptomatic one under 20 mm watched).
  A repaired aneurysm (a femoral-popliteal bypass on its side, or either unsided done on or after it began:
  signals.unrepaired_aneurysms) is under surveillance (SVS 2022 rec 6): knee pain beside it raises nothing
  here; a new ischaemic sign of the leg does (it stays an embolic source: a graft occludes).
- a new ischaemic sign (within the short critical window) on a popliteal aneurysm's leg (its side, or the side
  unknown on either), with or without pain recorded: critical, 'aneurysm-sign' ('aneurysm' with the pain of
  that leg) — a thrombosed or embolising aneurysm until proven otherwise (SVS 2022, Farber et al.; ESVS 2020
  acute limb ischaemia; r38 1). A sign recorded without a site is that leg's when it began with knee pain on
  the aneurysm's leg (the aneurysm lies behind the knee).
Otherwise, lesser cards (KB §1.8: a known diagnosis gets no "possible" card; CDS Hooks indicators):
- a confirmed acute occlusion with an anticoagulant begun with it or after it: 'known-treated' — `info`, `warning` with leg pain or a
  sign that began after it (re-examine the leg: re-occlusion is an emergency);
- an occlusion or critical limb ischaemia that began more than 2 weeks ago: 'chronic', `warning` (urgent
  vascular referral); but a critical limb ischaemia first known (its earliest onset, else its earliest entry)
  more than the critical-limb-ischaemia-known window ago, and no occlusion, is a known diagnosis under
  vascular care re-recorded at a clinic: 'chronic-known', `info`, no referral order (r36a 043: the urgent
  referral came at every vascular visit) — unless a new ischaemic sign of the leg counts (then 'chronic',
  or the critical card: a known ischaemia is an embolic source, one sign with the pain is enough);
- the sign criterion met by signs older than the critical window, one new vascular sign (pallor, cold, a
  lost pulse) with the pain, or an embolic source with the pain and a new sign that does not count (not
  placed on the leg, or a neurological cause explains it): 'examine-pulses', `warning` (examine the foot
  pulses now) — so do Ps recorded without a site that began within the critical window, in enough entries,
  beside leg or knee pain (r34b S10); more than one new vascular P with no leg or knee pain on record: 'signs-without-pain',
  `warning` (examine the foot pulses now); enough new signs on one leg with the pain on the other only:
  'signs-other-leg', `warning` (the sides are not merged: KB §8.8 rule 4, r42 F9); a new sign within 4 weeks of a
  knee dislocation with no pain recorded: 'dislocation-sign', `warning` (r42 S8).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from ...content.catalogue import phrase, threshold, topic, value_set, window
from ...record.facts import Fact, PatientRecord
from . import signals
from .finding import Finding, Say

ACUTE_LIMB_ISCHAEMIA = topic("acute-limb-ischaemia")
OCCLUSION, CRITICAL_ISCHAEMIA, ANEURYSM = (
    value_set("acute-limb-ischaemia"), value_set("critical-limb-ischaemia"), value_set("popliteal-artery-aneurysm"))
# The Ps the record can hold (Appendix A): pallor; numbness, paraesthesia; paralysis or paresis.
PALLOR, SENSORY, PARESIS = value_set("pallor"), value_set("limb-ischaemia-signs"), value_set("paralysis-paresis")
NEUROLOGICAL_CAUSE = value_set("neurological-deficit-cause")  # explains numbness, paraesthesia, paresis
ANAEMIA = value_set("anaemia")  # explains a pallor recorded without a site (R23.1 is any pallor: r36a F3)
ATRIAL_FIBRILLATION = value_set("atrial-fibrillation")  # an embolic source (KB §3.2)
KNEE_DISLOCATION, DISLOCATION_WINDOW = value_set("knee-dislocation-recent"), window("dislocation")
ACUTE, CRITICAL_SIGNS, PRESENTATION = (
    window("acute-limb-ischaemia"), window("ischaemic-signs-critical"), window("ischaemia-presentation"))
KNOWN_CLI = window("critical-limb-ischaemia-known")  # first recorded this long ago: a known diagnosis
NEW_FEATURES = window("dvt-new-features")  # after a known occlusion began: new pain or signs
SIGNS_NEEDED = threshold("ischaemic-signs")
# What the record rarely codes, to check at the bedside, each with the P (catalogue ischaemicSigns) that, once
# an entry on the card names it, is no longer unknown.
UNKNOWN = tuple((phrase("acute-limb-ischaemia", key), kind) for key, kind in
                (("unknown.cold-limb", "cold"), ("unknown.absent-pulses", "pulseless"),
                 ("unknown.motor-weakness", "motor")))


def acute_limb_ischaemia(record: PatientRecord) -> Finding | None:
    pain = signals.recent_leg_or_knee_pain(record)
    acute, chronic = occlusions(record)
    anticoagulated = signals.full_strength(signals.on_anticoagulant(record))
    # Diagnosed and under treatment: confirmed, with a full-strength anticoagulant begun with it or after it.
    # One running before the occlusion began (apixaban for AF since 2019, Z79.01) is not its treatment: the
    # embolus came on it (r30 S4; KB §8.2 treatment failure; ESVS 2020 acute limb ischaemia: heparin and
    # emergency revascularisation assessment).
    known = [f for f in acute if f.confirmed and _treating(record, anticoagulated, f)]
    untreated = [f for f in acute if f not in known]
    came_on = [a for a in anticoagulated if untreated and _before(record, a, untreated)]
    fibrillation = record.current(ATRIAL_FIBRILLATION)
    # A popliteal aneurysm is the painful leg's only on its side, or with the side unknown on either (r36a F4:
    # a right aneurysm beside left knee osteoarthritis pain raised the urgent card; every other leg rule reads
    # the side, r35a F8); a repaired one stays an embolic source (a bypass graft occludes) but its knee is
    # not a symptomatic aneurysm
    aneurysm = [a for a in record.current(ANEURYSM) if not pain or any(signals.either_leg(a, p) for p in pain)]
    unrepaired = [a for a in signals.unrepaired_aneurysms(record) if a in aneurysm]
    dislocation = record.current(KNEE_DISLOCATION, DISLOCATION_WINDOW)
    # An embolic source, or a recent knee dislocation (a torn popliteal intima thromboses days later), a
    # known popliteal aneurysm (it thromboses or embolises: SVS, Appendix A) or a known occlusion (it
    # re-occludes): then one ischaemic sign with the pain is enough.
    embolic_source = fibrillation + dislocation + aneurysm + known + chronic  # an older occlusion re-occludes (r33 S3)
    new = new_signs(record)
    causes = Causes(record.current(NEUROLOGICAL_CAUSE), record.current(ANAEMIA))
    counted = [kept for f in new if on_the_leg(record, f, new, dislocation, record.current(ANEURYSM))
               for kept in [unexplained(f, causes)] if kept is not None]
    if known:
        # The signs of the known episode are known; only those that began after it are a re-occlusion.
        counted = [f for f in counted if _after(record, f, known)]
    needed = 1 if embolic_source else record.threshold(SIGNS_NEEDED)
    threatening = [f for f in counted if not record.older_than(f, CRITICAL_SIGNS)]

    finding = Finding(ACUTE_LIMB_ISCHAEMIA, "critical")
    if untreated:
        # A recent, untreated arterial embolism or thrombosis of the leg is acute limb ischaemia, with or
        # without AF; beside AF the card names the embolic source (r30 S4; ESVS 2020, SVS).
        finding.add(untreated + pain + fibrillation + came_on)
        if fibrillation:
            finding.variant = "embolus-af"
        if came_on:
            finding.notes.append(Say(phrase("acute-limb-ischaemia", "note.occlusion-on-anticoagulant")))
    # The pain and the Ps are one presentation only on one leg (the same side, or the side unknown on either:
    # KB §8.8 rule 4; r42 F9: left knee pain beside a pale, numb right leg read as the critical card)
    signs_pain = [p for p in pain if any(signals.either_leg(p, f) for f in counted)] if counted else pain
    with_pain = [f for f in threatening if any(signals.either_leg(f, p) for p in signs_pain)]
    if signs_pain and _enough(with_pain, needed):
        finding.add(with_pain + signs_pain + embolic_source)
    # A new ischaemic sign of a popliteal aneurysm's leg, with or without pain recorded, is a thrombosed or
    # embolising aneurysm until proven otherwise (SVS 2022, Farber et al.: acute ischaemia is its commonest
    # complication; ESVS 2020 acute limb ischaemia): the critical card, the aneurysm named as the source (r38 1).
    # A repaired one counts too (a graft occludes).
    any_aneurysm = record.current(ANEURYSM)  # the sign's leg decides, not the pain's
    of_aneurysm = [f for f in threatening if any(signals.either_leg(f, a) for a in any_aneurysm)]
    if of_aneurysm and not finding.evidence:
        sources = [a for a in any_aneurysm if any(signals.either_leg(f, a) for f in of_aneurysm)]
        finding.add(of_aneurysm + sources + [p for p in pain if any(signals.either_leg(p, a) for a in sources)])
        finding.variant = "aneurysm" if any(signals.either_leg(p, a) for p in pain for a in sources) \
            else "aneurysm-sign"
    if unrepaired and pain and (finding.evidence or not known):  # a treated occlusion: its own card
        threatened = bool(finding.evidence)  # an occlusion or ischaemic signs as well
        finding.add(unrepaired + [p for p in pain if any(signals.either_leg(p, a) for a in unrepaired)])
        if threatened:
            finding.variant = "aneurysm"
        else:
            # Symptomatic but no sign of a threatened limb: urgent, not emergency, review (KB §2.3, SVS).
            finding.variant, finding.indicator = "aneurysm-symptomatic", "warning"
    if not finding.evidence:
        finding = _lesser(record, known, anticoagulated, chronic, signs_pain, new, counted, causes, embolic_source,
                          needed)
        injured = [f for f in threatening if any(signals.either_leg(f, d) for d in dislocation)]
        if finding is None and injured and not pain:
            # a torn popliteal intima thromboses days later (KB §2.3): a new P of the injured leg is examined
            # now, pain recorded or not (r42 S8: paraesthesia 10 days after a dislocation gave no card)
            finding = Finding(ACUTE_LIMB_ISCHAEMIA, "warning", variant="dislocation-sign")
            finding.add(injured + dislocation)
        if finding is None and pain and not signs_pain and _enough(threatening, needed):
            # the Ps of one leg, the pain of the other: examined now, not read as one emergency (r42 F9)
            finding = Finding(ACUTE_LIMB_ISCHAEMIA, "warning", variant="signs-other-leg")
            finding.add(threatening + pain)
        if finding is None:
            return None
    # "R foot cold, pale": the card does not ask for a cold limb (r26 review W-A)
    named = {kind for f in new if f.evidence in finding.evidence for kind in f.signs}
    named |= {"motor" for f in new if f.evidence in finding.evidence and PARESIS in f.value_sets}
    finding.unknown = [Say(p) for p, kind in UNKNOWN if kind not in named]
    return finding


def _lesser(record: PatientRecord, known, anticoagulated, chronic, pain, new, counted, causes, embolic_source,
            needed) -> Finding | None:
    """The cards below the emergency: a known, treated occlusion; a chronic ischaemia; signs to re-examine."""
    if known:
        # KB §1.8: a diagnosed, treated emergency gets no "possible" card; new pain or signs since it began
        # make the re-examination urgent (re-occlusion is an emergency).
        since = [f for f in pain + new if _after(record, f, known)]
        finding = Finding(ACUTE_LIMB_ISCHAEMIA, "warning" if since else "info", variant="known-treated")
        finding.add(known + anticoagulated + since)
        return finding
    if chronic:
        # KB §1.8: a known diagnosis gets no "new" card. A chronic limb-threatening ischaemia known for weeks
        # is under vascular care (GVG 2019: urgent referral at first suspicion); re-recorded at the clinic
        # with nothing new it is named, not referred again at every visit (r36a 043). A new sign is new.
        if not counted and _known_cli(record, chronic):
            finding = Finding(ACUTE_LIMB_ISCHAEMIA, "info", variant="chronic-known")
            finding.values["known_days"] = record.catalogue.window(KNOWN_CLI).days
            finding.add(chronic + pain)
            return finding
        finding = Finding(ACUTE_LIMB_ISCHAEMIA, "warning", variant="chronic")
        finding.values["acute_days"] = record.catalogue.window(ACUTE).days
        finding.add(chronic + pain)
        return finding
    not_counted = [f for f in new if f.evidence not in {c.evidence for c in counted}]
    # One new vascular P with the pain (a pale or cold foot, a lost pulse) is not yet the emergency picture,
    # but only the examination can say so (ACR: the cold, painful leg; r27 review)
    vascular = [f for f in counted if _kinds(f) & _VASCULAR_KINDS]
    # Ps recorded without a site, new within the critical window, beside leg or knee pain: not placed on the
    # leg, so no emergency, but never silent (r34b S10: pallor and paraesthesia today with knee pain gave no
    # card); old unsited signs stay quiet (anaemia's pallor and a numbness of last week: r11 review)
    unplaced = [kept for f in not_counted if not on_the_leg(record, f, new, [])
                and not record.older_than(f, CRITICAL_SIGNS) for kept in [unexplained(f, causes)] if kept is not None]
    if not pain and len({k for f in vascular for k in _kinds(f) & _VASCULAR_KINDS}) >= needed:
        # "R foot cold, white, pulseless" with no pain on record: the pain may be unrecorded (r28 review)
        finding = Finding(ACUTE_LIMB_ISCHAEMIA, "warning", variant="signs-without-pain")
        finding.add(vascular)
        return finding
    if pain and (_enough(counted, needed) or (embolic_source and new) or vascular
                 or _enough(unplaced, record.threshold(SIGNS_NEEDED))):
        finding = Finding(ACUTE_LIMB_ISCHAEMIA, "warning", variant="examine-pulses")
        finding.values["critical_hours"] = int(record.catalogue.window(CRITICAL_SIGNS).total_seconds() // 3600)
        reasons = [c for c in causes.all() if any(explained(f, causes.only(c)) for f in not_counted)]
        finding.add(counted + not_counted + reasons + pain + embolic_source)
        return finding
    return None


def _known_cli(record: PatientRecord, chronic: list[Fact]) -> bool:
    """Every chronic entry is a critical limb ischaemia (no occlusion: an untreated embolus weeks old is
    not under care, r32 S5), first known — the earliest onset, else the earliest entry, of any current critical
    limb ischaemia on record — more than the critical-limb-ischaemia-known window ago."""
    if not chronic or any(OCCLUSION in f.value_sets for f in chronic):
        return False
    first = min((d for f in record.current(CRITICAL_ISCHAEMIA) for d in (f.onset, f.when) if d is not None),
                default=None)
    return first is not None and first < record.now - record.catalogue.window(KNOWN_CLI)


def occlusions(record: PatientRecord) -> tuple[list[Fact], list[Fact]]:
    """The arterial occlusions and critical limb ischaemias recorded recently, as (acute, chronic): acute when
    it began within 2 weeks (a critical limb ischaemia, usually chronic, only with its onset recorded)."""
    occluded = record.current(OCCLUSION, signals.FINDING)
    critical = record.current(CRITICAL_ISCHAEMIA, signals.FINDING)
    acute = ([f for f in occluded if not record.older_than(f, ACUTE)]
             + [f for f in critical if f.onset is not None and not record.older_than(f, ACUTE)])
    # An occlusion recorded weeks ago, still active, beside leg pain now: a chronic ischaemia to assess, not
    # a stale entry (r32 S5: an untreated embolus 20 days old with new leg pain gave no card)
    older = [f for f in record.current(OCCLUSION, signals.LEG_CONTEXT) + record.current(CRITICAL_ISCHAEMIA, signals.LEG_CONTEXT)
             if f not in occluded + critical] if signals.recent_leg_or_knee_pain(record) else []
    return acute, [f for f in occluded + critical if f not in acute] + older


def new_signs(record: PatientRecord) -> list[Fact]:
    """Pallor, numbness, paraesthesia or paresis that began (onset, else first recorded) within the finding
    window — not one re-recorded long after it began — and not a neurological diagnosis itself (a hemiplegia
    or paraplegia code)."""
    signs = (record.current(PALLOR, signals.FINDING) + record.current(SENSORY, signals.FINDING)
             + record.current(PARESIS, signals.FINDING))
    # A pain entry whose text names Ps ("calf pain, foot cold, white, no pulses") is a sign entry too
    signs += [f for f in signals.recent_leg_or_knee_pain(record) if f.signs]
    found = []
    for fact in signs:
        if fact not in found and not record.older_than(fact, signals.FINDING) \
                and NEUROLOGICAL_CAUSE not in fact.value_sets:
            found.append(fact)
    return found


def on_the_leg(record: PatientRecord, sign: Fact, signs: list[Fact], dislocation: list[Fact],
               aneurysm: list[Fact] = ()) -> bool:
    """KB §8.8 rule 2, the limb must be the lower limb: a leg site or side in the sign's code, bodySite or
    laterality (an arm site has already removed it: catalogue siteRules); else it began with calf or leg pain
    or with a sign placed on the leg (the same presentation), or beside a recent knee dislocation; or it began
    with knee pain on the leg of a popliteal aneurysm (the aneurysm lies behind that knee: its pain and a
    numb foot are one presentation of the aneurysm's leg, SVS 2022; r38 1)."""
    if _placed(sign) or dislocation:
        return True
    if sign.signs and sign.value_sets & _PAIN_ENTRIES:
        return True  # the Ps a knee, calf or leg pain entry's own text names are that leg's: a knee is on the leg (r34b S3)
    beside = [f for f in signs if f is not sign and _placed(f)] + record.current(signals.CALF_PAIN, signals.FINDING) \
        + record.current(signals.LEG_PAIN, signals.FINDING) \
        + [k for k in record.current(signals.KNEE_PAIN, signals.FINDING) if any(signals.either_leg(k, a) for a in aneurysm)]
    margin = record.catalogue.window(PRESENTATION)
    began = signals.began([sign])
    return began is not None and any(abs(signals.began([f]) - began) <= margin for f in beside if signals.began([f]))


_PAIN_ENTRIES = frozenset({signals.KNEE_PAIN, signals.CALF_PAIN, signals.LEG_PAIN})


def _placed(sign: Fact) -> bool:
    return signals.LOWER_LIMB in sign.value_sets or signals.side(sign) is not None


_NEUROLOGICAL_KINDS = frozenset({"sensory", "motor"})  # catalogue ischaemicSigns kinds a nerve can explain
_VASCULAR_KINDS = frozenset({"pallor", "cold", "pulseless"})
_CODED_KIND = {PALLOR: "pallor", SENSORY: "sensory", PARESIS: "motor"}


@dataclass(frozen=True)
class Causes:
    """The current diagnoses that explain a P without ischaemia: a neurological cause explains numbness,
    paraesthesia and paresis; an anaemia explains a pallor recorded without a site (r36a F3)."""
    neurological: list[Fact]
    anaemia: list[Fact]

    def all(self) -> list[Fact]:
        return self.neurological + self.anaemia

    def only(self, cause: Fact) -> "Causes":
        return Causes([cause] if cause in self.neurological else [], [cause] if cause in self.anaemia else [])


def _explained_kinds(sign: Fact, causes: Causes) -> set[str]:
    """The Ps of the sign the causes on record explain. A pallor stated on the leg (a leg site or side, or in
    a knee, calf or leg pain entry's own words: 'R foot pale, cold') is never the anaemia's: R23.1 beside a
    coded anaemia is the generalised pallor of anaemia, not a white leg (r36a F3)."""
    kinds = _kinds(sign)
    explained = kinds & _NEUROLOGICAL_KINDS if causes.neurological else set()
    if causes.anaemia and not _placed(sign) and not (sign.signs and sign.value_sets & _PAIN_ENTRIES):
        explained |= kinds & {"pallor"}
    return explained


def explained(sign: Fact, causes: Causes) -> bool:
    """Numbness, paraesthesia or paresis beside a current neurological cause is the cause's, not a new P;
    so is an unsited pallor beside an anaemia; cold and pulselessness are never explained so."""
    return bool(_explained_kinds(sign, causes))


def unexplained(sign: Fact, causes: Causes) -> Fact | None:
    """The sign with the Ps the causes on record do not explain, or None when they explain them all: 'numb R
    foot, foot cold and pale' beside sciatica is still cold and pale (r27 review)."""
    kinds = _kinds(sign)
    kept = kinds - _explained_kinds(sign, causes)
    if not kept:
        return None
    return sign if kept == sign.signs else replace(sign, signs=frozenset(kept))


def _kinds(sign: Fact) -> set[str]:
    """The Ps an entry states: those its text names, else the one its code is (a pallor row answered 'Pulses
    absent R foot' states a lost pulse, not pallor)."""
    return set(sign.signs) or {kind for value_set, kind in _CODED_KIND.items() if value_set in sign.value_sets}


def _after(record: PatientRecord, fact: Fact, known: list[Fact]) -> bool:
    """The fact began after the known occlusion began (by the new-features margin)."""
    start, began = signals.began(known), signals.began([fact])
    return start is None or (began is not None and began > start + record.catalogue.window(NEW_FEATURES))


def _treating(record: PatientRecord, anticoagulants: list[Fact], occlusion: Fact) -> bool:
    """An anticoagulant begun (ordered, stated, given or coded long-term) no earlier than the new-features
    margin before the occlusion began: its treatment. An undated one cannot show it (r30 S4)."""
    return any(not _before(record, a, [occlusion]) for a in anticoagulants if a.when)


def _before(record: PatientRecord, anticoagulant: Fact, occlusions: list[Fact]) -> bool:
    """The anticoagulant was running (ordered, stated, given or coded) more than the new-features margin
    before the occlusion began: the embolus came on it (KB §8.2 treatment failure; r30 S4)."""
    began = signals.began(occlusions)
    return bool(anticoagulant.when and began) and not signals.begun_for(record, anticoagulant, began)


def _enough(signs: list[Fact], needed) -> bool:
    """Signs in enough entries, or enough Ps named in one entry's text ('R foot cold, pale, no pulses
    palpable': three; r26 review)."""
    named = {(f.evidence.reference, kind) for f in signs for kind in (f.signs or {""})}
    return bool(signs) and len(named) >= needed
