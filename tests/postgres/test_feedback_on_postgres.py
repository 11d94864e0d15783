"""The feedback endpoint and the jti replay store on PostgreSQL (psycopg 3), end to end through create_app.

Every test gets a new, empty database (tests/postgres/conftest.py) on a throwaway cluster (tests/pg_server.py).
What is stored is read back through a connection of our own, never through the app's engine.

The feedback tests keep the jti store in memory (JTI_STORE=memory) so that each failure speaks of feedback alone;
the jti store on PostgreSQL has its own tests at the end.
"""
from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import inspect, text

from cds_service.feedback.store import create_tables, make_engine, metadata
from cds_service.trust.replay import DatabaseReplayStore
from tests.conftest import BASE_URL, ISSUER, SECRETS, SignedClient
from tests.support.feedback import INVALID_FEEDBACK
from tests.support.fhir_data import prefetch_for

SERVICE_ID = "posterior-knee-pain"
SERVICE = f"/cds-services/{SERVICE_ID}"
FEEDBACK = f"{SERVICE}/feedback"
DISCOVERY = "/cds-services"
CASE = Path(__file__).resolve().parents[1] / "scenarios" / "cases" / "02-dvt-wells-likely.json"
MEMORY_JTI = {"JTI_STORE": "memory"}
REASON_SYSTEM = "http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes"

# -- helpers ---------------------------------------------------------------------------------------------------------

def accepted(card: str, suggestion: str = "sugg-1") -> dict:
    return {"card": card, "outcome": "accepted", "acceptedSuggestions": [{"id": suggestion}],
            "outcomeTimestamp": "2026-11-22T10:00:00Z"}


def overridden(card: str, code: str = "patient-refuses", display: str = "Patient refuses",
               system: str = REASON_SYSTEM) -> dict:
    return {"card": card, "outcome": "overridden", "outcomeTimestamp": "2026-11-22T10:01:00.123+01:00",
            "overrideReason": {"reason": {"system": system, "code": code, "display": display},
                               "userComment": "prefers to wait"}}


def stored(engine, table: str = "feedback") -> list[dict]:
    """Rows as committed, read through our own engine (not the app's)."""
    order = "id" if table == "feedback" else "card_uuid"
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(text(f"select * from {table} order by {order}"))]


def count(engine, table: str = "feedback") -> int:
    with engine.connect() as connection:
        return connection.execute(text(f"select count(*) from {table}")).scalar_one()


def signed(app, client_key) -> SignedClient:
    return SignedClient(app.test_client(), client_key)


def raw_token(client_key, path: str, **claims) -> str:
    token = client_key.token(ISSUER, BASE_URL + path, **claims)
    SECRETS.add(token)  # the suite-wide guard checks it never reaches a log
    return token


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


# -- feedback, one app ---------------------------------------------------------------------------------------------

def test_feedback_is_stored_with_every_field(make_app, client_key, engine):
    app = make_app(**MEMORY_JTI)
    card = str(uuid.uuid4())
    before = datetime.now(timezone.utc)
    response = signed(app, client_key).post(FEEDBACK, json={"feedback": [accepted(card), overridden(card)]})
    after = datetime.now(timezone.utc)
    assert response.status_code == 200

    first, second = stored(engine)
    assert first["id"] < second["id"]
    common = {"service_id": SERVICE_ID, "card_uuid": card, "hook_instance": None, "topic": None,
              "client_iss": ISSUER}
    assert {k: v for k, v in first.items() if k not in ("id", "received_at")} == {
        **common, "outcome": "accepted", "accepted_suggestions": '["sugg-1"]',
        "override_reason_system": None, "override_reason_code": None, "override_reason_display": None,
        "override_user_comment": None, "outcome_timestamp": "2026-11-22T10:00:00Z"}
    assert {k: v for k, v in second.items() if k not in ("id", "received_at")} == {
        **common, "outcome": "overridden", "accepted_suggestions": None,
        "override_reason_system": REASON_SYSTEM, "override_reason_code": "patient-refuses",
        "override_reason_display": "Patient refuses", "override_user_comment": "prefers to wait",
        "outcome_timestamp": "2026-11-22T10:01:00.123+01:00"}  # kept exactly as sent, offset and all
    # timestamptz: an aware instant, the same for the whole batch (one transaction)
    assert first["received_at"] == second["received_at"]
    assert first["received_at"].tzinfo is not None and before <= first["received_at"] <= after
    # the app reads back what we read
    assert [r["id"] for r in app.extensions["cds"].feedback_store.all_feedback()] == [first["id"], second["id"]]


