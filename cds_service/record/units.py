"""Units as real records write them, normalised to UCUM where the reading is unambiguous.

"degrees C", "ng/ml", "{beats}/min" and "mmHg" mean one thing each; they are mapped to their UCUM code. A
measurement sent without any unit is given one only when its value can mean one thing for that measurement
(the catalogue's "plausibleRanges": a temperature of 38.6 is Celsius, of 101.3 Fahrenheit; a value outside
every range stays unitless and no rule reads it). Nothing else is guessed.
"""
from __future__ import annotations

import re
from decimal import Decimal

from .words import alternatives

# Lower-cased spellings seen in records -> the UCUM code. Only spellings with a single meaning.
_SPELLINGS = {
    "cel": "Cel", "°c": "Cel", "degc": "Cel", "deg c": "Cel", "degrees c": "Cel", "degree c": "Cel",
    "celsius": "Cel", "degrees celsius": "Cel", "c": "Cel",
    "[degf]": "[degF]", "°f": "[degF]", "degf": "[degF]", "deg f": "[degF]", "degrees f": "[degF]",
    "degree f": "[degF]", "fahrenheit": "[degF]", "degrees fahrenheit": "[degF]", "f": "[degF]",
    "/min": "/min", "{beats}/min": "/min", "beats/min": "/min", "bpm": "/min", "{breaths}/min": "/min",
    "breaths/min": "/min", "per min": "/min", "/minute": "/min", "min-1": "/min",
    "%": "%", "percent": "%", "1": "1", "{ratio}": "1",
    "l/min": "L/min", "lpm": "L/min", "l": "L/min", "litres": "L/min", "liters": "L/min", "lt": "L/min",
    "mm[hg]": "mm[Hg]", "mmhg": "mm[Hg]", "mm hg": "mm[Hg]",
    "ng/ml": "ng/mL", "ug/l": "ug/L", "µg/l": "ug/L", "μg/l": "ug/L", "mcg/l": "ug/L",
    "mg/l": "mg/L", "ug/ml": "ug/mL", "µg/ml": "ug/mL", "μg/ml": "ug/mL", "mcg/ml": "ug/mL",
    "mg/dl": "mg/dL", "ng/l": "ng/L",
    "ml/min/{1.73_m2}": "mL/min/{1.73_m2}", "ml/min/1.73m2": "mL/min/{1.73_m2}", "ml/min/1.73 m2": "mL/min/{1.73_m2}",
    "ml/min/1.73m²": "mL/min/{1.73_m2}", "ml/min/1.73 m²": "mL/min/{1.73_m2}", "ml/min/1.73m^2": "mL/min/{1.73_m2}",
    "ml/min/1.73 m^2": "mL/min/{1.73_m2}", "ml/min/1.73sqm": "mL/min/{1.73_m2}", "ml/min/1.73 sq m": "mL/min/{1.73_m2}",
    "ml/min/1.73 sq.m": "mL/min/{1.73_m2}", "ml/min per 1.73 m2": "mL/min/{1.73_m2}", "ml/min per 1.73m2": "mL/min/{1.73_m2}",
    "ml/min": "mL/min",
    "ng/ml feu": "ng/mL", "ug/ml feu": "ug/mL", "µg/ml feu": "ug/mL", "mg/l feu": "mg/L", "ug/l feu": "ug/L",
    "feu ng/ml": "ng/mL", "ng/ml (feu)": "ng/mL", "ug/ml (feu)": "ug/mL", "mg/l (feu)": "mg/L",
    "10*9/l": "10*9/L", "10^9/l": "10*9/L", "x10^9/l": "10*9/L", "x10e9/l": "10*9/L",
    "10*3/ul": "10*3/uL", "10^3/ul": "10*3/uL", "x10e3/ul": "10*3/uL", "k/ul": "10*3/uL", "/nl": "10*9/L",
    "10*3/mm3": "10*3/uL", "/ul": "/uL", "/mm3": "/uL",
    "mm/h": "mm/h", "mm/hr": "mm/h", "mm/hour": "mm/h", "mm/1h": "mm/h", "mm/1 h": "mm/h", "mm/1hr": "mm/h",  # ESR
}


def canonical(unit: str | None) -> str:
    """The UCUM code for a unit as written, or the unit unchanged when it is not one we know."""
    if not unit:
        return ""
    return _SPELLINGS.get(" ".join(unit.strip().lower().split()), unit.strip())


