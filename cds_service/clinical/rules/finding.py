"""What a rule returns: a topic, an urgency and variant, the evidence as structured facts, and what the
record cannot tell, all by declared names: the words come from cards/ when the card is rendered."""
from __future__ import annotations

from dataclasses import dataclass, field

from ...content.catalogue import Name
from ...record.facts import Evidence, Fact


@dataclass(frozen=True)
class Say:
    """A phrase of the card's topic (cards/topics/<topic>.json "phrases") with the values it is filled with;
    a value may itself be a Say."""
    phrase: Name
    values: dict = field(default_factory=dict)

    def __init__(self, phrase: Name, **values):
        object.__setattr__(self, "phrase", phrase)
        object.__setattr__(self, "values", values)


@dataclass
class ScoredItem:
    item: Name  # a score item of the catalogue ("score-item")
    facts: list[Fact]


@dataclass
class Score:
    name: str  # a score of the catalogue, e.g. "wells-dvt"
    total: int
    highest_possible: int
    items: list[ScoredItem] = field(default_factory=list)


@dataclass
class Finding:
    topic: Name  # a card topic of the catalogue
    indicator: str  # info | warning | critical
    variant: str = "default"  # which wording of the topic's card applies
    evidence: list[Evidence] = field(default_factory=list)
    values: dict[str, object] = field(default_factory=dict)  # filled into the card's text (numbers, Say, lists)
    unknown: list[Say | Name] = field(default_factory=list)  # what the record cannot show: phrases or score items
    notes: list[Say] = field(default_factory=list)  # extra lines for the card's detail
    reasons: list[str] = field(default_factory=list)  # references for ServiceRequest.reasonReference
    score: Score | None = None
    basis: list[Evidence] = field(default_factory=list)  # what the criterion fired on (for give-way rules)
    # urgent only if an answer the reader could not interpret says so: ask first (about these findings)
    ask_first: bool | tuple[str, ...] = False
    pending: bool = False  # raised only by results not yet final: the summary opens with that (engine._pending)
    follows: bool = False  # placed after the other cards of its indicator (a PE card whose physiology sepsis explains)
    # a warning the summary opens with ('DVT not excluded': r40 S5); several: the first that fits
    leads_with: Say | tuple[Say, ...] | None = None

    def add(self, facts: list[Fact]) -> None:
        for fact in facts:
            if fact.evidence not in self.evidence:
                self.evidence.append(fact.evidence)
            if fact.evidence.reference not in self.reasons and fact.kind in ("Condition", "Observation"):
                self.reasons.append(fact.evidence.reference)