def test_column_types_on_postgres(make_app, engine):
    make_app(**MEMORY_JTI)
    columns = {c["name"]: c for c in inspect(engine).get_columns("feedback")}
    assert str(columns["received_at"]["type"]) == "TIMESTAMP"
    assert columns["received_at"]["type"].timezone is True
    with engine.connect() as connection:
        default = connection.execute(text(
            "select column_default from information_schema.columns "
            "where table_name = 'feedback' and column_name = 'id'")).scalar_one()
    assert default.startswith("nextval(")  # SERIAL: ids come from a sequence, safe under concurrency


def test_same_card_may_get_feedback_more_than_once(make_app, client_key, engine):
    app = make_app(**MEMORY_JTI)
    client = signed(app, client_key)
    card = str(uuid.uuid4())
    bodies = [overridden(card), accepted(card), overridden(card, code="not-indicated", display="Not indicated")]
    for entry in bodies:
        assert client.post(FEEDBACK, json={"feedback": [entry]}).status_code == 200
    rows = stored(engine)
    assert [(r["card_uuid"], r["outcome"]) for r in rows] == [(card, "overridden"), (card, "accepted"),
                                                              (card, "overridden")]
    assert [r["override_reason_code"] for r in rows] == ["patient-refuses", None, "not-indicated"]
    assert len({r["id"] for r in rows}) == 3


@pytest.mark.parametrize("body, path", INVALID_FEEDBACK)
def test_invalid_feedback_is_400_and_stores_nothing(make_app, client_key, engine, body, path):
    app = make_app(**MEMORY_JTI)
    response = signed(app, client_key).post(FEEDBACK, json=body)
    assert response.status_code == 400
    assert response.get_json()["issue"][0]["expression"] == [path]
    assert count(engine) == 0


def test_a_failed_write_is_not_acknowledged(make_app, client_key, engine):
    app = make_app(**MEMORY_JTI)
    with engine.begin() as connection:
        connection.execute(text("drop table feedback"))
    assert signed(app, client_key).post(FEEDBACK, json={"feedback": [accepted("c")]}).status_code == 503


# -- cards issued by the hook, then feedback on them ----------------------------------------------------------------

def test_feedback_is_traced_to_the_hook_instance_and_topic_of_an_issued_card(make_app, client_key, engine):
    case = json.loads(CASE.read_text(encoding="utf-8"))
    app = make_app(CLOCK_NOW=case["now"], **MEMORY_JTI)
    client = signed(app, client_key)
    hook_instance = str(uuid.uuid4())
    response = client.post(SERVICE, json={
        "hook": "patient-view", "hookInstance": hook_instance,
        "context": {"userId": "Practitioner/scenario", "patientId": case["patient"]["id"]},
        "prefetch": prefetch_for(case)})
    assert response.status_code == 200, response.get_data(as_text=True)
    cards = response.get_json()["cards"]
    assert [c["source"]["topic"]["code"] for c in cards] == ["suspected-dvt"]

    issued = stored(engine, "issued_cards")
    assert [{k: v for k, v in r.items() if k != "issued_at"} for r in issued] == [
        {"card_uuid": c["uuid"], "hook_instance": hook_instance, "service_id": SERVICE_ID,
         "topic": c["source"]["topic"]["code"], "indicator": c["indicator"]}
        for c in sorted(cards, key=lambda c: c["uuid"])]
    assert issued[0]["issued_at"].tzinfo is not None

    card = cards[0]
    reason = card["overrideReasons"][0]
    feedback = [accepted(card["uuid"], suggestion=card["suggestions"][0]["uuid"]),
                overridden(card["uuid"], code=reason["code"], display=reason["display"], system=reason["system"]),
                overridden("a-card-we-never-issued")]
    assert client.post(FEEDBACK, json={"feedback": feedback}).status_code == 200
    rows = stored(engine)
    assert [(r["card_uuid"], r["hook_instance"], r["topic"]) for r in rows] == [
        (card["uuid"], hook_instance, "suspected-dvt"),
        (card["uuid"], hook_instance, "suspected-dvt"),
        ("a-card-we-never-issued", None, None)]
    assert json.loads(rows[0]["accepted_suggestions"]) == [card["suggestions"][0]["uuid"]]
    assert rows[1]["override_reason_code"] == reason["code"]


def test_committed_feedback_is_visible_from_a_separate_connection(make_app, client_key, postgres_server,
                                                                   database_url):
    app = make_app(**MEMORY_JTI)
    name = database_url.rsplit("/", 1)[1]
    # A session that was already open before the write, and one opened after: READ COMMITTED sees both.
    with psycopg.connect(postgres_server.conninfo(name), autocommit=True) as early:
        assert early.execute("select count(*) from feedback").fetchone() == (0,)
        assert signed(app, client_key).post(FEEDBACK, json={"feedback": [accepted("card-9")]}).status_code == 200
        assert early.execute("select card_uuid from feedback").fetchall() == [("card-9",)]
    with psycopg.connect(postgres_server.conninfo(name)) as late:
        assert late.execute("select card_uuid, outcome from feedback").fetchall() == [("card-9", "accepted")]
    # and a new app on the same database (a restart, another replica) reads it back
    assert [r["card_uuid"] for r in make_app(**MEMORY_JTI).extensions["cds"].feedback_store.all_feedback()] == [
        "card-9"]


