"""Two-level DVT Wells score (Wells 2003 NEJM = NICE NG158 table 1), computed from the record.

Only items the record can prove are scored; their points, and the bedside items, are the catalogue's
("scores": "wells-dvt"). The bedside items are listed as unknown, never assumed absent, and the -2
"alternative diagnosis at least as likely" item is never applied automatically: a coded Baker's cyst does
not make DVT less likely (clinical-knowledge.md §1.7, §1.9).
"""
from __future__ import annotations

from ...content.catalogue import score_item, threshold, value_set
from ...record.facts import Fact, PatientRecord
from . import signals
from .finding import Score, ScoredItem

WELLS = "wells-dvt"
ACTIVE_CANCER, PARALYSIS, PLASTER, BEDRIDDEN_OR_SURGERY, PREVIOUS_DVT = (
    score_item(WELLS, key) for key in ("active-cancer", "paralysis", "plaster", "bedridden-or-surgery",
                                       "previous-dvt"))
LIKELY = threshold("wells-likely")
PARESIS, HEMIPLEGIA_AFTER_STROKE = value_set("paralysis-paresis"), value_set("hemiplegia-after-stroke")


def wells_from_record(record: PatientRecord) -> tuple[Score, list]:
    """The score from the record, and the items still unknown (bedside first, in the catalogue's order)."""
    definition = record.catalogue.scores[WELLS]
    scored = []

    def item(name, facts: list[Fact]) -> None:
        if facts:
            scored.append(ScoredItem(name, facts))

    active_cancer = signals.active_cancer(record)  # treatment ongoing, within 6 months, or palliative
    item(ACTIVE_CANCER, active_cancer)
    paralysis = record.current(PARESIS) + record.current(HEMIPLEGIA_AFTER_STROKE)
    item(PARALYSIS, paralysis)
    item(BEDRIDDEN_OR_SURGERY, signals.immobilised(record) + signals.recent_surgery(record))
    item(PREVIOUS_DVT, signals.previous_dvt(record))
    unknown = [score_item(WELLS, key) for key in definition.bedside]
    if not active_cancer and signals.cancer_on_record(record):
        unknown.insert(0, ACTIVE_CANCER)  # a cancer coded years ago: ask, neither score nor drop it (r38a F4)
    if not paralysis:
        unknown.insert(0, PLASTER)
    if not any(s.item == BEDRIDDEN_OR_SURGERY for s in scored):
        unknown.insert(0, BEDRIDDEN_OR_SURGERY)
    total = sum(record.catalogue.points(s.item) for s in scored)
    highest = total + sum(max(0, record.catalogue.points(u)) for u in unknown)
    return Score(WELLS, total, highest, scored), unknown


def evidence(record: PatientRecord, score: Score, unknown: list) -> list[Fact]:
    """What the card lists from the record for the score: the scored items' facts, and a cancer it asks about
    (the bedside line does not name it; r38a F4)."""
    asked = signals.cancer_on_record(record) if ACTIVE_CANCER in unknown else []
    return [f for item in score.items for f in item.facts] + asked


def likely(record: PatientRecord, score: Score) -> bool:
    return score.total >= record.threshold(LIKELY)


def likely_if_cancer_active(record: PatientRecord, score: Score, unknown: list) -> bool:
    """Wells ≥ 2 from the record, or once a cancer it cannot show to be active is: the reading that lets leg
    or knee pain alone raise the DVT card, so a cancer coded years ago still under treatment the record does
    not show is asked about, not silently dropped (r38a F4)."""
    asked = record.catalogue.points(ACTIVE_CANCER) if ACTIVE_CANCER in unknown else 0
    return score.total + asked >= record.threshold(LIKELY)
