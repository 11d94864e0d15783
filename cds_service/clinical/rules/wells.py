"""Two-level DVT Wells score (Wells 2003 NEJM = NICE NG158 table 1), computed from the record.

Only items the record can prove are scored. The bedside items are listed as unknown, never assumed
absent, and the -2 "alternative diagnosis at least as likely" item is never applied automatically:
a coded Baker's cyst does not make DVT less likely (clinical-knowledge.md §1.7, §1.9).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..facts import Fact, PatientRecord
from . import signals

LIKELY_AT = 2  # "DVT likely" at 2 points or more

BEDSIDE_ITEMS = (
    "Localised tenderness along the distribution of the deep venous system (+1)",
    "Entire leg swollen (+1)",
    "Calf swelling at least 3 cm larger than the asymptomatic side, 10 cm below the tibial tuberosity (+1)",
    "Pitting oedema confined to the symptomatic leg (+1)",
    "Collateral superficial veins, non-varicose (+1)",
    "An alternative diagnosis at least as likely as DVT (−2): clinician judgement, never applied from codes",
)
PLASTER_ITEM = "Recent plaster immobilisation of the leg (+1 with paralysis/paresis)"


@dataclass
class WellsResult:
    score: int
    items: list[tuple[str, list[Fact]]] = field(default_factory=list)  # scored items with their evidence
    unknown: list[str] = field(default_factory=list)

    @property
    def likely(self) -> bool:
        return self.score >= LIKELY_AT

    @property
    def highest_possible(self) -> int:
        return self.score + sum(1 for item in self.unknown if "(+1" in item)

    def breakdown(self) -> list[str]:
        lines = [f"+1 {name}" for name, _ in self.items]
        return lines or ["no item provable from the record"]


def wells_from_record(record: PatientRecord) -> WellsResult:
    result = WellsResult(score=0, unknown=list(BEDSIDE_ITEMS))

    def item(name: str, facts: list[Fact]) -> None:
        if facts:
            result.score += 1
            result.items.append((name, facts))

    item("Active cancer (treatment ongoing, within 6 months, or palliative)", record.current("active-cancer"))
    paralysis = record.current("paralysis-paresis")
    item("Paralysis or paresis of the lower extremities", paralysis)
    if not paralysis:
        result.unknown.insert(0, PLASTER_ITEM)
    item("Recently bedridden ≥ 3 days, or major surgery within 12 weeks",
         record.current("immobilisation", "finding") + recent_surgery(record))
    item("Previously documented DVT", signals.previous_dvt(record))
    if not any(name.startswith("Recently bedridden") for name, _ in result.items):
        result.unknown.insert(0, "Recently bedridden ≥ 3 days or major surgery within 12 weeks not on record (+1)")
    return result


def recent_surgery(record: PatientRecord) -> list[Fact]:
    """A major operation within 12 weeks: a Procedure, or a Condition code such as joint-replacement aftercare."""
    return record.procedures("major-surgery", "surgery") + record.current("major-surgery", "surgery")
