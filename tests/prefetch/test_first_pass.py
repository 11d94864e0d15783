"""The typed first pass over a long record's Observations (prefetch/lean.py measured, record/build.py
Relevance.long_before) sets aside only what the head path would set aside: every entry it drops, the head
path drops too, and anything with another shape (an answer, a malformed code, no date) takes the head path."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import msgspec
import pytest

from cds_service.clinical.engine import ClinicalEngine
from cds_service.prefetch.lean import measured
from cds_service.record.build import Relevance

NOW = datetime(2026, 11, 22, 12, tzinfo=timezone.utc)
ENGINE = ClinicalEngine()
HEART_RATE = {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]}
WEIGHT = {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]}  # in no value set
SMOKING = {"coding": [{"system": "http://loinc.org", "code": "72166-2"}]}  # tobacco smoking status: in none
NEVER_SMOKED = {"coding": [{"system": "http://snomed.info/sct", "code": "266919005"}]}  # in none


def observation(when, code=HEART_RATE, **more):
    raw = {"resourceType": "Observation", "id": "o", "status": "final", "subject": {"reference": "Patient/p"},
           "code": code, "effectiveDateTime": when, "valueQuantity": {"value": 140, "unit": "/min"}, **more}
    return {key: value for key, value in raw.items() if value is not None}


CASES = {
    "heart rate two years ago": (observation("2024-11-01T10:00:00Z"), True),
    "heart rate months after now": (observation("2027-03-01T10:00:00Z"), True),
    "heart rate this morning": (observation("2026-11-22T08:00:00Z"), False),
    "heart rate yesterday, late in another zone": (observation("2026-11-21T23:30:00-05:00"), False),
    "old heart rate answered in words": (observation("2024-11-01T10:00:00Z", valueString="fast"), False),
    "old heart rate with a coded answer": (
        observation("2024-11-01T10:00:00Z", valueCodeableConcept={"text": "irregular"}), False),
    "old weight, coded outside every value set": (observation("2023-01-01T10:00:00Z", code=WEIGHT), True),
    "weight this morning, a number for a LOINC code outside every value set": (
        observation("2026-11-22T08:00:00Z", code=WEIGHT), True),
    "weight this morning answered in words": (observation("2026-11-22T08:00:00Z", code=WEIGHT, valueString="heavy"), False),
    "local-coded pulse this morning (the unread-entry check reads it)": (
        observation("2026-11-22T08:00:00Z", code={"coding": [{"system": "urn:local", "code": "PULSE"}], "text": "Pulse"}),
        False),
    "old smoking status, a coded answer: question and answer in no value set": (observation(
        "2023-01-01T10:00:00Z", code=SMOKING, valueCodeableConcept=NEVER_SMOKED, valueQuantity=None), True),
    "smoking status this morning (the unread-entry check reads it)": (observation(
        "2026-11-22T08:00:00Z", code=SMOKING, valueCodeableConcept=NEVER_SMOKED, valueQuantity=None), False),
    "old local question answered by a code a value set holds (DVT of the leg)": (observation(
        "2023-01-01T10:00:00Z", code={"coding": [{"system": "urn:local", "code": "Q1"}]}, valueQuantity=None,
        valueCodeableConcept={"coding": [{"system": "http://snomed.info/sct", "code": "404223003"}]}), False),
    "old smoking status answered by a code with a non-string code": (observation(
        "2023-01-01T10:00:00Z", code=SMOKING, valueQuantity=None,
        valueCodeableConcept={"coding": [{"system": "http://snomed.info/sct", "code": {"x": 1}}]}), True),
    "old smoking status, the answer not an object": (observation(
        "2023-01-01T10:00:00Z", code=SMOKING, valueCodeableConcept="never", valueQuantity=None), None),
    "old heart rate, date unreadable": (observation("01/11/2024"), False),
    "old heart rate, codings not a list of objects": (
        observation("2024-11-01T10:00:00Z", code={"coding": ["8867-4"]}), None),
    "old heart rate with a period only": ({**observation(None), "effectivePeriod": {"start": "2024-11-01"}}, False),
}


@pytest.mark.parametrize("name", CASES)
def test_the_first_pass_sets_aside_only_what_the_head_path_would(name):
    raw, set_aside = CASES[name]
    relevance = Relevance(ENGINE.value_sets, ENGINE.catalogue, NOW)
    entry = msgspec.Raw(json.dumps({"resource": raw}).encode())
    quick = measured(entry)
    if set_aside is None:
        assert quick is None  # another shape: the head path decides
        return
    assert relevance.long_before(quick) is set_aside
    if set_aside:
        assert relevance(raw) is None  # the head path would never read it either
