"""Parsing the record: only selected resources are validated; invalid ones are counted; the Patient is read
field by field."""
from __future__ import annotations

import pytest

from cds_service.record.parse import demographics, parse_record


@pytest.mark.parametrize("birth, kept", [("1961-02-03", "1961-02-03"), ("1961", "1961"), ("1961-13-01", None),
                                         ("03/02/1961", None), (19610203, None), (None, None)])
def test_birth_date_is_kept_only_when_it_is_a_fhir_date(birth, kept):
    assert demographics({"resourceType": "Patient", "id": "p", "birthDate": birth}).birthDate == kept


@pytest.mark.parametrize("gender, kept", [("female", "female"), ("F", None), (["male"], None)])
def test_gender_is_kept_only_from_the_fhir_code_list(gender, kept):
    assert demographics({"resourceType": "Patient", "id": "p", "gender": gender}).gender == kept


def test_only_wanted_resources_are_validated_and_invalid_ones_counted():
    good = {"resourceType": "Condition", "id": "a", "subject": {"reference": "Patient/p"}, "code": {"text": "x"}}
    bad = {"resourceType": "Condition", "id": "b", "subject": "Patient/p"}
    ignored = {"resourceType": "Condition", "id": "c", "subject": 42}
    record = parse_record({"resourceType": "Patient", "id": "p"}, {"Condition": [good, bad, ignored]},
                          wanted=lambda raw: raw["id"] != "c")
    assert [m.id for m in record.resources["Condition"]] == ["a"]
    assert record.invalid == {"Condition": 1}
