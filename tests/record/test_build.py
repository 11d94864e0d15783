"""Building the record: relevance decided once on the raw JSON, only relevant resources validated, invalid
ones counted, the Patient read field by field."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from cds_service.clinical.engine import ClinicalEngine
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
