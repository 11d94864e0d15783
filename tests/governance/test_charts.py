"""The charts' geometry: heights proportional to the counts on a scale from zero, weeks without data shown as
zeros, and the ISO weeks read by read_figures() (rows dated by hand, so no test depends on today)."""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import insert

from cds_service.feedback.store import create_tables, feedback, issued_cards, make_engine, metadata
from cds_service.governance.charts import PLOT_HEIGHT, row_chart, scale_top, week_chart, week_range
from cds_service.governance.feedback_view import SERIES_LABELS, feedback_page
from cds_service.tools.feedback_report import iso_week, read_figures


def test_iso_weeks_across_a_year_end():
    assert iso_week(date(2026, 11, 22)) == "2026-W47"  # a Sunday ends its week
    assert iso_week("2026-11-23") == "2026-W48"
    assert iso_week("2026-12-31") == iso_week(date(2027, 1, 3)) == "2026-W53"
    assert iso_week(date(2027, 1, 4)) == "2027-W01"


def test_week_range_fills_the_gaps():
    assert week_range(["2026-W52", "2026-W50"]) == ["2026-W50", "2026-W51", "2026-W52"]
    assert week_range(["2026-W52", "2027-W02"]) == ["2026-W52", "2026-W53", "2027-W01", "2027-W02"]
    assert week_range([]) == []


def test_scale_has_whole_steps_and_reaches_the_largest():
    assert scale_top(0) == (4, 1)
    assert scale_top(3) == (4, 1)
    assert scale_top(9) == (12, 3)


def test_bar_heights_are_proportional_to_the_counts():
    rows = [{"week": "2026-W48", "cardsIssued": 9, "accepted": 3, "overridden": 6}]
    chart = week_chart(rows, ["2026-W47", "2026-W48"], SERIES_LABELS)
    top, _ = scale_top(9)
    by = {(b.label.split(":")[0], b.series): b for b in chart.bars}
    for bar in chart.bars:
        assert abs(bar.height - PLOT_HEIGHT * bar.count / top) < 1e-9
        assert abs(bar.y + bar.height - chart.baseline) < 1e-9  # every bar stands on the axis
    assert by[("2026-W47", "cardsIssued")].height == 0  # a week without cards is a zero, drawn as one
    assert by[("2026-W48", "cardsIssued")].height == 3 * by[("2026-W48", "accepted")].height
    assert [t.value for t in chart.ticks] == [0, 3, 6, 9, 12]


def test_reason_bars_share_one_scale():
    chart = row_chart([("a", 2), ("b", 1), ("c", 4)])
    lengths = [row.bar.width for row in chart.rows]
    assert lengths[0] == 2 * lengths[1] and lengths[2] == 4 * lengths[1]


def _at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=9, tzinfo=timezone.utc)


def test_read_figures_counts_per_iso_week(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'f.sqlite3'}")
    create_tables(metadata, engine)
    issued = [("c1", "suspected-dvt", "2026-11-20"), ("c2", "suspected-dvt", "2026-11-22"),  # W47
              ("c3", "suspected-dvt", "2026-12-08"), ("c4", "suspected-pe", "2026-12-09")]  # W50
    answers = [("c1", "suspected-dvt", "accepted", "2026-11-23"),  # answered the next week (W48)
               ("c3", "suspected-dvt", "overridden", "2026-12-08"),
               ("c4", "suspected-pe", "overridden", "2026-12-10"),
               ("zz", None, "accepted", "2026-12-10")]  # a card this store never issued
    with engine.begin() as connection:
        connection.execute(insert(issued_cards), [
            {"card_uuid": c, "hook_instance": "h", "service_id": "s", "topic": t, "indicator": "warning",
             "issued_at": _at(d)} for c, t, d in issued])
        connection.execute(insert(feedback), [
            {"service_id": "s", "card_uuid": c, "topic": t, "outcome": o, "outcome_timestamp": d,
             "received_at": _at(d)} for c, t, o, d in answers])
    with engine.connect() as connection:
        figures = read_figures(connection)
    engine.dispose()
    cells = {(c["week"], c["topic"]): (c["cardsIssued"], c["accepted"], c["overridden"]) for c in figures["weeks"]}
    assert cells == {("2026-W47", "suspected-dvt"): (2, 0, 0), ("2026-W48", "suspected-dvt"): (0, 1, 0),
                     ("2026-W50", "suspected-dvt"): (1, 0, 1), ("2026-W50", "suspected-pe"): (1, 0, 1),
                     ("2026-W50", None): (0, 1, 0)}
    assert [c["topic"] for c in figures["weeks"] if c["week"] == "2026-W50"] == [
        "suspected-pe", "suspected-dvt", None]  # by urgency, unknown cards last
    page = feedback_page(figures, {})
    dvt = next(t for t in page.weeks if t.label == "suspected-dvt")
    assert [r["week"] for r in dvt.rows] == ["2026-W47", "2026-W48", "2026-W49", "2026-W50"]
    assert dvt.rows[2] == {"week": "2026-W49", "cardsIssued": 0, "accepted": 0, "overridden": 0}
