"""6. Malignancy red flags — warning (NICE NG12 sarcoma recommendations; ACR AC Soft-Tissue Masses;
clinical-knowledge.md §2.3-§2.4).

Criterion: a mass of the leg recorded within 6 months (it persists until a diagnosis addresses it) (SNOMED 309527000: an ICD-10-CM R22.4x code alone is read
as swelling, not mass), or unexplained weight loss or night sweats (within 90 days) together with recent knee or leg pain;
not when a sarcoma of the leg is already diagnosed. A mass is explained, and no longer counts, once a benign
diagnosis of a lump of the leg (a lipoma, benign soft-tissue tumour, ganglion or Baker's cyst: value set
benign-leg-lump) is recorded on or after it, on its side or unsided (r34a F8: the sarcoma-pathway warning stayed
183 days beside the lipoma the ultrasound found). Night/rest pain has no verified code: the card asks.
"""
from __future__ import annotations

from ...content.catalogue import phrase, threshold, topic, value_set, window
from ...record.facts import Fact, PatientRecord
from . import signals
from .finding import Finding, Say

MALIGNANCY_RED_FLAGS = topic("malignancy-red-flags")
SARCOMA, BONE_MALIGNANCY, MASS, WEIGHT_LOSS, NIGHT_SWEATS = (
    value_set("soft-tissue-sarcoma"), value_set("bone-malignancy-lower-limb"), value_set("leg-mass"),
    value_set("unexplained-weight-loss"), value_set("night-sweats"))
BENIGN_LUMP, BENIGN_KNEE_LUMP = value_set("benign-leg-lump"), value_set("benign-knee-lump")
NOTE_KNEE_LUMP = phrase("malignancy-red-flags", "note.knee-lump")
MASS_WINDOW, SYSTEMIC_WINDOW = window("mass"), window("systemic")
YOUNG_PERSON_AGE = threshold("young-person-age")
UNKNOWN = tuple(phrase("malignancy-red-flags", key) for key in ("unknown.mass-features", "unknown.night-pain"))


def malignancy_red_flags(record: PatientRecord) -> Finding | None:
    if record.current(SARCOMA) or record.current(BONE_MALIGNANCY):
        return None
    mass = [f for f in record.current(MASS, MASS_WINDOW) if not _explained(record, f)]  # until a diagnosis addresses it
    systemic = record.current(WEIGHT_LOSS, SYSTEMIC_WINDOW) + record.current(NIGHT_SWEATS, SYSTEMIC_WINDOW)
    pain = signals.recent_leg_or_knee_pain(record)
    if not mass and not (systemic and pain):
        return None
    young = record.age is not None and record.age < record.threshold(YOUNG_PERSON_AGE)  # NG12: 48-hour pathway
    variant = ("mass" if mass else "systemic") + ("-young" if young else "")
    finding = Finding(MALIGNANCY_RED_FLAGS, "warning", variant=variant)
    finding.add(mass + systemic + (pain if systemic else []))
    # A ganglion or Baker's cyst of that leg's knee recorded since: it explains the lump only if the lump is at
    # the knee, which a leg-mass code does not say (r35b S4): named, the pathway kept
    cysts = record.current(BENIGN_KNEE_LUMP) + record.history(BENIGN_KNEE_LUMP)
    knee_lumps = [d for f in mass for d in cysts if _after_on_same_leg(d, f)]
    if knee_lumps:
        finding.add(knee_lumps)
        finding.notes.append(Say(NOTE_KNEE_LUMP))
    finding.unknown = [Say(p) for p in UNKNOWN]
    return finding


def _explained(record: PatientRecord, mass: Fact) -> bool:
    """A benign diagnosis of a leg lump (current, or since resolved: excised), on the mass's leg or either
    unsided, that began on or after the mass."""
    return any(_after_on_same_leg(d, mass) for d in record.current(BENIGN_LUMP) + record.history(BENIGN_LUMP))


def _after_on_same_leg(diagnosis: Fact, mass: Fact) -> bool:
    """The diagnosis began (onset, else recorded) on or after the mass, on its leg or either unsided."""
    began, diagnosed = mass.onset or mass.when, diagnosis.onset or diagnosis.when
    return began is not None and diagnosed is not None and diagnosed >= began and _same_leg(diagnosis, mass)


def _same_leg(one: Fact, other: Fact) -> bool:
    sides = {signals.side(one), signals.side(other)}
    return None in sides or "both" in sides or len(sides) == 1
