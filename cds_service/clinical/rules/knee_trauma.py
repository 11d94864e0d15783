"""7. Acute knee trauma — Ottawa knee rule (Stiell 1995/1996) and ACR AC Acute Trauma to the Knee
(clinical-knowledge.md §2.1-§2.2).

Criterion: a knee injury recorded within 7 days (the rule's limit) that began (onset, else recorded) within them.
- knee dislocation or popliteal artery injury: `critical` (vascular injury: angiography, vascular surgery);
  so is an ACL and a PCL injury of the same knee (bicruciate: a spontaneously reduced dislocation until
  proven otherwise, BOAST knee dislocation; r38 3), variant 'bicruciate';
  a dislocation whose arterial imaging (CT angiography, arterial Doppler) is on record since it began, and no
  popliteal artery injury coded: variant 'imaged', `warning` — the study asked for is done and its report is
  shown; serial pulse checks, not another angiogram (r34a F8). The report's words are not read for an
  arterial injury (no reader for them yet): the clinician reads it on the card.
- Ottawa met from the record (age ≥ 55): `warning`, knee radiograph;
- otherwise `info`: apply the Ottawa rule at the bedside (radiograph only if any criterion is met);
- but no Ottawa card beside a tibial plateau or shaft fracture on record (the fracture is known: the
  compartment-syndrome card refers to orthopaedics and asks for the compartment watch; BOAST 10; r38 5).
An injury with no onset recorded is dated by its recordedDate, all the record has (an old ACL rupture imported
to the problem list today reads as recent): the card keeps its level and says so in a note (r36a 098).
"""
from __future__ import annotations

from ...content.catalogue import phrase, threshold, topic, value_set, window
from ...record.facts import PatientRecord
from .compartment_syndrome import tibial_fractures
from . import signals
from .finding import Finding, Say

KNEE_TRAUMA_IMAGING = topic("knee-trauma-imaging")
TRAUMA = window("trauma")
DISLOCATION, ARTERY_INJURY, INJURY = (
    value_set("knee-dislocation"), value_set("popliteal-artery-injury"), value_set("knee-trauma"))
ARTERIAL_IMAGING = value_set("arterial-imaging-leg")
ACL, PCL = value_set("acl-injury-acute"), value_set("pcl-injury-acute")
OTTAWA_AGE, OTTAWA_MINIMUM_AGE = threshold("ottawa-age"), threshold("ottawa-minimum-age")
_TOPIC = "knee-trauma-imaging"
OTTAWA_BY_AGE = phrase(_TOPIC, "ottawa.age")
NOTE_NO_INJURY_DATE = phrase(_TOPIC, "note.no-injury-date")
OTTAWA_BEDSIDE = tuple(phrase(_TOPIC, key) for key in
                       ("unknown.patella", "unknown.fibula", "unknown.flexion", "unknown.weight-bearing"))


def knee_trauma_imaging(record: PatientRecord) -> Finding | None:
    # An acute injury's 7 days run from the injury (onset), not from the day it was written down (an injury 3
    # weeks old recorded today is not acute; a dislocation of 20 days ago is the limb rule's, r34a F8).
    artery = [f for f in record.current(ARTERY_INJURY, TRAUMA) if not record.older_than(f, TRAUMA)]
    # A dislocation reduced (spontaneously or in ED) and coded resolved inside the acute window still carries the
    # popliteal artery injury risk (KB ACR acute knee trauma, S-ACR-AT: dislocation -> angiographic study; r37 B1).
    dislocation = [f for f in record.current(DISLOCATION, TRAUMA) + record.recent_episodes(DISLOCATION, TRAUMA)
                   if not record.older_than(f, TRAUMA)] + artery
    injury = [f for f in record.current(INJURY, TRAUMA) if not record.older_than(f, TRAUMA)]
    bicruciate = [] if dislocation else bicruciate_injury(record)
    if bicruciate:
        # ACL and PCL torn in the same knee: a knee dislocation that reduced itself until proven otherwise, with
        # the same risk to the popliteal artery (BOAST knee dislocation; r38 3): the dislocation's assessment
        dislocation = bicruciate
    if dislocation:
        began = min((f.onset or f.when for f in dislocation), default=None)
        imaged = [f for f in record.studies(ARTERIAL_IMAGING, TRAUMA)
                  if f.current and began is not None and f.when is not None and f.when >= began]
        finding = Finding(KNEE_TRAUMA_IMAGING, "warning" if imaged and not artery else "critical",
                          variant="imaged" if imaged and not artery else "bicruciate" if bicruciate else "dislocation")
        finding.add(dislocation + imaged[:1] + injury)
        finding.basis = [f.evidence for f in dislocation]  # the limb card replaces it when it shows them
        return finding
    if not injury:
        return None
    if tibial_fractures(record):
        # A tibial plateau or shaft fracture on record is known: no Ottawa radiograph decision as if unknown; the
        # compartment card carries the orthopaedic referral and the compartment watch (BOAST 10; r38 5)
        return None
    if record.age is not None and record.age < record.threshold(OTTAWA_MINIMUM_AGE):
        # Not validated this young (KB §2.2): no rule to apply, a clinical assessment (r31 W4)
        finding = Finding(KNEE_TRAUMA_IMAGING, "info", variant="young-child")
        finding.values.update({"age": record.age, "min_age": record.threshold(OTTAWA_MINIMUM_AGE)})
    elif record.age is not None and record.age >= record.threshold(OTTAWA_AGE):
        finding = Finding(KNEE_TRAUMA_IMAGING, "warning", variant="ottawa-met")
        finding.values["ottawa_reason"] = Say(OTTAWA_BY_AGE, age=record.age, threshold=record.threshold(OTTAWA_AGE))
    else:
        finding = Finding(KNEE_TRAUMA_IMAGING, "info", variant="apply-ottawa")
        finding.unknown = [Say(p) for p in OTTAWA_BEDSIDE]
    finding.add(injury)
    undated = [f for f in injury if f.onset is None and f.when is not None]
    if undated and len(undated) == len(injury):
        # No injury says when it happened: today's recording is all there is, so the card says so (r36a 098)
        finding.notes.append(Say(NOTE_NO_INJURY_DATE, recorded=undated[0].when.date().isoformat(),
                                 days=record.catalogue.window(TRAUMA).days))
    return finding


def bicruciate_injury(record: PatientRecord) -> list:
    """An anterior and a posterior cruciate ligament injury (initial encounter) of the same knee (the same side,
    or the side unknown on either) that began within the trauma window: both entries, else none."""
    acl = [f for f in record.current(ACL, TRAUMA) if not record.older_than(f, TRAUMA)]
    pcl = [f for f in record.current(PCL, TRAUMA) if not record.older_than(f, TRAUMA)]
    pairs = [(a, p) for a in acl for p in pcl if signals.either_leg(a, p)]
    return list(dict.fromkeys(f for pair in pairs for f in pair))
