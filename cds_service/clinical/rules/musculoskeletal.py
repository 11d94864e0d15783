"""8. Musculoskeletal causes of pain behind the knee — info (ACR AC Chronic Knee Pain and Acute Trauma
to the Knee; ACR Soft-Tissue Masses; NICE NG226; SVS popliteal artery aneurysm; §2.3).

Criterion: a current diagnosis of the cause recorded within the catalogue's "msk" window (14 days: a new
diagnosis), or any current one together with knee, calf or leg pain recorded in the finding window (14
days) on its leg (the same side, or the side unknown on either: r35a F8), so an old code alone does not
raise a card at every chart opening, nor pain in the other leg or in a replaced knee. A card of a native joint
(catalogue "replacedKnee": osteoarthritis, meniscal or ligament derangement) does not rest on a diagnosis
of a replaced knee — the same side, or the side unknown on either (signals.on_replaced_knee): a knee
replacement has no cartilage or menisci left, and its pain is the prosthesis's question (r27 review F5).

An acute injury (catalogue "acuteInjury": meniscal or ligament derangement, a hamstring or calf strain) needs
the injury itself recent: begun (onset, else recorded) within the "msk-injury" window, pain or not. Knee pain
today does not make a strain 'initial encounter' of 600 days ago current (r31 review F4; KB §2.3). A chronic
condition (osteoarthritis, a Baker's cyst) still fires with today's pain. A repaired popliteal aneurysm (a femoral-popliteal bypass
on its leg: signals.unrepaired_aneurysms) is under vascular surveillance (SVS 2022 rec 6): pain does not
raise its card again (r36a F4); a new diagnosis still does. Several of these cards at once are
shown as one (catalogue "oneInfoCard", rules/__init__.py), and none beside a critical card ("giveWay").
"""
from __future__ import annotations

from ...content.catalogue import topic, value_set, window
from ...record.facts import PatientRecord
from . import signals
from .finding import Finding

MSK = window("msk")
INJURY = window("msk-injury")
BAKERS_CYST, MUSCLE_INJURY, ANEURYSM = topic("bakers-cyst"), topic("muscle-injury"), topic("popliteal-artery-aneurysm")
CALF_MUSCLE = value_set("calf-muscle-injury")
CAUSES = tuple((topic(card), tuple(value_set(vs) for vs in value_sets)) for card, value_sets in (
    ("bakers-cyst", ("bakers-cyst",)),
    ("internal-derangement", ("meniscal-tear", "knee-ligament-injury")),
    ("muscle-injury", ("hamstring-injury", "calf-muscle-injury")),
    ("knee-osteoarthritis", ("knee-osteoarthritis",)),
    ("popliteal-artery-aneurysm", ("popliteal-artery-aneurysm",)),
    ("nerve-entrapment", ("peroneal-nerve-entrapment",)),
))


def musculoskeletal_causes(record: PatientRecord) -> list[Finding]:
    pain = signals.recent_leg_or_knee_pain(record)
    replaced = signals.replaced_knees(record)
    findings = []
    for card, value_sets in CAUSES:
        recent = [f for vs in value_sets for f in record.current(vs, MSK) if f.when is not None]
        older = [f for vs in value_sets for f in record.current(vs)]
        if card == ANEURYSM:
            # A repaired aneurysm is under the vascular surgeons' surveillance (SVS 2022 rec 6): knee pain
            # beside it is not a reason for a duplex and a referral at every visit (r36a F4)
            older = [f for f in older if f in signals.unrepaired_aneurysms(record)]
        if card in record.catalogue.native_joint_only:
            recent, older = ([f for f in facts if not signals.on_replaced_knee(f, replaced)]
                             for facts in (recent, older))
        if card in record.catalogue.acute_injury_topics:
            recent, older = ([f for f in facts if _began_within(record, f, INJURY)] for facts in (recent, older))
        native = card in record.catalogue.native_joint_only
        # An aneurysm's card keeps any leg pain: about half are bilateral, and it is the vascular one.
        felt = {id(f): pain if card == ANEURYSM else _pain_of(f, pain, replaced if native else []) for f in older}
        facts = recent or [f for f in older if felt[id(f)]]
        if facts:
            finding = Finding(card, "info")
            finding.add(facts + ([p for f in facts for p in felt[id(f)]] if not recent else []))
            finding.basis = [f.evidence for f in facts]  # the diagnoses (oneInfoCard: a new one leads)
            if card == BAKERS_CYST:
                _imaged(record, finding, facts)
            if card == MUSCLE_INJURY:
                _thigh_only(record, finding, facts)
            findings.append(finding)
    return findings


def _pain_of(diagnosis, pain, replaced) -> list:
    """The pain that may be the older diagnosis's: on its leg (the side unknown on either, or both), and for a
    native joint's card not on a replaced knee's side (r35a F8: left knee osteoarthritis was shown for pain in
    the replaced right knee, right knee osteoarthritis for left calf pain)."""
    return [p for p in pain
            if (signals.on_the_same_leg(p, [diagnosis]) or signals.on_the_same_leg(diagnosis, [p]))
            and not (signals.side(p) is not None and signals.on_replaced_knee(p, replaced))]


def _imaged(record: PatientRecord, finding: Finding, cysts) -> None:
    """A leg-vein scan of the cyst's leg within the leg-context window imaged the popliteal fossa (KB §1.7:
    the duplex shows the cyst): no second ultrasound is offered for it (r34a W3)."""
    scans = [f for f in record.studies(signals.DVT_IMAGING, signals.LEG_CONTEXT) if f.current
             and any(signals.on_the_same_leg(f, [cyst]) for cyst in cysts)]
    if scans:
        finding.add(scans[:1])
        finding.variant = "imaged"


def _thigh_only(record: PatientRecord, finding: Finding, injuries) -> None:
    """A hamstring (thigh) injury with no calf injury and no leg swelling on its leg in the finding window is not
    a DVT mimic: the card offers no leg-vein scan (r35a W3). A calf injury with no swelling on its leg offers
    none now, but says a DVT can follow it (r36a 094; KB §2.3: duplex first if the calf is swollen). A swollen
    leg keeps the scan."""
    swollen = [f for f in record.current(signals.LEG_SWELLING, signals.FINDING)
               if any(signals.on_the_same_leg(f, [i]) or signals.on_the_same_leg(i, [f]) for i in injuries)]
    if not swollen:
        finding.variant = "calf-unswollen" if any(CALF_MUSCLE in f.value_sets for f in injuries) else "thigh"


def _began_within(record: PatientRecord, fact, window_name) -> bool:
    """The injury began (onset, else recorded) inside the window; an undated one cannot be shown recent."""
    return (fact.onset or fact.when) is not None and not record.older_than(fact, window_name)
