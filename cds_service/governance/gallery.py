"""The card gallery: every demo patient through the hook's own path, its cards grouped by topic and variant in
catalogue order, and each variant no demo patient produces named as such (nothing is made up for it).

The demo patients are dated for tools.dates.ANCHOR (noon UTC, the scenarios' "now"). The gallery evaluates
them at noon UTC of the day asked for, with their dates moved by the whole days since the anchor, as
`cds-service demo` moves them: the cards read as they would today, and the same for every call that day,
so one gallery is built per process and day.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timezone

from ..http.views import answer_hook
from ..services import SERVICES
from ..tools import demo
from ..tools.dates import days_since_anchor
from ..tools.examples import request_for
from .card_view import CardView, card_view

SERVICE_ID = "posterior-knee-pain"  # the service whose cards the demo patients are written for
# Complete prefetch, nothing to fetch: the deadline only bounds reading the record, and a gallery built on a
# busy machine must not come out marked incomplete by the hook's 0.45 s.
DEADLINE_SECONDS = 30.0


@dataclass(frozen=True)
class Example:
    patient_id: str
    patient_title: str
    position: int  # the card's place in that patient's answer, from 1
    card: CardView


@dataclass(frozen=True)
class VariantSection:
    variant: str
    examples: tuple[Example, ...]  # empty: no demo patient produces this variant


@dataclass(frozen=True)
class TopicSection:
    topic: str
    display: str
    variants: tuple[VariantSection, ...]

    @property
    def shown(self) -> int:
        return sum(1 for v in self.variants if v.examples)


@dataclass(frozen=True)
class PatientRow:
    id: str
    title: str
    summaries: tuple[str, ...]  # its cards' summaries, in the order the hook answered


@dataclass(frozen=True)
class Gallery:
    day: date
    days_shifted: int
    topics: tuple[TopicSection, ...]
    patients: tuple[PatientRow, ...]
    undeclared: tuple[str, ...]  # "topic/variant" produced but not in the catalogue (a drift to fix)

    @property
    def missing(self) -> int:
        return sum(1 for t in self.topics for v in t.variants if not v.examples)


def build_gallery(state, day: date) -> Gallery:
    """Every demo patient's cards on `day`, through http.views.answer_hook (no trust step, nothing stored:
    a gallery card is not an issued card, and must not count in the feedback figures)."""
    now = datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc)
    days = days_since_anchor(now)
    service = SERVICES[SERVICE_ID]
    catalogue, templates = state.engine.catalogue, state.engine.templates
    produced: dict[tuple[str, str], list[Example]] = {}
    patients = []
    for patient in demo.demo_patients():
        body = request_for(patient.patient, list(patient.resources), days)
        _, _, issued = answer_hook(service, body, state, now=now, allowlist=(),
                                   deadline=time.monotonic() + DEADLINE_SECONDS, reserve=0.0)
        for position, card in enumerate(issued, 1):
            produced.setdefault((card.topic, card.finding.variant), []).append(
                Example(patient.id, patient.title, position, card_view(card.card)))
        patients.append(PatientRow(patient.id, patient.title, tuple(i.card["summary"] for i in issued)))
    topics = tuple(
        TopicSection(topic, templates.topics[topic]["display"],
                     tuple(VariantSection(v, tuple(produced.get((topic, v), ()))) for v in variants))
        for topic, variants in catalogue.variants.items())
    declared = {(t, v) for t, variants in catalogue.variants.items() for v in variants}
    undeclared = tuple(sorted(f"{t}/{v}" for t, v in produced if (t, v) not in declared))
    return Gallery(day, days, topics, tuple(patients), undeclared)


class GalleryCache:
    """One gallery per day, per process: building it runs 16 patients through the rules (about a second)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._day: date | None = None
        self._gallery: Gallery | None = None

    def get(self, state, day: date) -> Gallery:
        with self._lock:  # one build at a time: a burst of first requests builds it once
            if self._day != day or self._gallery is None:
                self._gallery, self._day = build_gallery(state, day), day
            return self._gallery
