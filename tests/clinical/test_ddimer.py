"""D-dimer units and cut-offs (NICE NG158; Schouten BMJ 2013): FEU only, normalised; lab flag and range first."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from cds_service.content.catalogue import default_catalogue
from cds_service.record.facts import Evidence, Fact, PatientRecord
from cds_service.clinical.rules import ddimer
from cds_service.clinical.rules.ddimer import cutoff_for

CATALOGUE = default_catalogue()


def aged(age) -> PatientRecord:
    return PatientRecord(now=datetime(2026, 1, 1, tzinfo=timezone.utc), age=age, sex=None, catalogue=CATALOGUE)


def read_d_dimer(fact: Fact, age):
    return ddimer.read_d_dimer(fact, aged(age))


def d_dimer(value, unit, value_set="d-dimer-feu", **extra) -> Fact:
    return Fact("Observation", frozenset({value_set}), None, True, Evidence("Observation/x", "D-dimer", (), None),
                quantity=(Decimal(str(value)), unit), **extra)


@pytest.mark.parametrize("age, cutoff", [(None, 500), (30, 500), (50, 500), (51, 510), (80, 800)])
def test_age_adjusted_cutoff_over_50(age, cutoff):
    assert cutoff_for(aged(age)) == cutoff


@pytest.mark.parametrize("value, unit, age, positive", [
    (499, "ng/mL", 40, False), (500, "ng/mL", 40, True), (0.49, "mg/L", 40, False), (0.5, "mg/L", 40, True),
    (0.5, "ug/mL", 40, True), (0.49, "µg/mL", 40, False), (450, "ug/L", 40, False), (0.7, "mg/L{FEU}", 75, False),
    (0.76, "mg/L FEU", 75, True), (700, "ng/mL", 75, False), (760, "ng/mL", 75, True),
])
def test_feu_results_are_normalised_to_ng_per_ml(value, unit, age, positive):
    assert read_d_dimer(d_dimer(value, unit), age).positive is positive


def test_ddu_is_never_read_against_feu_cutoffs():
    assert read_d_dimer(d_dimer(100, "ng/mL", "d-dimer-ddu"), 40).positive is None
    assert read_d_dimer(d_dimer(100, "ng/mL{DDU}"), 40).positive is None  # DDU annotation on an FEU code


def test_unknown_units_are_not_read():
    assert read_d_dimer(d_dimer(3, "mmol/L"), 40).positive is None


def test_lab_flag_and_range_come_first():
    assert read_d_dimer(d_dimer(100, "ng/mL", interpretation=frozenset({"H"})), 40).positive is True
    assert read_d_dimer(d_dimer(900, "ng/mL", interpretation=frozenset({"N"})), 40).positive is False
    in_range = d_dimer(0.4, "mg/L", reference_high=Decimal("0.3"), reference_unit="mg/L")
    assert read_d_dimer(in_range, 40).positive is True
