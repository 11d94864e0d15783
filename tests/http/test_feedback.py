"""POST /cds-services/posterior-knee-pain/feedback (CDS Hooks 2.0 §Feedback): 200 only after the commit."""
from __future__ import annotations

import json
import logging
import uuid

import pytest
from sqlalchemy import create_engine, text

from tests.support.feedback import INVALID_FEEDBACK

FEEDBACK = "/cds-services/posterior-knee-pain/feedback"


def rows(app):
    return app.extensions["cds"].feedback_store.all_feedback()


def accepted(card: str) -> dict:
    return {"card": card, "outcome": "accepted", "acceptedSuggestions": [{"id": "sugg-1"}],
            "outcomeTimestamp": "2026-11-22T10:00:00Z"}


def overridden(card: str) -> dict:
    return {"card": card, "outcome": "overridden", "outcomeTimestamp": "2026-11-22T10:01:00.123Z",
            "overrideReason": {"reason": {"system": "http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes",
                                          "code": "patient-refuses", "display": "Patient refuses"},
                               "userComment": "prefers to wait"}}


def test_feedback_is_stored_with_every_field(app, client):
    card = str(uuid.uuid4())
    response = client.post(FEEDBACK, json={"feedback": [accepted(card), overridden(card)]})
    assert response.status_code == 200
    first, second = rows(app)
    assert (first["card_uuid"], first["outcome"], json.loads(first["accepted_suggestions"])) == (
        card, "accepted", ["sugg-1"])
    assert first["outcome_timestamp"] == "2026-11-22T10:00:00Z"
    assert (second["override_reason_code"], second["override_reason_display"], second["override_user_comment"]) == (
        "patient-refuses", "Patient refuses", "prefers to wait")
    assert second["client_iss"] == "https://ehr.example.test"


def test_same_card_may_get_feedback_more_than_once(app, client):
    card = str(uuid.uuid4())
    for _ in range(3):
        assert client.post(FEEDBACK, json={"feedback": [overridden(card)]}).status_code == 200
    assert [r["card_uuid"] for r in rows(app)] == [card] * 3


def test_feedback_is_traced_to_the_hook_instance_that_issued_the_card(app, client):
    app.extensions["cds"].feedback_store.record_issued_cards(
        "posterior-knee-pain", "d2b3c1a0-0000-4000-8000-000000000001",
        [("card-1", "suspected-dvt", "warning")])
    assert client.post(FEEDBACK, json={"feedback": [overridden("card-1")]}).status_code == 200
    (row,) = rows(app)
    assert (row["hook_instance"], row["topic"]) == ("d2b3c1a0-0000-4000-8000-000000000001", "suspected-dvt")


def test_feedback_survives_a_new_app_on_the_same_database(tmp_path, client_key, client):
    # Durable: a second app (a restart, another worker) reads the row from the file.
    assert client.post(FEEDBACK, json={"feedback": [accepted("card-9")]}).status_code == 200
    engine = create_engine(f"sqlite:///{tmp_path / 'feedback.sqlite3'}")
    with engine.connect() as connection:
        assert connection.execute(text("select card_uuid from feedback")).scalar_one() == "card-9"


@pytest.mark.parametrize("body, path", INVALID_FEEDBACK)
def test_invalid_feedback_is_400_and_nothing_is_stored(app, client, body, path):
    response = client.post(FEEDBACK, json=body)
    assert response.status_code == 400
    assert response.get_json()["issue"][0]["expression"] == [path]
    assert rows(app) == []


def test_feedback_for_an_unknown_service_is_404(client):
    assert client.post("/cds-services/nope/feedback", json={"feedback": [accepted("c")]}).status_code == 404


def test_a_failed_write_is_not_acknowledged(app, client):
    with app.extensions["cds"].feedback_store.engine.begin() as connection:
        connection.execute(text("drop table feedback"))
    response = client.post(FEEDBACK, json={"feedback": [accepted("c")]})
    assert response.status_code == 503  # not stored, not acknowledged: the client may send it again
    assert response.headers["Retry-After"] == "5"
    assert response.get_json()["issue"][0]["code"] == "transient"


def test_a_failed_write_logs_no_bound_value(app, client, caplog):
    """SQLAlchemy quotes a failing statement's parameters in its error message, which the 500 handler logs
    with the trace: a clinician's userComment reached an ERROR line. The engines hide them."""
    # A real failing INSERT: the database itself refuses it, as it would when full or read-only.
    with app.extensions["cds"].feedback_store.engine.begin() as connection:
        connection.execute(text("CREATE TRIGGER refuse BEFORE INSERT ON feedback "
                                "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"))
    entry = overridden(str(uuid.uuid4()))
    comment = "Pt prefers to wait - Mrs Example, bed 12"
    entry["overrideReason"]["userComment"] = comment
    with caplog.at_level(logging.DEBUG):
        response = client.post(FEEDBACK, json={"feedback": [entry]})
    assert response.status_code == 503
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in errors)
    assert "refused by the test" in logged  # the error itself is logged, for whoever fixes the database
    assert comment not in logged and comment not in caplog.text
    assert entry["card"] not in logged


def test_feedback_is_bounded_per_request(app, client):
    entries = [accepted(str(uuid.uuid4())) for _ in range(101)]
    response = client.post(FEEDBACK, json={"feedback": entries})
    assert response.status_code == 400
    assert response.get_json()["issue"][0]["diagnostics"] == "feedback: more than 100 entries"
    assert rows(app) == []
    assert client.post(FEEDBACK, json={"feedback": entries[:100]}).status_code == 200
    assert len(rows(app)) == 100


@pytest.mark.parametrize("member", ["card", "outcome", "outcomeTimestamp"])
def test_feedback_missing_a_member_names_that_member(app, client, member):
    """Without `outcome`, the message used to name `acceptedSuggestions` (the accepted-only rule matched an
    absent outcome): it names what is actually missing."""
    entry = {key: value for key, value in overridden("card-1").items() if key != member}
    response = client.post(FEEDBACK, json={"feedback": [entry]})
    assert response.status_code == 400
    assert response.get_json()["issue"][0]["diagnostics"] == f"feedback[0]: missing required member(s): {member}"
    assert rows(app) == []
