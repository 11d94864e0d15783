"""The governance pages through Flask's test client: status, types, headers, escaping, the feedback figures
against `cds-service feedback report` on the same store (filled through the real endpoints), what the feedback
page never shows, the 503 page, and GOVERNANCE_PAGES."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
from pathlib import Path

from markupsafe import escape

import pytest

from cds_service import config as config_module
from cds_service import create_app
from cds_service.governance import gallery as gallery_module
from cds_service.http.views import answer_hook
from cds_service.services import SERVICES
from cds_service.tools.feedback_report import build_report, iso_week, percent, reason_label
from tests.conftest import ISSUER, make_config
from tests.governance.conftest import COMMENT, EXPECTED, HOOKS, NOW, PATIENTS, USER
from tests.governance.tables import tables
from tests.support.fhir_data import prefetch_for

PAGES = ["/governance/", "/governance/gallery", "/governance/feedback"]
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
       "frame-ancestors 'none'")
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def client(populated):
    return populated.app.test_client()


@pytest.mark.parametrize("path", PAGES)
def test_pages_are_html_with_a_strict_policy_and_need_no_jwt(client, path):
    response = client.get(path, headers={"Origin": "https://elsewhere.example"})  # and no Authorization
    assert response.status_code == 200
    assert response.content_type == "text/html; charset=utf-8"
    assert response.headers["Content-Security-Policy"] == CSP
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert not [h for h in response.headers.keys() if h.lower().startswith("access-control-")]
    html = response.get_data(as_text=True)
    assert "<script" not in html and " style=" not in html and "<style" not in html  # the CSP would block them
    assert '<link rel="stylesheet" href="/governance/static/governance.css">' in html


def test_the_style_sheet_is_a_static_file_of_the_blueprint(client):
    response = client.get("/governance/static/governance.css")
    assert response.status_code == 200 and response.mimetype == "text/css"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert ".card-critical" in response.get_data(as_text=True)
    assert client.get("/governance/static/../app.py").status_code == 404


def test_read_only(client):
    for path in PAGES:
        response = client.post(path)
        assert response.status_code == 405 and set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def test_a_cors_preflight_is_not_answered_for_the_pages(client):
    response = client.options("/governance/feedback", headers={
        "Origin": "https://elsewhere.example", "Access-Control-Request-Method": "GET"})
    assert "Access-Control-Allow-Origin" not in response.headers
    # ...while the CDS endpoints keep theirs
    hook = client.options("/cds-services", headers={"Origin": "https://elsewhere.example",
                                                     "Access-Control-Request-Method": "GET"})
    assert hook.status_code == 204 and hook.headers["Access-Control-Allow-Origin"] == "*"


def test_the_hook_endpoints_still_require_the_jwt(client):
    assert client.get("/cds-services").status_code == 401


# ------------------------------------------------------------------------------------------ gallery

def test_gallery_shows_every_topic_and_variant_in_catalogue_order(populated, client):
    html = client.get("/governance/gallery").get_data(as_text=True)
    catalogue = json.loads((REPO / "cards" / "catalogue.json").read_text())
    positions = []
    for entry in catalogue["topics"]:
        anchor = f'id="topic-{entry["topic"]}"'
        assert anchor in html, entry["topic"]
        positions.append(html.index(anchor))
        for variant in entry["variants"]:
            assert f'id="variant-{entry["topic"]}-{variant}"' in html
    assert positions == sorted(positions)


def test_gallery_names_each_variant_no_demo_patient_produces(client):
    html = client.get("/governance/gallery").get_data(as_text=True)
    missing = html.split('id="variant-incomplete-check-partial"')[1].split("</section>")[0]
    assert "No demo patient produces this variant" in missing and 'class="card ' not in missing
    shown = html.split('id="variant-suspected-dvt-likely"')[1].split("</section>")[0]
    assert 'class="card card-warning"' in shown and "demo-suspected-dvt" in shown


def test_gallery_cards_are_the_hooks_cards(populated, client):
    """Each demo patient's cards in the gallery are those the hook answers on the same day."""
    html = client.get("/governance/gallery").get_data(as_text=True)
    patients = {row[0]: row[2] for row in tables(html)["#0"][1:]}
    assert len(patients) == len(PATIENTS)
    assert populated.app.config["CLOCK_NOW"] == NOW
    for patient in PATIENTS.values():
        cards = hook_cards(populated, patient)
        assert patients[patient.id] == " ".join(c["summary"] for c in cards)
        for card in cards:
            assert f"<h4 class=\"summary\">{_escaped(card['summary'])}</h4>" in html


