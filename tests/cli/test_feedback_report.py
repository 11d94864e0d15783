"""`cds-service feedback report` on a store filled through the app itself: cards issued by the hook, then
feedback posted to the feedback endpoint, with numbers known in advance."""
from __future__ import annotations

import json
import sqlite3
import uuid

import flask
import pytest

from cds_service import create_app
from cds_service.tools import demo
from cds_service.tools.feedback_report import default_database_url, safe_url
from tests.cli.conftest import run_cli, run_entry_point
from tests.support.fhir_data import prefetch_for

SERVICE = "/cds-services/posterior-knee-pain"
NON_ADHERENCE = "http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes"
PATIENTS = {p.topic: p for p in demo.demo_patients()}

# Cards issued: suspected-dvt 4 (three DVT patients + the DVT card next to limb ischaemia), suspected-pe 1,
# acute-limb-ischaemia 1. Feedback: 7 entries (one card answered twice, one card the store never issued).
EXPECTED_TOPICS = [
    {"topic": "suspected-pe", "cardsIssued": 1, "feedbackEntries": 1, "accepted": 1, "overridden": 0,
     "acceptanceRate": 1.0, "overrideRate": 0.0},
    {"topic": "acute-limb-ischaemia", "cardsIssued": 1, "feedbackEntries": 1, "accepted": 0, "overridden": 1,
     "acceptanceRate": 0.0, "overrideRate": 1.0},
    {"topic": "suspected-dvt", "cardsIssued": 4, "feedbackEntries": 4, "accepted": 1, "overridden": 3,
     "acceptanceRate": 0.25, "overrideRate": 0.75},
    {"topic": None, "cardsIssued": 0, "feedbackEntries": 1, "accepted": 0, "overridden": 1,
     "acceptanceRate": 0.0, "overrideRate": 1.0},
]
EXPECTED_REASONS = [
    {"topic": "acute-limb-ischaemia", "system": None, "code": None, "display": None, "count": 1,
     "shareOfOverrides": 1.0},
    {"topic": "suspected-dvt", "system": NON_ADHERENCE, "code": "action-completed",
     "display": "Recommended action was already completed", "count": 2, "shareOfOverrides": 0.6667},
    {"topic": "suspected-dvt", "system": NON_ADHERENCE, "code": "patient-refuses",
     "display": "Patient refuses/declines (no context given)", "count": 1, "shareOfOverrides": 0.3333},
    {"topic": None, "system": NON_ADHERENCE, "code": "patient-ineligible",
     "display": "Patient does not meet eligibility for recommended action", "count": 1, "shareOfOverrides": 1.0},
]
EXPECTED_TOTALS = {"cardsIssued": 6, "feedbackEntries": 7, "accepted": 2, "overridden": 5,
                   "acceptanceRate": 0.2857, "overrideRate": 0.7143}


def _override(card: str, code: str | None, display: str | None = None) -> dict:
    reason = {"userComment": "seen in clinic"}
    if code:
        reason["reason"] = {"system": NON_ADHERENCE, "code": code, "display": display}
    return {"card": card, "outcome": "overridden", "overrideReason": reason,
            "outcomeTimestamp": "2026-11-22T12:05:00Z"}


