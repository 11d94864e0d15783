"""A D-dimer already on record, read safely (NICE NG158 D-dimer recommendations — numbered 1.1.12-1.1.14 in
the 2020 text, renumbered in the 2023 update; Schouten BMJ 2013; clinical-knowledge.md §1.5).

- FEU results (LOINC 48065-7, or a unit annotated FEU) are normalised to ng/mL FEU and compared with the
  catalogue's cut-off (500 ng/mL), or age × 10 ng/mL over 50 (NICE: "consider an age-adjusted threshold").
- The lab's own interpretation flag, then its reference range, win over our cut-off (cut-offs are
  assay-specific).
- DDU results are read only through the lab's flag or range: we never convert DDU to FEU.
The reading is returned as a phrase of the suspected-dvt card, with its values.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from ...content.catalogue import measurement, phrase, threshold, window
from ...record.facts import Fact, PatientRecord
from ...record.units import canonical
from .finding import Say

D_DIMER_FEU, D_DIMER_DDU = measurement("d-dimer-feu"), measurement("d-dimer-ddu")
LAB = window("lab")
CUTOFF, AGE_ADJUSTED_OVER, AGE_FACTOR = (
    threshold("d-dimer-cutoff"), threshold("d-dimer-age-adjusted-over"), threshold("d-dimer-age-factor"))
_DVT = "suspected-dvt"
FLAG_HIGH, FLAG_NORMAL, AGAINST_RANGE, DDU_UNREAD, NOT_FEU, UNIT_UNKNOWN, AGAINST_CUTOFF = (
    phrase(_DVT, key) for key in ("d-dimer.flag-high", "d-dimer.flag-normal", "d-dimer.range", "d-dimer.ddu",
                                  "d-dimer.not-feu", "d-dimer.unit-unknown", "d-dimer.cutoff"))
AGE_ADJUSTED, STANDARD = phrase(_DVT, "cutoff.age-adjusted"), phrase(_DVT, "cutoff.standard")

# UCUM mass concentration units (after record/units.py) -> factor to ng/mL
_TO_NG_PER_ML = {
    "ng/mL": Decimal(1), "ug/L": Decimal(1), "mg/L": Decimal(1000), "ug/mL": Decimal(1000),
    "mg/dL": Decimal(10000), "ng/L": Decimal("0.001"),
}


@dataclass(frozen=True)
class DDimer:
    fact: Fact
    positive: bool | None  # None: cannot be interpreted safely
    reading: Say  # how it was read, for the card


def age_adjusted(record: PatientRecord) -> bool:
    return record.age is not None and record.age > record.threshold(AGE_ADJUSTED_OVER)


def cutoff_for(record: PatientRecord) -> Decimal:
    if age_adjusted(record):
        return Decimal(record.age) * record.threshold(AGE_FACTOR)
    return record.threshold(CUTOFF)


def latest_d_dimer(record: PatientRecord, since: datetime | None = None) -> DDimer | None:
    """The D-dimer that answers for the presentation: taken within the 'lab' window and not before `since`
    (when the leg findings began, or, for the NG158 repeat-scan pathway, with its first negative scan, which
    may be longer ago than the lab window)."""
    oldest = record.now - record.catalogue.window(LAB) if since is None else since
    candidates = [f for f in record.measurements(D_DIMER_FEU) + record.measurements(D_DIMER_DDU)
                  if f.when is not None and f.when >= oldest]
    if not candidates:
        return None
    # A positive D-dimer in the window is not cancelled by a later negative one (the worst result counts,
    # as for vital signs); otherwise the latest reading is the one shown.
    readings = [read_d_dimer(fact, record) for fact in sorted(candidates, key=lambda f: f.when, reverse=True)]
    return next((r for r in readings if r.positive), readings[0])


def read_d_dimer(fact: Fact, record: PatientRecord) -> DDimer:
    flags = record.catalogue
    if fact.interpretation & flags.high_flags:
        return DDimer(fact, True, Say(FLAG_HIGH))
    if fact.interpretation & flags.normal_flags:
        return DDimer(fact, False, Say(FLAG_NORMAL))
    value, unit = fact.quantity
    bare_unit, kind = _unit_and_kind(unit, fact)
    if fact.reference_high is not None:
        high_unit, _ = _unit_and_kind(fact.reference_unit or unit, fact)
        value_ng, high_ng = _to_ng(value, bare_unit), _to_ng(fact.reference_high, high_unit)
        if value_ng is not None and high_ng is not None:
            return DDimer(fact, _is_above(value_ng, high_ng, fact.comparator),
                          Say(AGAINST_RANGE, high=_plain(fact.reference_high), unit=fact.reference_unit or unit))
    if kind == "DDU":
        return DDimer(fact, None, Say(DDU_UNREAD))
    if kind != "FEU":
        return DDimer(fact, None, Say(NOT_FEU))
    value_ng = _to_ng(value, bare_unit)
    if value_ng is None:
        return DDimer(fact, None, Say(UNIT_UNKNOWN, unit=unit))
    cutoff = cutoff_for(record)
    return DDimer(fact, _is_above(value_ng, cutoff, fact.comparator),
                  Say(AGAINST_CUTOFF, value=_plain(value_ng), cutoff=_plain(cutoff),
                      basis=Say(AGE_ADJUSTED if age_adjusted(record) else STANDARD)))


def _unit_and_kind(unit: str, fact: Fact) -> tuple[str, str | None]:
    """('mg/L', 'FEU') from 'mg/L{FEU}', 'mg/L FEU', 'ug/mL FEU' ...; the LOINC code decides otherwise."""
    annotation = re.findall(r"\b(FEU|DDU)\b", unit.upper())
    bare = re.sub(r"\{.*?\}|\b(FEU|DDU)\b", "", unit, flags=re.IGNORECASE).strip()
    if annotation:
        return bare, annotation[0]
    if D_DIMER_FEU in fact.value_sets:
        return bare, "FEU"
    if D_DIMER_DDU in fact.value_sets:
        return bare, "DDU"
    return bare, None


def _to_ng(value: Decimal, unit: str) -> Decimal | None:
    factor = _TO_NG_PER_ML.get(canonical(unit))
    return value * factor if factor is not None else None


def _is_above(value: Decimal, cutoff: Decimal, comparator: str | None) -> bool:
    if comparator in ("<", "<="):
        return value > cutoff  # "<270" is below any cut-off at or above 270
    return value >= cutoff


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")
