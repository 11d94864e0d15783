"""FHIR date, dateTime and instant, read in one place: the record's dates, the evaluation time
(CLOCK_NOW, `check --now`) and the demo data's date shifting all parse through here."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone

# A FHIR date or dateTime, split by precision: YYYY, YYYY-MM, YYYY-MM-DD, then optionally Thh:mm:ss...
PARTS = re.compile(r"^(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2}))?)?(?P<time>T.+)?$")
# The FHIR `date` type exactly (Patient.birthDate): no time, months and days in range.
DATE = re.compile(r"^[0-9]{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?$")


def as_datetime(value) -> datetime | None:
    """FHIR date, dateTime or instant (model value or partial string) as an aware UTC datetime, or None.
    A partial date stands for its first day; a date without a time for its start."""
    if value is None:
        return None
    if isinstance(value, datetime):
        try:
            return value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)
        except OverflowError:  # year 1 at +14:00, year 9999 at -14:00: outside what UTC can hold
            return None
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    if isinstance(value, str):
        try:
            if len(value) > 10:
                return as_datetime(datetime.fromisoformat(value.replace("Z", "+00:00")))
            parts = value.split("-")
            return datetime(int(parts[0]), int(parts[1]) if len(parts) > 1 else 1,
                            int(parts[2]) if len(parts) > 2 else 1, tzinfo=timezone.utc)
        except (ValueError, IndexError, OverflowError):
            return None
    return None


def parse_moment(text: str) -> datetime:
    """An ISO 8601 date-time given by a person or a configuration (a zone-less one is UTC); ValueError if
    it is not one."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
