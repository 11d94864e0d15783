"""Bar charts as geometry for inline SVG, computed here and drawn by the templates: no JavaScript, no
external asset, and every bar's height (or length) proportional to its count on a scale starting at zero."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

SERIES = ("cardsIssued", "accepted", "overridden")  # the bars of each week, in this order

# Geometry in SVG user units (the chart scales to its box; the CSS gives it a width).
PLOT_HEIGHT = 160
TOP, BOTTOM, LEFT, RIGHT = 12, 40, 44, 12
BAR_WIDTH, BAR_GAP, GROUP_GAP = 14, 2, 18
ROW_HEIGHT, ROW_PITCH, BAR_SPACE = 14, 40, 520


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: str
    count: int
    label: str  # what the bar stands for, for its <title> (hovered) and the tests


@dataclass(frozen=True)
class Tick:
    value: int
    y: float


@dataclass(frozen=True)
class WeekLabel:
    week: str
    x: float


@dataclass(frozen=True)
class WeekChart:
    width: int
    height: int
    baseline: float
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    weeks: tuple[WeekLabel, ...]
    plot_left: int
    plot_right: int


def week_range(weeks: list[str]) -> list[str]:
    """Every ISO week from the first to the last named ('2026-W47', ...), gaps filled: a week without cards is
    a zero, and must be seen as one."""
    if not weeks:
        return []
    first, last = (_monday(w) for w in (min(weeks), max(weeks)))
    days = (last - first).days // 7
    return [_label(first + timedelta(weeks=i)) for i in range(days + 1)]


def _monday(week: str) -> date:
    year, number = week.split("-W")
    return date.fromisocalendar(int(year), int(number), 1)


def _label(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year:04d}-W{week:02d}"


def scale_top(largest: int) -> tuple[int, int]:
    """(top of the scale, tick step): four whole-number steps at least reaching `largest`."""
    step = max(1, math.ceil(largest / 4))
    return step * 4, step


def week_chart(rows: list[dict], weeks: list[str], labels: dict[str, str]) -> WeekChart:
    """One topic's bars: per week, its cards issued, accepted and overridden (`rows` are that topic's cells of
    read_figures()["weeks"]; `weeks` every week shown; `labels` each series' name)."""
    by_week = {row["week"]: row for row in rows}
    top, step = scale_top(max([row[s] for row in rows for s in SERIES] or [0]))
    group = len(SERIES) * (BAR_WIDTH + BAR_GAP) - BAR_GAP
    width = LEFT + len(weeks) * (group + GROUP_GAP) + RIGHT
    baseline = TOP + PLOT_HEIGHT
    bars, week_labels = [], []
    for i, week in enumerate(weeks):
        x0 = LEFT + GROUP_GAP / 2 + i * (group + GROUP_GAP)
        week_labels.append(WeekLabel(week, x0 + group / 2))
        row = by_week.get(week, {})
        for j, series in enumerate(SERIES):
            count = int(row.get(series, 0))
            height = PLOT_HEIGHT * count / top
            bars.append(Bar(x0 + j * (BAR_WIDTH + BAR_GAP), baseline - height, BAR_WIDTH, height, series, count,
                            f"{week}: {labels[series]} {count}"))
    ticks = tuple(Tick(v, baseline - PLOT_HEIGHT * v / top) for v in range(0, top + 1, step))
    return WeekChart(int(width), TOP + PLOT_HEIGHT + BOTTOM, baseline, tuple(bars), ticks, tuple(week_labels),
                     LEFT, int(width) - RIGHT)


@dataclass(frozen=True)
class Row:
    bar: Bar
    text_y: float  # the baseline of the row's label, above its bar
    text: str


@dataclass(frozen=True)
class RowChart:
    width: int
    height: int
    rows: tuple[Row, ...]  # horizontal bars: length proportional to count


def row_chart(items: list[tuple[str, int]], left: int = 4) -> RowChart:
    """Horizontal bars, one per (label, count), lengths on one scale from zero (the override reasons), each
    under its label."""
    top, _ = scale_top(max([count for _, count in items] or [0]))
    rows = []
    for i, (label, count) in enumerate(items):
        y = i * ROW_PITCH
        rows.append(Row(Bar(left, y + 18, BAR_SPACE * count / top, ROW_HEIGHT, "overridden", count,
                            f"{label}: {count}"), y + 13, label))
    return RowChart(left + BAR_SPACE + 48, max(1, len(items) * ROW_PITCH), tuple(rows))
