"""The buffering layer in front of the WSGI app (cds_service/http/buffered.py), driven as an ASGI server
drives it: a large body waits for the worker's large-body slot, and gets 503 with Retry-After when none is
free in time; an ordinary one never waits."""
from __future__ import annotations

import asyncio
import json
import time

from cds_service.http.buffered import LARGE_BODY, BufferedWSGI
from tests.conftest import needs_real_timeouts

pytestmark = needs_real_timeouts  # asyncio's timed waits


def _app(environ, start_response):
    environ["wsgi.input"].read()
    time.sleep(0.4)  # decoding a large prefetch takes a while
    start_response("200 OK", [("Content-Type", "application/json")])
    return [b"{}"]


async def _post(served: BufferedWSGI, size: int) -> tuple[int, dict]:
    scope = {"type": "http", "method": "POST", "path": "/cds-services/x", "query_string": b"", "scheme": "http",
             "headers": [(b"content-length", str(size).encode()), (b"content-type", b"application/json")],
             "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 80)}
    parts = [{"type": "http.request", "body": b"x" * size, "more_body": False}]
    sent = []

    async def receive():
        return parts.pop(0) if parts else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    await served(scope, receive, send)
    return sent[0]["status"], dict(sent[0]["headers"]) | {b"body": sent[-1]["body"]}


def test_a_large_body_waits_for_the_slot_and_is_refused_with_retry_after_when_none_frees_in_time():
    served = BufferedWSGI(_app, max_body=8 * LARGE_BODY, body_timeout=5, threads=4, large_bodies=1, slot_wait=0.1)

    async def burst():
        return await asyncio.gather(_post(served, 2 * LARGE_BODY), _post(served, 2 * LARGE_BODY),
                                    _post(served, 1000))

    (first, _), (second, refused), (small, _) = asyncio.run(burst())
    assert first == 200 and small == 200  # an ordinary request does not queue behind large ones
    assert second == 503 and refused[b"retry-after"] == b"2"
    assert json.loads(refused[b"body"])["issue"][0]["code"] == "transient"


def test_large_bodies_queue_one_after_another_when_the_wait_allows():
    served = BufferedWSGI(_app, max_body=8 * LARGE_BODY, body_timeout=5, threads=4, large_bodies=1, slot_wait=5)

    async def burst():
        started = time.perf_counter()
        answers = await asyncio.gather(*(_post(served, 2 * LARGE_BODY) for _ in range(3)))
        return answers, time.perf_counter() - started

    answers, elapsed = asyncio.run(burst())
    assert [status for status, _ in answers] == [200, 200, 200]
    assert elapsed >= 3 * 0.4  # one at a time: never all three bodies decoded at once
