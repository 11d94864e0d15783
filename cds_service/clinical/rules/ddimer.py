"""A D-dimer already on record, read safely (NICE NG158 D-dimer recommendations — numbered 1.1.12-1.1.14 in
the 2020 text, renumbered in the 2023 update; Schouten BMJ 2013; clinical-knowledge.md §1.5).

- FEU results (LOINC 48065-7, or a unit annotated FEU) are normalised to ng/mL FEU and compared with
  500 ng/mL, or age × 10 ng/mL over 50 (NICE: "consider an age-adjusted threshold over 50").
- The lab's own interpretation flag, then its reference range, win over our cut-off (cut-offs are
  assay-specific).
- DDU results are read only through the lab's flag or range: we never convert DDU to FEU.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from ..facts import Fact, PatientRecord

STANDARD_CUTOFF_NG_ML = Decimal(500)

# UCUM (and common free-text) mass concentration units -> factor to ng/mL
_TO_NG_PER_ML = {
    "ng/mL": Decimal(1), "ug/L": Decimal(1), "µg/L": Decimal(1), "mcg/L": Decimal(1),
    "mg/L": Decimal(1000), "ug/mL": Decimal(1000), "µg/mL": Decimal(1000), "mcg/mL": Decimal(1000),
    "mg/dL": Decimal(10000), "ng/L": Decimal("0.001"),
}
_HIGH_FLAGS = {"H", "HH", "HU", "A", "AA", "POS"}
_NORMAL_FLAGS = {"N", "L", "NEG"}


@dataclass(frozen=True)
class DDimer:
    fact: Fact
    positive: bool | None  # None: cannot be interpreted safely
    basis: str  # how it was read, for the card
    cutoff: Decimal | None


def cutoff_for(age: int | None) -> Decimal:
    return Decimal(age * 10) if age is not None and age > 50 else STANDARD_CUTOFF_NG_ML


def latest_d_dimer(record: PatientRecord) -> DDimer | None:
    candidates = record.measurements("d-dimer-feu", "lab") + record.measurements("d-dimer-ddu", "lab")
    if not candidates:
        return None
    fact = max(candidates, key=lambda f: f.when)
    return read_d_dimer(fact, record.age)


def read_d_dimer(fact: Fact, age: int | None) -> DDimer:
    cutoff = cutoff_for(age)
    if fact.interpretation & _HIGH_FLAGS:
        return DDimer(fact, True, "flagged high by the laboratory", None)
    if fact.interpretation & _NORMAL_FLAGS:
        return DDimer(fact, False, "flagged normal by the laboratory", None)
    value, unit = fact.quantity
    bare_unit, kind = _unit_and_kind(unit, fact)
    if fact.reference_high is not None:
        high_unit, _ = _unit_and_kind(fact.reference_unit or unit, fact)
        value_ng, high_ng = _to_ng(value, bare_unit), _to_ng(fact.reference_high, high_unit)
        if value_ng is not None and high_ng is not None:
            return DDimer(fact, _is_above(value_ng, high_ng, fact.comparator),
                          f"against the laboratory's reference range (upper limit {_plain(fact.reference_high)} "
                          f"{fact.reference_unit or unit})", None)
    if kind == "DDU":
        return DDimer(fact, None, "DDU result without a laboratory flag or range: not interpreted "
                                  "(FEU cut-offs do not apply)", None)
    if kind != "FEU":
        return DDimer(fact, None, "units not stated as FEU: not interpreted", None)
    value_ng = _to_ng(value, bare_unit)
    if value_ng is None:
        return DDimer(fact, None, f"unit {unit!r} not recognised: not interpreted", None)
    label = "age-adjusted cut-off (age × 10)" if cutoff != STANDARD_CUTOFF_NG_ML else "standard cut-off"
    return DDimer(fact, _is_above(value_ng, cutoff, fact.comparator),
                  f"{_plain(value_ng)} ng/mL FEU against the {label} of {_plain(cutoff)} ng/mL FEU", cutoff)


def _unit_and_kind(unit: str, fact: Fact) -> tuple[str, str | None]:
    """('mg/L', 'FEU') from 'mg/L{FEU}', 'mg/L FEU', 'ug/mL FEU' ...; the LOINC code decides otherwise."""
    annotation = re.findall(r"\b(FEU|DDU)\b", unit.upper())
    bare = re.sub(r"\{.*?\}|\b(FEU|DDU)\b", "", unit, flags=re.IGNORECASE).strip()
    if annotation:
        return bare, annotation[0]
    if "d-dimer-feu" in fact.value_sets:
        return bare, "FEU"
    if "d-dimer-ddu" in fact.value_sets:
        return bare, "DDU"
    return bare, None


def _to_ng(value: Decimal, unit: str) -> Decimal | None:
    factor = _TO_NG_PER_ML.get(unit.replace("μ", "µ"))
    return value * factor if factor is not None else None


def _is_above(value: Decimal, cutoff: Decimal, comparator: str | None) -> bool:
    if comparator in ("<", "<="):
        return value > cutoff  # "<270" is below any cut-off at or above 270
    return value >= cutoff


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")