def hook_cards(populated, patient) -> list[dict]:
    """The cards the hook answers for `patient` today (CLOCK_NOW): the hook's own path, nothing stored."""
    state = populated.app.extensions["cds"]
    body = {"hook": "patient-view", "hookInstance": "x", "context": {"userId": USER, "patientId": patient.id},
            "prefetch": prefetch_for({"patient": patient.patient, "resources": list(patient.resources)})}
    _, _, issued = answer_hook(SERVICES["posterior-knee-pain"], body, state, now=state.now(), allowlist=(),
                               deadline=time.monotonic() + 30, reserve=0)
    return [i.card for i in issued]


def _escaped(text: str) -> str:
    return str(escape(text))


def test_gallery_renders_markdown_suggestions_links_and_reasons(client):
    html = client.get("/governance/gallery").get_data(as_text=True)
    dvt = html.split('id="variant-suspected-dvt-likely"')[1].split("</section>")[0]
    assert "<strong>Next step</strong>" in dvt and "**" not in dvt
    assert '<button type="button" disabled class="recommended">Order proximal leg-vein ultrasound' in dvt
    assert "LOINC 30881-7 US.doppler Lower extremity vein (ServiceRequest, urgent)" in dvt
    assert '<a href="https://www.nice.org.uk/guidance/ng158" rel="noopener noreferrer">' in dvt
    assert "Recommended action was already completed (action-completed)" in dvt
    assert '<p class="indicator indicator-warning">Warning</p>' in dvt
    assert '<p class="indicator indicator-critical">Critical</p>' in html


def test_gallery_is_built_once_per_day(populated, client, monkeypatch):
    calls = []
    real = gallery_module.build_gallery
    monkeypatch.setattr(gallery_module, "build_gallery", lambda *a: calls.append(a[1]) or real(*a))
    cache = populated.app.extensions["governance"].gallery
    monkeypatch.setattr(cache, "_day", None)
    client.get("/governance/gallery")
    client.get("/governance/gallery")
    assert len(calls) == 1 and calls[0].isoformat() == NOW[:10]


def test_card_text_that_looks_like_html_stays_text(tmp_path, client_key):
    """A card's summary and detail with markup in them (a content edit gone wrong, or hostile): the page shows
    it as text, Markdown still renders, and no script, handler or javascript: URL reaches the page."""
    cards = tmp_path / "cards"
    shutil.copytree(REPO / "cards", cards)
    topic = cards / "topics" / "bakers-cyst.json"
    data = json.loads(topic.read_text())
    variant = data["variants"]["default"]
    variant["summary"] = "Baker's cyst <script>alert('s')</script> on record"
    variant["detail"] = ("**Bold** <img src=x onerror=alert(1)> <b onclick=alert(2)>raw</b> "
                         "[click](javascript:alert(3)) <script>alert(4)</script>")
    topic.write_text(json.dumps(data, indent=2))
    app = create_app(make_config(tmp_path, client_key, CARDS_DIR=str(cards), CLOCK_NOW=NOW))
    try:
        html = app.test_client().get("/governance/gallery").get_data(as_text=True)
    finally:
        app.extensions["cds"].feedback_store.close()
    card = html.split('id="variant-bakers-cyst-default"')[1].split("</section>")[0]
    assert "Baker&#39;s cyst &lt;script&gt;alert(&#39;s&#39;)&lt;/script&gt; on record" in card
    assert "<strong>Bold</strong>" in card
    assert "&lt;img src=x onerror=alert(1)&gt;" in card and "&lt;b onclick=alert(2)&gt;" in card
    for dangerous in ("<script", "<img", "<b ", "onerror=alert(1)>", 'href="javascript'):
        assert dangerous not in html, dangerous


# ------------------------------------------------------------------------------------------ feedback