def _accept(card: dict) -> dict:
    return {"card": card["uuid"], "outcome": "accepted", "outcomeTimestamp": "2026-11-22T12:05:00Z",
            "acceptedSuggestions": [{"id": card["suggestions"][0]["uuid"]}]}


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> str:
    """A feedback store filled through the app's hook and feedback endpoints (no JWT)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('feedback') / 'feedback.sqlite3'}"
    app = create_app({"REQUIRE_JWT": False, "FEEDBACK_DATABASE": url, "CLOCK_NOW": "2026-11-22T12:00:00Z",
                      "VALIDATE_RESPONSES": True})
    client = app.test_client()

    def cards(topic: str) -> list[dict]:
        patient = PATIENTS[topic]
        body = {"hook": "patient-view", "hookInstance": str(uuid.uuid4()),
                "context": {"userId": "Practitioner/report", "patientId": patient.id},
                "prefetch": prefetch_for({"patient": patient.patient, "resources": list(patient.resources)})}
        response = client.post(SERVICE, json=body)
        assert response.status_code == 200
        return response.get_json()["cards"]

    dvt = [cards("suspected-dvt")[0] for _ in range(4)]  # one of them never answered
    pe, = cards("suspected-pe")
    ischaemia, = cards("acute-limb-ischaemia")
    reasons = {r["code"]: r["display"] for r in dvt[0]["overrideReasons"]}
    entries = [
        _accept(dvt[0]),
        _override(dvt[1]["uuid"], "patient-refuses", reasons["patient-refuses"]),
        _override(dvt[2]["uuid"], "action-completed", reasons["action-completed"]),
        _override(dvt[0]["uuid"], "action-completed", reasons["action-completed"]),  # answered a second time
        _accept(pe),
        _override(ischaemia["uuid"], None),  # a comment, no coded reason
        _override("card-this-store-never-issued", "patient-ineligible",
                  "Patient does not meet eligibility for recommended action"),
    ]
    for entry in entries[:3], entries[3:]:
        response = client.post(f"{SERVICE}/feedback", json={"feedback": entry})
        assert response.status_code == 200, response.get_data(as_text=True)
    app.extensions["cds"].feedback_store.close()
    return url


def test_json_report_has_the_known_numbers(capsys, store):
    code, out, err = run_cli(capsys, "feedback", "report", "--database", store, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["database"] == store
    assert report["topics"] == EXPECTED_TOPICS
    assert report["overrideReasons"] == EXPECTED_REASONS
    assert report["totals"] == EXPECTED_TOTALS


def test_readable_report(capsys, store):
    code, out, err = run_cli(capsys, "feedback", "report", "--database", store)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == f"Feedback store: {store}"
    header = next(line for line in lines if line.startswith("topic "))
    assert header.split("  ")[0].strip() == "topic"
    for name in ("cards issued", "feedback entries", "accepted", "overridden", "acceptance rate"):
        assert name in header

    def row(label: str, after: str = "Per card topic") -> list[str]:
        start = lines.index(after)
        return next(line for line in lines[start:] if line.startswith(label + " ")).split()

    assert row("suspected-dvt") == ["suspected-dvt", "4", "4", "1", "3", "25.0%", "75.0%"]
    assert row("suspected-pe") == ["suspected-pe", "1", "1", "1", "0", "100.0%", "0.0%"]
    assert row("acute-limb-ischaemia") == ["acute-limb-ischaemia", "1", "1", "0", "1", "0.0%", "100.0%"]
    assert row("(card not issued by this store)")[-5:] == ["1", "0", "1", "0.0%", "100.0%"]
    assert row("total") == ["total", "6", "7", "2", "5", "28.6%", "71.4%"]
    reasons = "Overrides per topic and reason"
    assert row("suspected-dvt", reasons)[:2] == ["suspected-dvt", "action-completed"]
    assert row("suspected-dvt", reasons)[-2:] == ["2", "66.7%"]
    assert "(no reason given)" in " ".join(row("acute-limb-ischaemia", reasons))
    assert out.index("suspected-pe") < out.index("acute-limb-ischaemia") < out.index("suspected-dvt")  # urgency


def test_default_database_is_the_apps(capsys, store, monkeypatch):
    monkeypatch.delenv("CDS_CONFIG_FILE", raising=False)
    monkeypatch.setenv("CDS_FEEDBACK_DATABASE", store)
    assert default_database_url() == store
    code, out, _ = run_cli(capsys, "feedback", "report", "--json")
    assert code == 0 and json.loads(out)["totals"] == EXPECTED_TOTALS


def test_default_database_from_the_config_file(tmp_path, store, monkeypatch):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"FEEDBACK_DATABASE": store}))
    monkeypatch.delenv("CDS_FEEDBACK_DATABASE", raising=False)
    monkeypatch.setenv("CDS_CONFIG_FILE", str(config))
    assert default_database_url() == store


def test_default_without_configuration_is_the_instance_folder_file_create_app_uses(tmp_path, monkeypatch):
    monkeypatch.setattr(flask.Flask, "auto_find_instance_path", lambda self: str(tmp_path / "instance"))
    app = create_app({"REQUIRE_JWT": False})  # FEEDBACK_DATABASE unset: the app picks its default
    assert default_database_url({}) == app.config["FEEDBACK_DATABASE"]
    assert app.config["FEEDBACK_DATABASE"] == f"sqlite:///{tmp_path / 'instance' / 'feedback.sqlite3'}"
    app.extensions["cds"].feedback_store.close()


def test_empty_store(capsys, tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    app = create_app({"REQUIRE_JWT": False, "FEEDBACK_DATABASE": url})  # creates the tables
    app.extensions["cds"].feedback_store.close()
    code, out, _ = run_cli(capsys, "feedback", "report", "--database", url)
    assert code == 0 and "No cards issued and no feedback recorded yet." in out
    code, out, _ = run_cli(capsys, "feedback", "report", "--database", url, "--json")
    assert json.loads(out)["topics"] == [] and json.loads(out)["totals"]["acceptanceRate"] is None


def test_missing_database_is_an_error_and_is_not_created(capsys, tmp_path):
    path = tmp_path / "absent.sqlite3"
    code, out, err = run_cli(capsys, "feedback", "report", "--database", f"sqlite:///{path}")
    assert code == 1 and f"no feedback database at {path}" in err and out == ""
    assert not path.exists()


def test_a_database_that_is_not_a_feedback_store(capsys, tmp_path):
    path = tmp_path / "other.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.execute("create table something (x integer)")
    code, _, err = run_cli(capsys, "feedback", "report", "--database", f"sqlite:///{path}")
    assert code == 1 and "not a feedback store" in err


def test_a_password_in_the_database_url_is_never_shown():
    shown = safe_url("postgresql+psycopg://reporter:s3cret-pass@db.example:5432/feedback")
    assert "s3cret-pass" not in shown and "reporter" in shown and "db.example" in shown


def test_installed_entry_point(store):
    done = run_entry_point("feedback", "report", "--database", store, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["totals"] == EXPECTED_TOTALS
