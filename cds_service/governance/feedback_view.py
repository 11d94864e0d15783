"""The feedback page's content from read_figures(): the report's per-topic table, one weekly bar chart per
topic, and the override reasons, each chart with its figures as a table beside it. Aggregates only."""
from __future__ import annotations

from dataclasses import dataclass

from ..tools.feedback_report import NO_REASON, percent, reason_label, topic_label
from .charts import RowChart, WeekChart, row_chart, week_chart, week_range

SERIES_LABELS = {"cardsIssued": "cards issued", "accepted": "accepted", "overridden": "overridden"}


@dataclass(frozen=True)
class TopicRow:
    label: str
    cells: tuple  # cards issued, feedback entries, accepted, overridden, acceptance rate, override rate


@dataclass(frozen=True)
class TopicWeeks:
    anchor: str  # the element id of its chart
    label: str
    chart: WeekChart
    rows: tuple[dict, ...]  # week, cardsIssued, accepted, overridden: every week shown, zeros included


@dataclass(frozen=True)
class ReasonRow:
    topic: str
    reason: str
    count: int
    share: str


@dataclass(frozen=True)
class FeedbackPage:
    empty: bool
    topics: tuple[TopicRow, ...]
    total: TopicRow
    weeks: tuple[TopicWeeks, ...]
    reasons: tuple[ReasonRow, ...]
    reason_chart: RowChart
    series_labels: dict


def _label(topic: str | None, displays: dict[str, dict]) -> str:
    if topic in displays:
        return f"{displays[topic]['display']} ({topic})"
    return topic_label(topic)


def _cells(figures: dict) -> tuple:
    return (figures["cardsIssued"], figures["feedbackEntries"], figures["accepted"], figures["overridden"],
            percent(figures["acceptanceRate"]), percent(figures["overrideRate"]))


def feedback_page(figures: dict, displays: dict[str, dict]) -> FeedbackPage:
    """`displays`: the card templates by topic (their display names)."""
    weeks = week_range([cell["week"] for cell in figures["weeks"]])
    per_topic = []
    for number, topic in enumerate(figures["topics"]):
        cells = [c for c in figures["weeks"] if c["topic"] == topic["topic"]]
        by_week = {c["week"]: c for c in cells}
        rows = tuple({"week": w, **{s: by_week.get(w, {}).get(s, 0) for s in SERIES_LABELS}} for w in weeks)
        per_topic.append(TopicWeeks(f"weeks-{number + 1}", _label(topic["topic"], displays),
                                    week_chart(cells, weeks, SERIES_LABELS), rows))
    reasons = tuple(ReasonRow(_label(r["topic"], displays), reason_label(r), r["count"],
                              percent(r["shareOfOverrides"])) for r in figures["overrideReasons"])
    return FeedbackPage(
        empty=not figures["topics"],
        topics=tuple(TopicRow(_label(t["topic"], displays), _cells(t)) for t in figures["topics"]),
        total=TopicRow("total", _cells(figures["totals"])),
        weeks=tuple(per_topic),
        reasons=reasons,
        # The chart's labels are the codes, short enough for the plot; the table beside it has the displays.
        reason_chart=row_chart([(f"{topic_label(r['topic'])}: {r['code'] or NO_REASON}", r["count"])
                                for r in figures["overrideReasons"]]),
        series_labels=SERIES_LABELS,
    )
