"""Moving FHIR dates by whole days (tools.dates), as `demo load` does from the scenarios' day to today."""
from __future__ import annotations

import copy
from datetime import date, datetime, timezone

import pytest

from cds_service.tools.dates import ANCHOR, days_since_anchor, is_date_element, shift_dates, shift_value


def test_the_anchor_is_the_day_the_scenarios_were_written_for():
    assert ANCHOR == date(2026, 11, 22)
    assert days_since_anchor(date(2026, 11, 22)) == 0
    assert days_since_anchor(date(2026, 12, 1)) == 9
    assert days_since_anchor(date(2027, 11, 22)) == 365
    assert days_since_anchor(date(2026, 11, 1)) == -21
    # Before noon UTC one day fewer: data taken at 09:00 on the anchor day would otherwise be in the future.
    assert days_since_anchor(datetime(2026, 12, 2, 0, 40, tzinfo=timezone.utc)) == 9
    assert days_since_anchor(datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)) == 10
    assert isinstance(days_since_anchor(), int)  # today, in UTC


@pytest.mark.parametrize("value, days, expected", [
    ("2026-11-20", 0, "2026-11-20"),
    ("2026-11-20", 9, "2026-11-29"),
    ("2026-11-20", 11, "2026-12-01"),  # across a month
    ("2026-12-30", 3, "2027-01-02"),  # across a year
    ("2028-02-28", 1, "2028-02-29"),  # a leap day
    ("2026-11-20", -20, "2026-10-31"),  # backwards
    ("1956-05-05", 365, "1957-05-05"),  # a birth date keeps the age the scenario had
    ("2026-11-21T10:00:00Z", 9, "2026-11-30T10:00:00Z"),  # time and zone kept as written
    ("2026-11-22T09:30:00.250+01:00", 40, "2027-01-01T09:30:00.250+01:00"),
    ("2026-11-22T23:59:59-05:00", 1, "2026-11-23T23:59:59-05:00"),
    ("2026-06", 0, "2026-06"),  # partial dates keep their precision, moved from their midpoint
    ("2026-06", 20, "2026-07"),
    ("2026-06", -20, "2026-05"),
    ("2026", 0, "2026"),
    ("2026", 200, "2027"),
    ("2026", -200, "2025"),
])
def test_shift_value(value, days, expected):
    assert shift_value(value, days) == expected


@pytest.mark.parametrize("value", ["", "scn", "cond-3", "12:30:00", "not 2026-11-20", "2026-11-20 later",
                                   "2026T10:00:00Z"])
def test_what_is_not_a_fhir_date_is_left_alone(value):
    assert shift_value(value, 30) == value


def test_an_impossible_date_is_an_error():
    with pytest.raises(ValueError):
        shift_value("2026-02-30", 1)


def test_date_elements_are_recognised_by_name():
    for name in ("birthDate", "onsetDateTime", "abatementDateTime", "effectiveDateTime", "effectiveInstant",
                 "recordedDate", "performedDateTime", "valueDateTime", "issued", "authoredOn", "start", "end"):
        assert is_date_element(name), name
    for name in ("id", "code", "reference", "system", "display", "text", "value", "valueString", "status"):
        assert not is_date_element(name), name


def test_shift_dates_moves_every_date_element_and_nothing_else():
    observation = {
        "resourceType": "Observation", "id": "2026-11-20",  # an id may look like a date: not moved
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "1988-5", "display": "2026-11-20"}]},
        "subject": {"reference": "Patient/scn"},
        "effectiveDateTime": "2026-11-21T10:00:00Z",
        "issued": "2026-11-21T11:00:00Z",
        "valueQuantity": {"value": 85, "unit": "mg/L"},
        "valueString": "2026-11-20",
        "referenceRange": [{"low": {"value": 0}, "text": "normal"}],
        "extension": [{"url": "http://example.org/x", "valueDate": "2026-11-01"}],
        "note": [{"text": "taken 2026-11-21"}],
    }
    condition = {"resourceType": "Condition", "onsetPeriod": {"start": "2026-11-01", "end": "2026-11-20"},
                 "recordedDate": "2026-11-22"}
    before = copy.deepcopy([observation, condition])
    moved_observation, moved_condition = shift_dates([observation, condition], 10)
    assert [observation, condition] == before  # the input is not changed
    assert moved_observation["effectiveDateTime"] == "2026-12-01T10:00:00Z"
    assert moved_observation["issued"] == "2026-12-01T11:00:00Z"
    assert moved_observation["extension"][0]["valueDate"] == "2026-11-11"
    unchanged = {k: v for k, v in moved_observation.items() if k not in ("effectiveDateTime", "issued", "extension")}
    assert unchanged == {k: v for k, v in observation.items() if k not in ("effectiveDateTime", "issued", "extension")}
    assert moved_condition == {"resourceType": "Condition", "onsetPeriod": {"start": "2026-11-11", "end": "2026-11-30"},
                               "recordedDate": "2026-12-02"}


def test_shifting_by_zero_days_is_the_identity():
    resource = {"resourceType": "Patient", "id": "p", "birthDate": "1981-03-02",
                "extension": [{"url": "u", "valueDateTime": "2026-11-22T09:00:00Z"}]}
    assert shift_dates(resource, 0) == resource
