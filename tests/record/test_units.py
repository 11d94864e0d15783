"""Measurements written as text: read only when the text is a number and a unit with one meaning."""
from decimal import Decimal

import pytest

from cds_service.record.units import oxygen_after_saturation, quantity_in_text, systolic_in_text


@pytest.mark.parametrize("text, expected", [
    ("40%", (None, Decimal("40"), "%")),
    ("89 %", (None, Decimal("89"), "%")),
    ("112 bpm", (None, Decimal("112"), "/min")),
    ("28 /min", (None, Decimal("28"), "/min")),
    ("38.6 °C", (None, Decimal("38.6"), "Cel")),
    ("135", (None, Decimal("135"), "")),
    ("<0.5", ("<", Decimal("0.5"), "")),
    ("89% on RA", (None, Decimal("89"), "%")),
    ("HR 142 bpm", (None, Decimal("142"), "/min")),
    ("Sats: 89%", (None, Decimal("89"), "%")),
    ("15L NRB", (None, Decimal("15"), "L/min")),
    ("Tachycardic 118", (None, Decimal("118"), "")),
    ("<150 ng/mL FEU", ("<", Decimal("150"), "ng/mL")),
    (" >= 130 ", (">=", Decimal("130"), "")),
    ("<15 mL/min/1.73m2", ("<", Decimal("15"), "mL/min/{1.73_m2}")),  # digits inside a unit (r39 S4)
    ("7.2 x10^9/L", (None, Decimal("7.2"), "10*9/L")),
])
def test_a_number_and_a_known_unit_are_read(text, expected):
    assert quantity_in_text(text) == expected


@pytest.mark.parametrize("text", [
    "sats fine on air", "96% on 4L", "38,6", "no 40%", "120/80", "90-95%", "40 furlongs", "", None, "approx 40%",
    "15 to 20 mL/min", "12 x2",
])
def test_words_ranges_decimal_commas_and_unknown_units_are_not_read(text):
    assert quantity_in_text(text) is None


@pytest.mark.parametrize("text, saturation, flow", [
    ("Sats 95% on 15L NRB", "Sats 95%", Decimal("15")), ("96% on 2L NC", "96%", Decimal("2")),
    ("94 % 4 L via mask", "94 %", Decimal("4")),
])
def test_the_oxygen_a_saturation_was_taken_on_is_read_apart(text, saturation, flow):
    assert oxygen_after_saturation(text) == (saturation, flow)


@pytest.mark.parametrize("text", ["98%", "95% on RA", "15L", None])
def test_a_saturation_without_oxygen_names_none(text):
    assert oxygen_after_saturation(text) is None


@pytest.mark.parametrize("text, systolic", [
    ("85/50", Decimal("85")), ("BP 85/50 mmHg", Decimal("85")), ("NIBP: 118 / 76", Decimal("118")),
    ("85/50 mm Hg (at rest)", Decimal("85")),
])
def test_a_blood_pressure_written_as_text_gives_its_systolic(text, systolic):
    assert systolic_in_text(text) == systolic


@pytest.mark.parametrize("text", ["50/85", "85/50 MAP 62", "85", "BP low", "85/50/40", "3/12", "", None])
def test_a_text_that_is_not_only_two_pressures_is_not_read(text):
    assert systolic_in_text(text) is None
