"""Memory is bounded in total, not only per request: eight concurrent 30 MiB prefetch bodies (the synthetic
cohort's 20,000-resource record) against `cds-service serve` with two workers. Before, every body was read and
decoded at once (peak +410 MiB on one worker, which stayed near its peak afterwards); now a worker decodes one
large body at a time and hands the freed heap back, so its peak grows by about one request's worth."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

from benchmarks.data import CLOCK_NOW, hook_body
from tests.cli.test_serve import clean_environment, free_port
from tests.conftest import needs_real_timeouts

pytestmark = needs_real_timeouts


def _status_kib(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status", encoding="utf-8") as status:
        return int(next(line.split()[1] for line in status if line.startswith(field)))


def test_eight_concurrent_large_bodies_grow_a_worker_by_about_one_request(tmp_path):
    body = hook_body(20_000)
    assert 28 << 20 < len(body) < 34 << 20
    port = free_port()
    env = clean_environment(CDS_REQUIRE_JWT="false", CDS_CLOCK_NOW=CLOCK_NOW, CDS_MAX_CONTENT_LENGTH=str(64 << 20),
                            CDS_FEEDBACK_DATABASE=f"sqlite:///{tmp_path / 'feedback.sqlite3'}",
                            PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"))
    process = subprocess.Popen([sys.executable, "-m", "cds_service", "serve", "--port", str(port),
                                "--metrics-port", "0", "--workers", "2", "--threads", "4", "--log-level", "warning"],
                               env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    answers: list = []

    def call():
        request = urllib.request.Request(url + "/cds-services/posterior-knee-pain", data=body,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=120) as answer:
                answers.append((answer.status, None))
        except urllib.error.HTTPError as error:
            answers.append((error.code, error.headers.get("Retry-After")))

    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(url + "/healthz", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        with open(f"/proc/{process.pid}/task/{process.pid}/children", encoding="utf-8") as children:
            workers = [int(pid) for pid in children.read().split()]
        started = {pid: _status_kib(pid, "VmRSS") for pid in workers}
        threads = [threading.Thread(target=call) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=180)
        growth = {pid: (_status_kib(pid, "VmHWM") - started[pid]) / 1024 for pid in workers}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    print(f"\n8 × {len(body) / 2**20:.0f} MiB bodies: answers {sorted(s for s, _ in answers)}; peak growth per "
          f"process (MiB): {', '.join(f'{g:.0f}' for g in growth.values())}")
    assert len(answers) == 8
    # Each is answered (a burst longer than the slot wait gets 503 with Retry-After, never a hang or a 500).
    assert all(status == 200 or (status == 503 and retry) for status, retry in answers)
    assert sum(status == 200 for status, _ in answers) >= 4
    # One large request's worth (about 4.5 × the body) per worker, not eight bodies' worth (+410 MiB before).
    assert max(growth.values()) < 6 * len(body) / 2**20