def test_feedback_figures_are_the_reports(populated, client):
    html = client.get("/governance/feedback").get_data(as_text=True)
    found = tables(html)
    report = build_report(populated.url)
    rows = found["per-topic-table"][1:]
    assert len(rows) == len(report["topics"]) + 1
    for row, topic in zip(rows, report["topics"]):
        assert row[0].endswith(f"({topic['topic']})")
        assert row[1:] == [str(topic["cardsIssued"]), str(topic["feedbackEntries"]), str(topic["accepted"]),
                           str(topic["overridden"]), percent(topic["acceptanceRate"]), percent(topic["overrideRate"])]
    total = report["totals"]
    assert rows[-1] == ["total", str(total["cardsIssued"]), str(total["feedbackEntries"]), str(total["accepted"]),
                        str(total["overridden"]), percent(total["acceptanceRate"]), percent(total["overrideRate"])]
    # and the numbers known in advance
    assert {t["topic"]: (t["cardsIssued"], t["accepted"], t["overridden"]) for t in report["topics"]} == EXPECTED
    reasons = found["reasons-table"][1:]
    assert [(r[1], r[2], r[3]) for r in reasons] == [
        (reason_label(r), str(r["count"]), percent(r["shareOfOverrides"])) for r in report["overrideReasons"]]
    assert reasons[0][0] == "Possible acute limb ischaemia (acute-limb-ischaemia)"


def test_weekly_figures_add_up_to_the_report_and_fall_in_the_week_of_the_rows(populated, client):
    html = client.get("/governance/feedback").get_data(as_text=True)
    found = tables(html)
    path = populated.url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        days = {row[0] for row in connection.execute(
            "select date(issued_at) from issued_cards union select date(received_at) from feedback")}
    weeks = sorted({iso_week(day) for day in days})
    report = {t["topic"]: t for t in build_report(populated.url)["topics"]}
    weekly = {key: rows for key, rows in found.items() if key.startswith("#") and rows[0][0] == "Week"}
    assert len(weekly) == len(report)
    for rows, topic in zip(weekly.values(), report.values()):
        assert [r[0] for r in rows[1:]] == weeks
        sums = [sum(int(r[i]) for r in rows[1:]) for i in (1, 2, 3)]
        assert sums == [topic["cardsIssued"], topic["accepted"], topic["overridden"]]


def test_feedback_page_shows_no_identifier_and_no_free_text(populated, client):
    html = client.get("/governance/feedback").get_data(as_text=True)
    forbidden = [PATIENTS[t].id for t in HOOKS] + populated.hook_instances + populated.card_uuids + [
        USER, COMMENT, ISSUER, populated.url, "Practitioner/"]
    leaked = [value for value in forbidden if value in html]
    assert not leaked


def test_an_empty_store_says_no_feedback_yet(tmp_path, client_key):
    app = create_app(make_config(tmp_path, client_key))
    try:
        response = app.test_client().get("/governance/feedback")
    finally:
        app.extensions["cds"].feedback_store.close()
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "No feedback yet" in html and "<svg" not in html


def test_an_unreadable_store_is_a_503_page_without_a_trace(tmp_path, client_key, caplog):
    config = make_config(tmp_path, client_key)
    app = create_app(config)
    client = app.test_client()
    try:
        assert client.get("/governance/feedback").status_code == 200
        os.remove(config["FEEDBACK_DATABASE"].removeprefix("sqlite:///"))  # deleted under the running service
        response = client.get("/governance/feedback")
        assert response.status_code == 503 and response.mimetype == "text/html"
        assert response.headers["Retry-After"] == "5"
        assert response.headers["Content-Security-Policy"] == CSP
        html = response.get_data(as_text=True)
        assert "Feedback store unavailable" in html
        assert "Traceback" not in html and "sqlite" not in html.lower() and str(tmp_path) not in html
        assert client.get("/governance/gallery").status_code == 200  # the gallery reads no store
    finally:
        app.extensions["cds"].feedback_store.close()


def test_a_slow_governance_read_does_not_take_the_feedback_endpoint_down(populated):
    """The pages read through a guard of their own: its failure leaves the store's guard (feedback writes)."""
    reader = populated.app.extensions["governance"].reader
    assert reader is not populated.app.extensions["cds"].feedback_store.guard


# ------------------------------------------------------------------------------------------ switch

def test_governance_pages_off_gives_404(tmp_path, client_key):
    app = create_app(make_config(tmp_path, client_key, GOVERNANCE_PAGES=False))
    try:
        client = app.test_client()
        for path in [*PAGES, "/governance/static/governance.css"]:
            assert client.get(path).status_code == 404, path
    finally:
        app.extensions["cds"].feedback_store.close()


def test_the_switch_is_read_from_the_environment_and_checked():
    assert config_module.DEFAULTS["GOVERNANCE_PAGES"] is True
    assert config_module.from_environment({"CDS_GOVERNANCE_PAGES": "false"}) == {"GOVERNANCE_PAGES": False}
    with pytest.raises(ValueError, match="GOVERNANCE_PAGES"):
        config_module.validate({**config_module.DEFAULTS, "REQUIRE_JWT": False, "GOVERNANCE_PAGES": "no"})
