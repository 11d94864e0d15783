"""Slow clients do not take the service down: the production command (`cds-service serve`, two workers) on
loopback holds 1,000 connections trickling their headers or bodies (1 byte every 2 s) while legitimate hook
calls keep p99 under 1 s; trickled headers are cut at the header deadline, trickled bodies get 408; an
over-limit body gets 413 however it is framed, before it has been read whole."""
from __future__ import annotations

import asyncio
import json
import os
import resource
import signal
import subprocess
import time

import pytest

from cds_service.serving import HEADER_TIMEOUT
from tests.cli.test_serve import clean_environment, free_port
from tests.conftest import needs_real_timeouts

pytestmark = needs_real_timeouts

SLOW = 1000
BODY_TIMEOUT = 4.0
MAX_BODY = 1024 * 1024
HOOK = "/cds-services/posterior-knee-pain"
BODY = json.dumps({
    "hook": "patient-view", "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
    "context": {"userId": "Practitioner/1", "patientId": "p1"},
    "prefetch": {"patient": {"resourceType": "Patient", "id": "p1", "birthDate": "1970-01-01", "gender": "female"},
                 "conditions": {"resourceType": "Bundle", "type": "searchset", "entry": []},
                 "observations": {"resourceType": "Bundle", "type": "searchset", "entry": []}},
}).encode()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 4 * SLOW
    if soft < wanted:
        if hard != resource.RLIM_INFINITY and hard < wanted:
            pytest.skip(f"the open-file limit ({hard}) is below the {wanted} this attack needs")
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))  # inherited by the server
    folder = tmp_path_factory.mktemp("slow")
    port = free_port()
    env = clean_environment(CDS_REQUIRE_JWT="false", CDS_MAX_CONTENT_LENGTH=str(MAX_BODY),
                            CDS_FEEDBACK_DATABASE=f"sqlite:///{folder / 'feedback.sqlite3'}",
                            PROMETHEUS_MULTIPROC_DIR=str(folder / "metrics"))
    process = subprocess.Popen(
        [*_python(), "-m", "cds_service", "serve", "--port", str(port), "--metrics-port", "0", "--workers", "2",
         "--body-timeout", str(BODY_TIMEOUT), "--log-level", "warning"],
        env=env, cwd=folder, stdout=subprocess.DEVNULL, stderr=(folder / "serve.log").open("w"),
        start_new_session=True)
    try:
        asyncio.run(_wait_listening(port))
        yield port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


def _python() -> list[str]:
    import sys

    return [sys.executable]


async def _wait_listening(port: int) -> None:
    for _ in range(200):
        try:
            status, _ = await _call(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            if status == 200:
                return
        except OSError:
            pass
        await asyncio.sleep(0.1)
    pytest.fail("cds-service serve did not start")


async def _call(port: int, request: bytes, timeout: float = 10) -> tuple[int, bytes]:
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
    try:
        writer.write(request)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def _hook_call() -> bytes:
    return (b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n"
            b"Content-Length: %d\r\n\r\n" % (HOOK.encode(), len(BODY))) + BODY


async def _trickle(port: int, kind: str, until: float, outcome: dict) -> None:
    """One attacker connection: 1 byte every 2 s of its headers, or of its body after complete headers."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    opened = time.monotonic()
    if kind == "headers":
        data = b"POST %s HTTP/1.1\r\nHost: x\r\nX-Pad: %s" % (HOOK.encode(), b"a" * 2000)
    else:
        writer.write(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                     % (HOOK.encode(), len(BODY)))
        data = BODY
    closing = asyncio.ensure_future(reader.read())
    try:
        for index in range(len(data)):
            writer.write(data[index:index + 1])
            await writer.drain()
            done, _ = await asyncio.wait({closing}, timeout=2)
            if done or time.monotonic() > until:
                break
        if closing.done():
            answer = closing.result()
            status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else None
            outcome[kind].append((time.monotonic() - opened, status))
    except (ConnectionError, OSError):
        outcome[kind].append((time.monotonic() - opened, None))
    finally:
        closing.cancel()
        writer.close()


async def _attack(port: int) -> tuple[dict, list]:
    until = time.monotonic() + BODY_TIMEOUT + 12
    outcome: dict = {"headers": [], "body": []}
    attackers = []
    for index in range(SLOW):
        attackers.append(asyncio.ensure_future(_trickle(port, ("headers", "body")[index % 2], until, outcome)))
        if index % 100 == 99:
            await asyncio.sleep(0.05)
    await asyncio.sleep(1)  # all attackers connected and trickling
    latencies: list = []

    async def legitimate():
        while time.monotonic() < until - 3:
            started = time.monotonic()
            status, body = await _call(port, _hook_call())
            latencies.append((time.monotonic() - started, status, b'"cards"' in body))
            await asyncio.sleep(0.05)

    await asyncio.gather(*(legitimate() for _ in range(4)))
    await asyncio.gather(*attackers)
    return outcome, latencies


def test_a_thousand_trickling_clients_neither_starve_legitimate_calls_nor_stay_connected(server):
    outcome, latencies = asyncio.run(_attack(server))
    assert len(latencies) > 200
    assert all(status == 200 and has_cards for _, status, has_cards in latencies)
    times = sorted(seconds for seconds, _, _ in latencies)
    p99 = times[int(len(times) * 0.99) - 1]
    print(f"\n{SLOW} trickling connections: {len(latencies)} legitimate calls, p50 {times[len(times) // 2]:.3f} s, "
          f"p99 {p99:.3f} s, max {times[-1]:.3f} s")
    assert p99 < 1.0
    # every attacker was cut off by the server, at its deadline, not by the attack ending
    assert len(outcome["headers"]) == SLOW // 2
    assert max(seconds for seconds, _ in outcome["headers"]) < HEADER_TIMEOUT + 3
    assert len(outcome["body"]) == SLOW // 2
    assert {status for _, status in outcome["body"]} == {408}
    assert max(seconds for seconds, _ in outcome["body"]) < BODY_TIMEOUT + 3


def test_an_over_limit_body_gets_413_before_it_is_read_whole_chunked_or_not(server):
    async def chunked() -> tuple[int, bytes, int]:
        reader, writer = await asyncio.open_connection("127.0.0.1", server)
        writer.write(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n" % HOOK.encode())
        chunk = b"x" * 65536
        sent = 0
        answer = asyncio.ensure_future(reader.read())
        try:
            while sent < 8 * MAX_BODY and not answer.done():
                writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                await writer.drain()
                sent += len(chunk)
                await asyncio.sleep(0.002)
            data = await asyncio.wait_for(answer, 10)
        except (ConnectionError, OSError):
            data = await asyncio.wait_for(answer, 10)
        finally:
            writer.close()
        head, _, body = data.partition(b"\r\n\r\n")
        return int(head.split(b" ", 2)[1]), body, sent

    status, body, sent = asyncio.run(chunked())
    assert status == 413 and sent < 2 * MAX_BODY
    issue = json.loads(body)["issue"][0]
    assert issue["code"] == "too-costly" and str(MAX_BODY) in issue["diagnostics"]

    declared = (b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n"
                b"Content-Length: %d\r\n\r\n{" % (HOOK.encode(), 10 * MAX_BODY))
    status, body = asyncio.run(_call(server, declared))
    assert status == 413 and json.loads(body)["resourceType"] == "OperationOutcome"
