"""2b. Acute compartment syndrome of the leg — critical (BOAST 10 'Diagnosis and management of compartment
syndrome of the limbs', British Orthopaedic Association 2014, reviewed 2016; r38 review 2, 5).

BOAST: acute compartment syndrome is a surgical emergency; the treatment is decompressive fasciotomy without
delay (the decision within an hour of it being suspected); fractures of the tibia are the commonest cause, and
patients at risk are monitored (pain out of proportion, pain on passive stretch, then sensory change) with the
observations documented. Not a DVT or a muscle-injury card.

Criterion:
- a compartment syndrome of the leg coded (value set compartment-syndrome-leg: T79.A2- initial encounter,
  M79.A2-), current, that began (onset, else recorded) within the finding window: `critical`, 'coded'
  (emergency orthopaedic or plastic surgery review for fasciotomy);
- otherwise a fracture of the tibial plateau or shaft (value set tibial-fracture, initial encounter) that began
  within the compartment-watch window:
  - with a new ischaemic or neurological sign of the leg (pallor, numbness, paraesthesia, paresis; new within
    the short critical window, on the leg or recorded beside the injured leg as after a knee dislocation):
    `critical`, 'fracture-signs' (possible compartment syndrome: emergency review);
  - else `warning`, 'fracture-watch': a known fracture in orthopaedic care, compartment observations (no
    Ottawa radiograph decision: the knee trauma card gives way, r38 5).
Not read yet: a pain score (72514-3, 'severe pain') — the measurement is not among those the service reads.
"""
from __future__ import annotations

from ...content.catalogue import topic, value_set, window
from ...record.facts import PatientRecord
from . import signals
from .finding import Finding
from .limb_ischaemia import CRITICAL_SIGNS, new_signs, on_the_leg

COMPARTMENT_SYNDROME = topic("compartment-syndrome")
SYNDROME, FRACTURE = value_set("compartment-syndrome-leg"), value_set("tibial-fracture")
WATCH = window("compartment-watch")


def tibial_fractures(record: PatientRecord) -> list:
    """Tibial plateau or shaft fractures (initial encounter) that began within the compartment-watch window."""
    return [f for f in record.current(FRACTURE, WATCH) if not record.older_than(f, WATCH)]


def compartment_syndrome(record: PatientRecord) -> Finding | None:
    coded = [f for f in record.current(SYNDROME, signals.FINDING) if not record.older_than(f, signals.FINDING)]
    fracture = tibial_fractures(record)
    if not coded and not fracture:
        return None
    pain = signals.recent_leg_or_knee_pain(record)
    if coded:
        finding = Finding(COMPARTMENT_SYNDROME, "critical", variant="coded")
        finding.add(coded + fracture + pain)
        return finding
    signs = new_signs(record)
    # A sign without a site beside a fresh tibial fracture is the injured leg's (as beside a knee dislocation)
    threatening = [f for f in signs if on_the_leg(record, f, signs, fracture)
                   and not record.older_than(f, CRITICAL_SIGNS)]
    if threatening:
        finding = Finding(COMPARTMENT_SYNDROME, "critical", variant="fracture-signs")
        finding.add(fracture + threatening + pain)
        return finding
    finding = Finding(COMPARTMENT_SYNDROME, "warning", variant="fracture-watch")
    finding.add(fracture + pain)
    return finding
