"""Nothing acknowledged is lost: feedback posted concurrently to a real `cds-service serve` (gunicorn, two
worker processes, one SQLite file), the whole server killed with SIGKILL mid-stream, then every feedback
that got a 200 is read back after a restart."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

FEEDBACK = "/cds-services/posterior-knee-pain/feedback"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(database: Path, port: int) -> subprocess.Popen:
    env = dict(os.environ, CDS_REQUIRE_JWT="false", CDS_FEEDBACK_DATABASE=f"sqlite:///{database}",
               CDS_METRICS_ENABLED="false")
    command = [str(Path(sys.executable).parent / "cds-service"), "serve", "--port", str(port), "--metrics-port", "0", "--workers", "2",
               "--threads", "4", "--log-level", "warning"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return process
        except OSError:
            time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)
    raise RuntimeError("cds-service serve did not start")


def post_feedback(port: int, card: str) -> int:
    body = json.dumps({"feedback": [{"card": card, "outcome": "overridden",
                                     "outcomeTimestamp": "2026-11-22T10:00:00Z",
                                     "overrideReason": {"userComment": "durability test"}}]}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}{FEEDBACK}", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0  # connection refused or reset: not acknowledged


def test_every_acknowledged_feedback_survives_kill_9(tmp_path, capsys):
    database = tmp_path / "feedback.sqlite3"
    port = free_port()
    server = start_server(database, port)
    acknowledged: list[str] = []
    attempted: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client():
        while not stop.is_set():
            card = str(uuid.uuid4())
            with lock:
                attempted.append(card)
            if post_feedback(port, card) == 200:
                with lock:
                    acknowledged.append(card)

    threads = [threading.Thread(target=client) for _ in range(6)]
    for thread in threads:
        thread.start()
    time.sleep(2.0)
    os.killpg(server.pid, signal.SIGKILL)  # master and workers, mid-stream
    server.wait(timeout=10)
    stop.set()
    for thread in threads:
        thread.join(timeout=10)

    assert len(acknowledged) > 50, "the load was too light to mean anything"

    # After a restart the store holds every acknowledged entry exactly once.
    restarted = start_server(database, free_port())
    try:
        with create_engine(f"sqlite:///{database}").connect() as connection:
            stored = [row[0] for row in connection.execute(text("select card_uuid from feedback"))]
    finally:
        os.killpg(restarted.pid, signal.SIGTERM)
        restarted.wait(timeout=15)
    missing = set(acknowledged) - set(stored)
    with capsys.disabled():
        print(f"\nkill -9 mid-stream: {len(attempted)} posted, {len(acknowledged)} acknowledged, "
              f"{len(stored)} stored after restart, {len(missing)} acknowledged but lost")
    assert not missing, f"{len(missing)} acknowledged feedback entries were lost"
    assert len(stored) == len(set(stored)), "an entry was stored twice"
    assert set(stored) <= set(attempted)