# -- concurrency: threads and two workers ------------------------------------------------------------------------

def test_concurrent_feedback_from_threads_and_two_workers_is_stored_exactly_once(make_app, client_key, engine):
    workers = [make_app(**MEMORY_JTI), make_app(**MEMORY_JTI)]  # two apps, two pools: like two gunicorn workers
    threads_per_worker, posts_per_thread = 6, 5
    start = threading.Barrier(len(workers) * threads_per_worker)

    def post_all(app, thread: int) -> list[tuple[str, int]]:
        client = signed(app, client_key)
        start.wait(timeout=30)
        results = []
        for n in range(posts_per_thread):
            card = f"t{thread}-n{n}-{uuid.uuid4()}"
            response = client.post(FEEDBACK, json={"feedback": [accepted(card), overridden(card)]})
            results.append((card, response.status_code))
        return results

    with ThreadPoolExecutor(max_workers=len(workers) * threads_per_worker) as pool:
        futures = [pool.submit(post_all, app, w * threads_per_worker + t)
                   for w, app in enumerate(workers) for t in range(threads_per_worker)]
        results = [item for future in futures for item in future.result(timeout=120)]

    assert [status for _, status in results] == [200] * len(results)
    sent = Counter((card, outcome) for card, _ in results for outcome in ("accepted", "overridden"))
    rows = stored(engine)
    assert Counter((r["card_uuid"], r["outcome"]) for r in rows) == sent
    assert len(rows) == len(workers) * threads_per_worker * posts_per_thread * 2
    assert len({r["id"] for r in rows}) == len(rows)


# -- tables created by several apps starting at once ----------------------------------------------------------------

def test_tables_created_by_several_apps_starting_at_once_on_an_empty_database(make_app, engine):
    assert inspect(engine).get_table_names() == []
    apps_at_once = 6
    start = threading.Barrier(apps_at_once)

    def start_app(_):
        start.wait(timeout=30)
        return make_app()  # JTI_STORE=database: both the feedback tables and jwt_replay are created

    with ThreadPoolExecutor(max_workers=apps_at_once) as pool:
        apps = list(pool.map(start_app, range(apps_at_once), timeout=120))  # raises if any start-up failed

    inspector = inspect(engine)
    assert sorted(inspector.get_table_names()) == ["feedback", "issued_cards", "jwt_replay"]
    assert {i["name"] for i in inspector.get_indexes("feedback")} == {"ix_feedback_card_uuid"}
    for app in apps:
        assert app.extensions["cds"].feedback_store.add_feedback(SERVICE_ID, [accepted(str(uuid.uuid4()))],
                                                                 None) == 1
    assert count(engine) == apps_at_once


def test_create_tables_races_on_empty_databases(postgres_server, database_url):
    """The same race, harder: 8 engines call create_tables at once, for both table sets, 3 times over."""
    racers = 8
    for _ in range(3):
        url = postgres_server.reset_database(database_url.rsplit("/", 1)[1])
        engines = [make_engine(url) for _ in range(racers)] + [make_engine(url, durable=False) for _ in range(racers)]
        start = threading.Barrier(len(engines))

        def create(index: int):
            start.wait(timeout=30)
            if index < racers:
                create_tables(metadata, engines[index])
            else:
                DatabaseReplayStore(engines[index])

        try:
            with ThreadPoolExecutor(max_workers=len(engines)) as pool:
                list(pool.map(create, range(len(engines)), timeout=120))  # raises if any creation failed
            assert sorted(inspect(engines[0]).get_table_names()) == ["feedback", "issued_cards", "jwt_replay"]
        finally:
            for engine in engines:
                engine.dispose()


# -- the jti replay store shared through PostgreSQL --------------------------------------------------------------

