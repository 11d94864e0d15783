"""The SQLite feedback file deleted while the service runs: detected on the next call (503, /readyz 503 for
this pod), never written on into a file nobody can open again; hooks keep answering; a new file made at the
next start is announced in the log."""
from __future__ import annotations

import json
import logging
import os
import uuid
from pathlib import Path

from cds_service import create_app
from tests.support.fhir_data import prefetch_for

CASE = json.loads((Path(__file__).parents[1] / "scenarios" / "cases" / "02-dvt-wells-likely.json").read_text())
SERVICE = "/cds-services/posterior-knee-pain"


def feedback(card: str) -> dict:
    return {"feedback": [{"card": card, "outcome": "overridden", "outcomeTimestamp": "2026-11-22T10:00:00Z"}]}


def hook(client):
    return client.post(SERVICE, json={"hook": "patient-view", "hookInstance": str(uuid.uuid4()),
                                      "context": {"userId": "Practitioner/x", "patientId": CASE["patient"]["id"]},
                                      "prefetch": prefetch_for(CASE)})


def test_a_deleted_sqlite_file_is_refused_not_written_into(tmp_path, caplog):
    path = tmp_path / "feedback.sqlite3"
    config = {"REQUIRE_JWT": False, "FEEDBACK_DATABASE": f"sqlite:///{path}", "CLOCK_NOW": CASE["now"]}
    with caplog.at_level(logging.WARNING):
        app = create_app(config)
    assert "created a new, empty one" in caplog.text  # a first start says so too
    client = app.test_client()
    assert client.post(f"{SERVICE}/feedback", json=feedback("before")).status_code == 200
    assert client.get("/readyz").status_code == 200
    os.unlink(path)
    refused = client.post(f"{SERVICE}/feedback", json=feedback("after"))
    assert refused.status_code == 503 and refused.get_json()["issue"][0]["code"] == "transient"
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.get_json()["checks"]["feedbackStore"] == "unavailable"
    assert hook(client).get_json()["cards"]  # the clinical answer does not depend on the store
    assert not path.exists()  # not silently recreated while running
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        create_app(config)  # the next start makes a new file, and says so
    assert "created a new, empty one" in caplog.text