def with_plausible_unit(value: Decimal, unit: str, ranges: dict[str, list]) -> tuple[Decimal, str]:
    """A missing unit filled in when exactly one plausible range of the measurement holds the value; then
    a fraction of 1 as a percentage where the measurement is read in %."""
    if not unit:
        fits = [u for u, (low, high) in ranges.items() if Decimal(str(low)) <= value <= Decimal(str(high))]
        unit = fits[0] if len(fits) == 1 else ""
    if unit == "1" and "%" in ranges and 0 < value <= 1:
        return value * 100, "%"
    return value, unit


_KNOWN = frozenset(_SPELLINGS.values())
# The measurement's own name before its number, as flowsheets write it ("HR 142 bpm", "Sats: 89%")
_LABELS = ("hr", "pr", "pulse", "pulse rate", "heart rate", "tachycardic", "tachy", "rr", "resp", "resp rate",
           "respiratory rate", "spo2", "sao2", "sats", "sat", "o2 sats", "o2", "fio2", "t", "temp", "temperature",
           "febrile", "pyrexial", "bp", "sbp", "systolic", "ddimer", "d-dimer", "crp", "wcc", "wbc")
# What may follow the unit without changing the number: where the saturation was taken ("89% on RA"), or the
# device the oxygen flows through ("15L NRB", "2 L via NC")
_CONTEXTS = ("on ra", "ra", "on room air", "room air", "on air", "in air", "air", "at rest", "resting", "via nc", "nc",
             "via nasal cannula", "nasal cannula", "np", "nasal prongs", "nrb", "via nrb", "non-rebreather",
             "via mask", "mask", "face mask", "venturi", "hfno", "via hfno")
_ALT = alternatives(_LABELS)
_CTX = alternatives(_CONTEXTS)
# One number, a comparator before it and a unit after it at most: "40%", "112 bpm", "38.6 °C", "<0.5", with
# the measurement's name before it and a context after it. The unit may hold digits after its first character
# ("<15 mL/min/1.73m2", r39 S4: an eGFR written so was not read); a unit not in _SPELLINGS is still not read. A decimal comma is not read (thousands or decimals:
# a guess either way).
_NUMBER_TEXT = re.compile(rf"^\s*(?:(?:{_ALT})\s*[:=-]?\s*)?(<=|>=|<|>)?\s*(\d{{1,6}}(?:\.\d+)?)\s*"
                          rf"([^\d\s,(][^,(]*?)??\s*(?:\(?\s*(?:{_CTX})\s*\)?)?\s*\.?\s*$", re.IGNORECASE)


def quantity_in_text(text: str | None) -> tuple[str | None, Decimal, str] | None:
    """(comparator, value, UCUM unit or "") of a measurement recorded as text, when the text is only a number
    and a unit we know (or none), the measurement's name before it and a context after it at most; anything
    else (words, a range, an unknown unit) is None: not read."""
    match = _NUMBER_TEXT.match(text or "")
    if not match:
        return None
    unit = canonical(match.group(3))
    if unit and unit not in _KNOWN:
        return None
    return match.group(1), Decimal(match.group(2)), unit


# Oxygen written after a saturation: "95% on 15L NRB", "96% on 2L NC", "94 % 4 L via mask"
_OXYGEN_AFTER = re.compile(r"\s*(?:on|with|via|@)?\s*(\d{1,2}(?:\.\d+)?)\s*(?:l|lpm|l/min|litres?|liters?)\b"
                           rf"\s*(?:(?:via\s+)?(?:{_CTX}))?\s*\.?\s*$", re.IGNORECASE)


def oxygen_after_saturation(text: str | None) -> tuple[str, Decimal] | None:
    """(the saturation's own text, the oxygen flow in L/min) when a saturation written as text names the oxygen
    it was taken on; else None. The saturation on oxygen is read, and the oxygen is an oxygen need."""
    match = _OXYGEN_AFTER.search(text or "")
    if not match or match.start() == 0:
        return None
    return text[:match.start()], Decimal(match.group(1))


# A blood pressure written as text, systolic over diastolic: "85/50", "BP 85/50 mmHg", "NIBP: 85 / 50"
_PRESSURE_TEXT = re.compile(r"^\s*(?:(?:bp|nibp|abp|blood pressure)\s*[:=-]?\s*)?(\d{2,3})\s*/\s*(\d{2,3})\s*"
                            rf"(?:mm\s*\[?hg\]?)?\s*(?:\(?\s*(?:{_CTX})\s*\)?)?\s*\.?\s*$", re.IGNORECASE)


def systolic_in_text(text: str | None) -> Decimal | None:
    """The systolic pressure of a blood pressure written as text ("85/50"), when the text is only the two
    pressures (a label before, a unit and a context after at most) and the first is the higher; else None."""
    match = _PRESSURE_TEXT.match(text or "")
    if not match or int(match.group(1)) <= int(match.group(2)):
        return None
    return Decimal(match.group(1))

