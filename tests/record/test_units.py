"""Measurements written as text: read only when the text is a number and a unit with one meaning."""
from decimal import Decimal

import pytest

from cds_service.record.units import quantity_in_text


@pytest.mark.parametrize("text, expected", [
    ("40%", (None, Decimal("40"), "%")),
    ("89 %", (None, Decimal("89"), "%")),
    ("112 bpm", (None, Decimal("112"), "/min")),
    ("28 /min", (None, Decimal("28"), "/min")),
    ("38.6 °C", (None, Decimal("38.6"), "Cel")),
    ("135", (None, Decimal("135"), "")),
    ("<0.5", ("<", Decimal("0.5"), "")),
    (" >= 130 ", (">=", Decimal("130"), "")),
])
def test_a_number_and_a_known_unit_are_read(text, expected):
    assert quantity_in_text(text) == expected


@pytest.mark.parametrize("text", [
    "sats fine on air", "96% on 4L", "38,6", "120/80", "90-95%", "40 furlongs", "", None, "approx 40%",
])
def test_words_ranges_decimal_commas_and_unknown_units_are_not_read(text):
    assert quantity_in_text(text) is None
