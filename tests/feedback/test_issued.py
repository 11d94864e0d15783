"""Issued cards are recorded off the hook's path (cds_service/feedback/issued.py): a database that stalls or
refuses never delays or fails a card; what could not be recorded is counted; old rows are pruned."""
from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import func, select, text

from cds_service import create_app
from cds_service.feedback.issued import IssuedCardsWriter
from cds_service.feedback.store import FeedbackStore, issued_cards, make_engine
from tests.conftest import needs_real_timeouts
from tests.support.fhir_data import prefetch_for

CASE = json.loads((Path(__file__).parents[1] / "scenarios" / "cases" / "02-dvt-wells-likely.json").read_text())
SERVICE = "/cds-services/posterior-knee-pain"


def hook(app) -> list[dict]:
    body = {"hook": "patient-view", "hookInstance": str(uuid.uuid4()),
            "context": {"userId": "Practitioner/x", "patientId": CASE["patient"]["id"]},
            "prefetch": prefetch_for(CASE)}
    response = app.test_client().post(SERVICE, json=body)
    assert response.status_code == 200
    return response.get_json()["cards"]


def issued_count(store) -> int:
    with store.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(issued_cards)).scalar_one()


def app_for(tmp_path, **extra):
    return create_app({"REQUIRE_JWT": False, "FEEDBACK_DATABASE": f"sqlite:///{tmp_path / 'f.sqlite3'}",
                       "CLOCK_NOW": CASE["now"], **extra})


def test_cards_are_recorded_soon_after_the_answer(tmp_path):
    app = app_for(tmp_path)
    cards = hook(app)
    store = app.extensions["cds"].feedback_store
    assert store.issued.flush(5.0)
    with store.engine.connect() as connection:
        recorded = {row.card_uuid: row.topic for row in connection.execute(select(issued_cards))}
    assert set(recorded) == {card["uuid"] for card in cards} and cards


@needs_real_timeouts
def test_a_stalled_database_does_not_hold_the_hook(tmp_path):
    app = app_for(tmp_path)
    store = app.extensions["cds"].feedback_store
    per_hook = len(hook(app))  # warm
    store.issued.flush(5.0)
    stalled = threading.Event()
    release = threading.Event()
    original = store.issued._write

    def stalling_write(rows):
        stalled.set()
        release.wait(30)
        original(rows)
    store.issued._write = stalling_write
    try:
        hook(app)
        assert stalled.wait(5), "the writer thread never started writing"
        started = time.perf_counter()
        for _ in range(5):
            assert hook(app)  # cards, while the first write is still held
        held_for = time.perf_counter() - started
        assert not store.issued.flush(0.05)  # rows are still queued behind the stalled write
    finally:
        release.set()
    assert store.issued.flush(5.0)
    assert issued_count(store) == 7 * per_hook  # nothing lost: the held rows were written once released
    assert held_for < 5  # five hooks answered while the write was held (it would have held them 30 s)


def test_an_unwritable_table_still_answers_and_counts_what_was_lost(tmp_path):
    dropped = []
    app = app_for(tmp_path)
    store = app.extensions["cds"].feedback_store
    store.issued._on_drop = dropped.append
    with store.engine.begin() as connection:
        connection.execute(text("DROP TABLE issued_cards"))
    cards = hook(app)
    assert cards
    store.issued.flush(5.0)
    assert sum(dropped) == len(cards)


def test_a_full_queue_drops_and_counts_without_blocking():
    release = threading.Event()
    dropped, written = [], []
    writer = IssuedCardsWriter(lambda rows: (release.wait(10), written.extend(rows)), capacity=2,
                               on_drop=dropped.append)
    try:
        started = time.perf_counter()
        for i in range(6):
            writer.submit([{"card_uuid": str(i)}])
        assert time.perf_counter() - started < 1.0
    finally:
        release.set()
    assert writer.flush(5.0)
    assert len(written) + sum(dropped) == 6 and sum(dropped) >= 3


@needs_real_timeouts
def test_the_writer_thread_ends_when_idle_and_starts_again():
    written = []
    writer = IssuedCardsWriter(written.extend, idle_seconds=0.05)
    writer.submit([{"card_uuid": "a"}])
    assert writer.flush(2.0)
    deadline = time.monotonic() + 2
    while writer._thread is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert writer._thread is None
    writer.submit([{"card_uuid": "b"}])
    assert writer.flush(2.0)
    assert [row["card_uuid"] for row in written] == ["a", "b"]


def test_rows_older_than_the_retention_are_pruned(tmp_path):
    store = FeedbackStore(make_engine(f"sqlite:///{tmp_path / 'f.sqlite3'}"), issued_retention_days=30)
    now = datetime.now(timezone.utc)
    with store.engine.begin() as connection:
        connection.execute(issued_cards.insert(), [
            {"card_uuid": "old", "hook_instance": "h", "service_id": "s", "topic": "t", "indicator": "info",
             "issued_at": now - timedelta(days=31)},
            {"card_uuid": "kept", "hook_instance": "h", "service_id": "s", "topic": "t", "indicator": "info",
             "issued_at": now - timedelta(days=29)}])
    store.issued._prune_every = 0.0
    store.record_issued_cards("s", "h2", [("new", "t", "info")])
    assert store.issued.flush(5.0)
    with store.engine.connect() as connection:
        left = sorted(row.card_uuid for row in connection.execute(select(issued_cards.c.card_uuid)))
    assert left == ["kept", "new"]


def test_feedback_right_after_the_hook_finds_its_topic(tmp_path):
    app = app_for(tmp_path)
    (card, *_) = hook(app)
    response = app.test_client().post(f"{SERVICE}/feedback", json={"feedback": [
        {"card": card["uuid"], "outcome": "overridden", "outcomeTimestamp": "2026-11-22T10:00:00Z"}]})
    assert response.status_code == 200
    (row,) = app.extensions["cds"].feedback_store.all_feedback()
    assert row["topic"] == card["source"]["topic"]["code"]


def test_an_in_memory_store_is_one_database_for_every_thread():
    store = FeedbackStore(make_engine("sqlite://"))
    store.record_issued_cards("s", "h", [("c1", "t", "info")])
    assert store.issued.flush(5.0)
    assert issued_count(store) == 1
