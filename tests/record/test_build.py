"""Building the record: relevance decided once on the raw JSON, only relevant resources validated, invalid
ones counted, the Patient read field by field."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from cds_service.clinical.engine import ClinicalEngine
from cds_service.content.catalogue import value_set
from cds_service.record import patient_demographics

NOW = datetime(2026, 11, 22, 12, tzinfo=timezone.utc)
KNEE_PAIN = {"coding": [{"system": "http://snomed.info/sct", "code": "30989003", "display": "Knee pain"}]}
HEART_RATE = {"coding": [{"system": "http://loinc.org", "code": "8867-4", "display": "Heart rate"}]}
ENGINE = ClinicalEngine()


@pytest.mark.parametrize("birth, kept", [("1961-02-03", "1961-02-03"), ("1961", "1961"), ("1961-13-01", None),
                                         ("03/02/1961", None), (19610203, None), (None, None)])
def test_birth_date_is_kept_only_when_it_is_a_fhir_date(birth, kept):
    assert patient_demographics({"resourceType": "Patient", "id": "p", "birthDate": birth}).birthDate == kept


@pytest.mark.parametrize("gender, kept", [("female", "female"), ("F", None), (["male"], None)])
def test_gender_is_kept_only_from_the_fhir_code_list(gender, kept):
    assert patient_demographics({"resourceType": "Patient", "id": "p", "gender": gender}).gender == kept


def test_only_relevant_resources_are_validated_and_invalid_ones_counted():
    good = {"resourceType": "Condition", "id": "a", "subject": {"reference": "Patient/p"}, "code": KNEE_PAIN,
            "recordedDate": "2026-11-21"}
    bad = {"resourceType": "Condition", "id": "b", "subject": "Patient/p", "code": KNEE_PAIN}
    irrelevant = {"resourceType": "Condition", "id": "c", "subject": 42, "code": {"text": "hay fever"}}
    record = ENGINE.record({"resourceType": "Patient", "id": "p"}, {"Condition": [good, bad, irrelevant]}, NOW)
    assert [f.evidence.reference for f in record.facts] == ["Condition/a"]
    assert record.invalid == {"Condition": 1}  # "c" was never validated: no rule reads hay fever
    assert [e.text for e in record.malformed] == ["Knee pain"]  # named for the cards, "c" not


def _heart_rate(**fields) -> dict:
    observation = {"resourceType": "Observation", "id": "hr", "status": "final", "subject": {"reference": "Patient/p"},
                   "code": HEART_RATE, "effectiveDateTime": "2026-11-22T09:00:00Z",
                   "valueQuantity": {"value": 142, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"}}
    observation.update(fields)
    return observation


@pytest.mark.parametrize("fields", [
    {"code": {"coding": [{"system": "http://loinc.org", "code": "8867-4", "display": ""}], "text": ""}},
    {"note": [], "category": None, "interpretation": [{}]},
])
def test_empty_values_are_read_as_absent(fields):
    record = ENGINE.record({"resourceType": "Patient", "id": "p"}, {"Observation": [_heart_rate(**fields)]}, NOW)
    assert [f.evidence.reference for f in record.facts] == ["Observation/hr"]
    assert not record.invalid and not record.malformed


@pytest.mark.parametrize("fields", [{"status": "finalised"}, {"effectiveDateTime": "22/11/2026 09:00"},
                                    {"subject": "Patient/p"}])
def test_a_reading_a_rule_would_use_that_is_not_valid_fhir_is_named_not_dropped(fields):
    record = ENGINE.record({"resourceType": "Patient", "id": "p"}, {"Observation": [_heart_rate(**fields)]}, NOW)
    assert not record.facts
    assert [(e.kind, e.text) for e in record.malformed] == [("Observation", "Heart rate: 142 /min")]


def test_an_old_reading_that_is_not_valid_fhir_is_not_named():
    old = _heart_rate(effectiveDateTime="2026-10-01T09:00:00Z", subject="Patient/p")  # outside the vital window
    record = ENGINE.record({"resourceType": "Patient", "id": "p"}, {"Observation": [old]}, NOW)
    assert not record.facts and not record.malformed


def test_a_measurement_outside_its_window_is_never_validated():
    def heart_rate(oid: str, when: str, subject) -> dict:
        return {"resourceType": "Observation", "id": oid, "status": "final", "subject": subject,
                "code": HEART_RATE, "effectiveDateTime": when,
                "valueQuantity": {"value": 88, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"}}
    fresh = heart_rate("fresh", "2026-11-22T09:00:00Z", {"reference": "Patient/p"})
    stale_and_broken = heart_rate("stale", "2026-11-20T09:00:00Z", "not a reference")
    record = ENGINE.record({"resourceType": "Patient", "id": "p"}, {"Observation": [fresh, stale_and_broken]}, NOW)
    assert [f.evidence.reference for f in record.facts] == ["Observation/fresh"]
    assert not record.invalid


# -- anticoagulant orders not being given (r31 review S2; KB §1.8, §8.3) ------------------------------------

APIXABAN = {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1364445",
                        "display": "apixaban 5 MG Oral Tablet"}]}
ANTICOAGULANTS = value_set("anticoagulants")


def _days(n: int) -> str:
    """A date n days from NOW (negative: before), so no test depends on today's date."""
    return (NOW + timedelta(days=n)).strftime("%Y-%m-%d")


