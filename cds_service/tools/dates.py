"""Moving FHIR data written for one day to another, so that "recent" stays recent.

The demo patients (and the clinical scenarios they come from) were written for ANCHOR. Loaded unchanged a
month later, their symptoms would be a month old and the cards would not fire. shift_dates() moves every
FHIR date, dateTime and instant by whole days, keeping each value's precision, time of day and zone.

Only elements whose names say they hold a date are touched (birthDate, onsetDateTime, effectiveInstant,
issued, authoredOn, Period.start/end, ...): an id, a code or a reference that happens to look like a date
is left alone.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from ..fhir_dates import PARTS

ANCHOR = date(2026, 11, 22)  # the day the clinical scenarios (and so the demo patients) were written for

# Element names of FHIR R4 date/dateTime/instant type that do not end in Date, DateTime or Instant.
_PLAIN_DATE_ELEMENTS = frozenset({"date", "issued", "authoredOn", "start", "end", "recorded", "created",
                                  "whenHandedOver", "whenPrepared", "lastUpdated"})
_DATE_SUFFIXES = ("Date", "DateTime", "Instant")



def days_since_anchor(now: datetime | date | None = None, anchor: date = ANCHOR) -> int:
    """How many whole days to move data written for noon UTC on `anchor` (the scenarios' "now") so it reads
    the same at `now` (default: this moment). Whole days that have fully passed: before noon, one fewer, or
    the morning's observations would be moved into the future (and a rule ignores a value not yet taken).
    A date alone stands for its noon."""
    if now is None:
        now = datetime.now(timezone.utc)
    elif not isinstance(now, datetime):
        now = datetime(now.year, now.month, now.day, 12, tzinfo=timezone.utc)
    written_for = datetime(anchor.year, anchor.month, anchor.day, 12, tzinfo=timezone.utc)
    return (now - written_for) // timedelta(days=1)


def is_date_element(name: str) -> bool:
    return name.endswith(_DATE_SUFFIXES) or name in _PLAIN_DATE_ELEMENTS


def shift_value(value: str, days: int) -> str:
    """One FHIR date/dateTime/instant moved by `days`, at its own precision.

    YYYY-MM-DD[Thh:mm:ss...] moves exactly (the time and zone are kept as written). A partial date moves
    its midpoint and is written back at its precision: YYYY-MM from the 15th, YYYY from 2 July. A string
    that is not a FHIR date is returned unchanged; an impossible date (2026-02-30) raises ValueError.
    """
    match = PARTS.match(value)
    if not match or (match["time"] and not match["day"]):
        return value
    year = int(match["year"])
    if match["day"]:
        moved = date(year, int(match["month"]), int(match["day"])) + timedelta(days=days)
        return moved.isoformat() + (match["time"] or "")
    if match["month"]:
        moved = date(year, int(match["month"]), 15) + timedelta(days=days)
        return f"{moved.year:04d}-{moved.month:02d}"
    moved = date(year, 7, 2) + timedelta(days=days)
    return f"{moved.year:04d}"


def shift_dates(data: Any, days: int) -> Any:
    """A copy of `data` (a resource, a list of them, any JSON) with every date element moved by `days`."""
    if isinstance(data, dict):
        return {key: shift_value(value, days) if isinstance(value, str) and is_date_element(key)
                else shift_dates(value, days) for key, value in data.items()}
    if isinstance(data, list):
        return [shift_dates(item, days) for item in data]
    return data