def test_database_replay_store_itself_works_on_postgres(database_url):
    """The store's own logic (keys without NUL): first use once across two engines, expired keys reopen."""
    engines = [make_engine(database_url, durable=False) for _ in range(2)]
    try:
        one, two = (DatabaseReplayStore(engine) for engine in engines)
        now = time.time()
        assert one.first_use("iss|jti-1", now + 300) is True
        assert two.first_use("iss|jti-1", now + 300) is False
        assert one.first_use("iss|jti-1", now + 300) is False
        assert one.first_use("iss|jti-2", now - 1) is True  # recorded already expired
        assert two.first_use("iss|jti-2", now + 300) is True  # an expired row is replaced
        assert one.first_use("iss|jti-2", now + 300) is False

        racers = 16
        start = threading.Barrier(racers)

        def race(index: int) -> bool:
            start.wait(timeout=30)
            return (one, two)[index % 2].first_use("iss|jti-raced", now + 300)

        with ThreadPoolExecutor(max_workers=racers) as pool:
            assert sorted(pool.map(race, range(racers), timeout=60)) == [False] * (racers - 1) + [True]
    finally:
        for engine in engines:
            engine.dispose()


@pytest.mark.parametrize("jti", [
    pytest.param(None, id="jti-uuid4"),  # as ClientKey makes them
    pytest.param("j" * 1000, id="jti-1000-chars"),  # token_key is VARCHAR(600); the JWT may be 8 KB
    pytest.param("jti\u0000with-nul", id="jti-with-nul"),  # \u0000 is valid in a JSON string
])
def test_a_token_used_on_one_app_is_refused_on_another_app_on_the_same_database(make_app, client_key, jti):
    first, second = make_app(), make_app()  # JTI_STORE=database, the default
    token = raw_token(client_key, DISCOVERY, **({"jti": jti} if jti else {}))
    assert first.test_client().get(DISCOVERY, headers=bearer(token)).status_code == 200
    replayed = second.test_client().get(DISCOVERY, headers=bearer(token))
    assert replayed.status_code == 401 and replayed.data == b""
    assert first.test_client().get(DISCOVERY, headers=bearer(token)).status_code == 401
    assert second.test_client().get(DISCOVERY, headers=bearer(raw_token(client_key, DISCOVERY))).status_code == 200


def test_one_token_raced_at_two_apps_is_accepted_once(make_app, client_key):
    apps = [make_app(), make_app()]
    token = raw_token(client_key, DISCOVERY)
    racers = 8
    start = threading.Barrier(racers)

    def call(index: int) -> int:
        client = apps[index % 2].test_client()
        start.wait(timeout=30)
        return client.get(DISCOVERY, headers=bearer(token)).status_code

    with ThreadPoolExecutor(max_workers=racers) as pool:
        statuses = sorted(pool.map(call, range(racers), timeout=60))
    assert statuses == [200] + [401] * (racers - 1)


def test_feedback_with_the_default_jti_store_on_postgres(make_app, client_key, engine):
    app = make_app()
    assert signed(app, client_key).post(FEEDBACK, json={"feedback": [accepted("c-default")]}).status_code == 200
    assert [r["card_uuid"] for r in stored(engine)] == ["c-default"]


# -- valid feedback the schema accepts, which PostgreSQL refuses ---------------------------------------------------

def _long_code(card):
    return overridden(card, code="c" * 250)


def _long_system(card):
    return overridden(card, system="urn:x:" + "s" * 250)


def _long_display(card):
    return overridden(card, display="d" * 600)


def _long_fraction(card):
    return {**accepted(card), "outcomeTimestamp": "2026-11-22T10:00:00." + "1" * 40 + "Z"}


def _nul_in_comment(card):
    entry = overridden(card)
    entry["overrideReason"]["userComment"] = "prefers\u0000to wait"
    return entry


def _nul_in_card(card):
    return accepted(card + "\u0000")


@pytest.mark.parametrize("make_entry", [
    pytest.param(_long_code, id="code-250-chars"),
    pytest.param(_long_system, id="system-256-chars"),
    pytest.param(_long_display, id="display-600-chars"),
    pytest.param(_long_fraction, id="timestamp-with-40-digit-fraction"),
    pytest.param(_nul_in_comment, id="nul-in-userComment"),
    pytest.param(_nul_in_card, id="nul-in-card"),
])
def test_schema_valid_feedback_is_stored_or_refused_never_a_500(make_app, client_key, engine, make_entry):
    """Correct: stored in full (200), or refused by validation (400, nothing stored). Never a 500 the EHR retries."""
    app = make_app(**MEMORY_JTI)
    entry = make_entry(str(uuid.uuid4()))
    response = signed(app, client_key).post(FEEDBACK, json={"feedback": [entry]})
    assert response.status_code in (200, 400), response.status_code
    if response.status_code == 400:
        assert count(engine) == 0
        return
    (row,) = stored(engine)
    reason = (entry.get("overrideReason") or {}).get("reason") or {}
    assert (row["override_reason_code"], row["override_reason_system"], row["override_reason_display"],
            row["outcome_timestamp"]) == (reason.get("code"), reason.get("system"), reason.get("display"),
                                          entry["outcomeTimestamp"])
