"""Database faults fail fast (issue "Hardening II"): with PostgreSQL stopped or stalled (every server process
frozen, as a hung host or a partitioned network would leave it), feedback gets a prompt 503, hooks keep
answering with their cards (the jti check falls back to this process's memory, still refusing replays),
and /readyz says what is degraded."""
from __future__ import annotations

import contextlib
import json
import os
import signal
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import needs_real_timeouts
from tests.postgres.test_feedback_on_postgres import FEEDBACK, accepted, signed
from tests.support.fhir_data import prefetch_for

pytestmark = needs_real_timeouts  # a stalled server is only noticed when the guard's timed wait runs out

CASE = json.loads((Path(__file__).parents[1] / "scenarios" / "cases" / "02-dvt-wells-likely.json").read_text())
SERVICE = "/cds-services/posterior-knee-pain"


def hook_body() -> dict:
    return {"hook": "patient-view", "hookInstance": str(uuid.uuid4()),
            "context": {"userId": "Practitioner/x", "patientId": CASE["patient"]["id"]},
            "prefetch": prefetch_for(CASE)}


def _server_processes(postgres_server) -> list[int]:
    postmaster = postgres_server._postmaster_pid()
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == postmaster:
                children.append(int(entry))
    return [postmaster, *children]


@contextlib.contextmanager
def frozen(postgres_server):
    """Every PostgreSQL process stopped (SIGSTOP): connections stay open, nothing answers. Always thawed."""
    pids = _server_processes(postgres_server)
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


@contextlib.contextmanager
def stopped(postgres_server):
    """The session's cluster shut down (connections refused), then started again on the same port and data."""
    datadir = str(postgres_server.datadir)
    postgres_server._run(["pg_ctl", "-D", datadir, "-m", "fast", "-w", "stop"], timeout=60)
    try:
        yield
    finally:
        postgres_server._run(["pg_ctl", "-D", datadir, "-l", str(postgres_server.log_path), "-w", "start"],
                             timeout=60)


def timed(call):
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started


@pytest.mark.parametrize("fault", [stopped, frozen], ids=["stopped", "stalled"])
def test_feedback_fails_fast_and_hooks_keep_their_cards(make_app, client_key, postgres_server, fault):
    # JTI_STORE=database: the replay check is on the same PostgreSQL. The clock is the case's own: its
    # findings are dated for it, and read on a later day they fall out of the finding window (no card).
    app = make_app(CLOCK_NOW=CASE["now"])
    client = signed(app, client_key)
    healthy_cards = client.post(SERVICE, json=hook_body()).get_json()["cards"]
    assert healthy_cards and client.get("/readyz").get_json()["status"] == "ready"
    with fault(postgres_server):
        first, first_seconds = timed(lambda: client.post(FEEDBACK, json={"feedback": [accepted("c1")]}))
        assert first.status_code == 503 and first.headers["Retry-After"]
        # Bounded by the guards' waits (the replay check's 0.3 s, then the feedback store's 1 s), with room for
        # a loaded two-core CI machine (1.8 s seen); without the guards a stalled server holds the request
        # until the TCP timeout, minutes, so the bound still tells the two apart.
        assert first_seconds < 3.0
        again, again_seconds = timed(lambda: client.post(FEEDBACK, json={"feedback": [accepted("c2")]}))
        assert again.status_code == 503 and again_seconds < 0.5  # the guard refuses without trying again
        hook, hook_seconds = timed(lambda: client.post(SERVICE, json=hook_body()))
        assert hook.status_code == 200
        assert [c["summary"] for c in hook.get_json()["cards"]] == [c["summary"] for c in healthy_cards]
        assert hook_seconds < 2.0  # the jti check waits 0.3 s at most, then this process's memory
        ready = client.get("/readyz")
        # A shared database down is no reason to take this pod out: it still answers hooks.
        assert ready.status_code == 200
        assert ready.get_json() == {"status": "degraded", "checks": {"feedbackStore": "unavailable",
                                                                      "replayStore": "fallback to this process's memory"}}
    # Back: feedback is stored again once the guard's pause is over.
    time.sleep(app.extensions["cds"].feedback_store.guard.cooldown)
    assert client.post(FEEDBACK, json={"feedback": [accepted("c3")]}).status_code == 200


def test_replays_stay_refused_while_the_replay_database_is_down(make_app, client_key, postgres_server):
    from tests.postgres.test_feedback_on_postgres import bearer, raw_token
    app = make_app()
    test_client = app.test_client()
    token = raw_token(client_key, SERVICE)
    with stopped(postgres_server):
        assert test_client.post(SERVICE, json=hook_body(), headers=bearer(token)).status_code == 200
        assert test_client.post(SERVICE, json=hook_body(), headers=bearer(token)).status_code == 401
    time.sleep(app.extensions["cds"].verifier.replay.guard.cooldown)
    # The database is back, but this token was used during the outage: still refused here.
    assert test_client.post(SERVICE, json=hook_body(), headers=bearer(token)).status_code == 401
