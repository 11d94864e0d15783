"""What a rule returns: a topic, an urgency, the evidence, and what the record cannot tell."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..facts import Evidence, Fact


@dataclass
class Finding:
    topic: str  # one of the card topics in cards/ (e.g. "suspected-dvt")
    indicator: str  # info | warning | critical
    variant: str = "default"  # which wording of the topic's card applies
    evidence: list[Evidence] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)  # filled into the card's text
    unknown: list[str] = field(default_factory=list)  # items the record cannot show (bedside questions)
    notes: list[str] = field(default_factory=list)  # extra lines for the card's detail
    reasons: list[str] = field(default_factory=list)  # references for ServiceRequest.reasonReference

    def add(self, facts: list[Fact]) -> None:
        for fact in facts:
            if fact.evidence not in self.evidence:
                self.evidence.append(fact.evidence)
            if fact.evidence.reference not in self.reasons and fact.kind in ("Condition", "Observation"):
                self.reasons.append(fact.evidence.reference)
