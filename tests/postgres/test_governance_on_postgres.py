"""The governance feedback page on PostgreSQL: read_figures' day grouping (func.date) is the same SQL on both
databases, and the page shows the report's figures, filled through the real endpoints."""
from __future__ import annotations

from cds_service.tools.feedback_report import build_report
from tests.governance.conftest import EXPECTED, NOW, populate
from tests.governance.tables import tables


def test_feedback_page_on_postgres(make_app, client_key, database_url):
    app = make_app(CLOCK_NOW=NOW)
    populate(app, client_key)
    response = app.test_client().get("/governance/feedback")
    assert response.status_code == 200
    found = tables(response.get_data(as_text=True))
    report = build_report(database_url)
    assert {t["topic"]: (t["cardsIssued"], t["accepted"], t["overridden"]) for t in report["topics"]} == EXPECTED
    rows = found["per-topic-table"][1:-1]
    assert [row[1] for row in rows] == [str(t["cardsIssued"]) for t in report["topics"]]
    weekly = [rows for key, rows in found.items() if key.startswith("#") and rows[0][0] == "Week"]
    assert len(weekly) == len(EXPECTED)
    for rows, topic in zip(weekly, report["topics"]):
        assert [sum(int(r[i]) for r in rows[1:]) for i in (1, 2, 3)] == [
            topic["cardsIssued"], topic["accepted"], topic["overridden"]]