def _order(**fields) -> dict:
    return {"resourceType": "MedicationRequest", "id": "o", "status": "active", "intent": "order",
            "subject": {"reference": "Patient/p"}, "medicationCodeableConcept": APIXABAN, "authoredOn": _days(-3),
            **fields}


def _treating(order: dict) -> list:
    record = ENGINE.record({"resourceType": "Patient", "id": "p"}, {"MedicationRequest": [order]}, NOW)
    return record.medicines(ANTICOAGULANTS)


def _bounded(start: int, end: int | None) -> dict:
    period = {"start": _days(start)} | ({"end": _days(end)} if end is not None else {})
    return {"text": "5 mg twice daily", "timing": {"repeat": {"boundsPeriod": period}}}


@pytest.mark.parametrize("text, note, treating", [
    ("5 mg BD", None, True),
    ("DO NOT GIVE - contraindicated, GI bleed", None, False),
    ("Contraindicated - platelets 18", None, False),
    ("to start once Hb checked - awaiting bloods", None, False),
    ("5 mg BD - patient refuses to take", None, False),
    ("5 mg BD", "Not yet started - awaiting OGD", False),  # the note is read as well as the dosage
    ("5 mg BD - no longer contraindicated, platelets 160", None, True),
    ("5 mg BD. Do not give if platelets < 50", None, True),  # a condition, not a hold
    ("5 mg BD, do not give with NSAIDs", None, True),  # how to give it, not that it is not given
    ("Held 18/11 for biopsy, restarted 20/11 5 mg BD", None, True),
    ("5 mg daily, dose per INR clinic - awaiting INR", None, True),  # waiting for a result is no hold
])
def test_an_order_worded_as_not_given_is_no_anticoagulation(text, note, treating):
    order = _order(dosageInstruction=[{"text": text}], **({"note": [{"text": note}]} if note else {}))
    assert bool(_treating(order)) is treating


def test_an_order_not_to_give_it_is_no_anticoagulation():
    assert _treating(_order(dosageInstruction=[{"text": "5 mg BD"}], doNotPerform=False))
    assert not _treating(_order(dosageInstruction=[{"text": "5 mg BD"}], doNotPerform=True))


@pytest.mark.parametrize("dosages, validity_end, current", [
    ([_bounded(-90, -30)], None, False),  # the course it gave itself is over
    ([_bounded(-90, 60)], None, True),
    ([_bounded(-90, -30), _bounded(-30, None)], None, True),  # loading dose over, the maintenance line runs on
    ([{"text": "5 mg BD"}], -30, False),  # a prescription past its validity
    ([_bounded(-90, 60)], -30, True),  # the dosage still runs: the later end wins
    ([_bounded(-90, -60)], 30, True),
])
def test_an_order_whose_own_period_ended_is_an_ended_course(dosages, validity_end, current):
    order = _order(dosageInstruction=dosages, authoredOn=_days(-90))
    if validity_end is not None:
        order["dispenseRequest"] = {"validityPeriod": {"start": _days(-90), "end": _days(validity_end)}}
    record = ENGINE.record({"resourceType": "Patient", "id": "p"}, {"MedicationRequest": [order]}, NOW)
    assert bool(record.medicines(ANTICOAGULANTS)) is current
    assert bool(record.ended_courses(ANTICOAGULANTS)) is not current  # read as a statement whose period ended


def test_the_dosage_text_travels_with_the_evidence_shortened():
    long = "10 mg twice daily for 7 days then 5 mg twice daily, take with food, review at anticoagulation clinic in 3 months"
    [fact] = _treating(_order(dosageInstruction=[{"text": "  5 mg\n BD  "}]))
    assert fact.evidence.dosage == "5 mg BD"
    [fact] = _treating(_order(dosageInstruction=[{"text": long}]))
    assert fact.evidence.dosage.endswith("…") and len(fact.evidence.dosage) <= 80
    assert fact.evidence.dosage.startswith("10 mg twice daily for 7 days then 5 mg twice daily, take with food")
