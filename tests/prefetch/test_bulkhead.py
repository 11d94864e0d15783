"""A slow FHIR server cannot take every request thread: with FHIR_SERVER_CONCURRENCY calls already fetching
from it in this worker, another call for that server is answered at once, saying the server is busy, instead
of queueing behind the slow ones. A real HTTP server on loopback answers each request after 0.8 s."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cds_service import create_app
from tests.conftest import needs_real_timeouts

pytestmark = needs_real_timeouts
DELAY = 0.8


class _SlowFhir(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        time.sleep(DELAY)
        if self.path.startswith("/fhir/Patient/"):
            body = {"resourceType": "Patient", "id": "p1", "birthDate": "1970-01-01", "gender": "female"}
        else:
            body = {"resourceType": "Bundle", "type": "searchset", "entry": []}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def slow_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowFhir)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/fhir"
    server.shutdown()
    server.server_close()


def test_a_call_beyond_the_bulkhead_is_answered_at_once_saying_the_server_is_busy(slow_server):
    app = create_app({"REQUIRE_JWT": False, "FEEDBACK_DATABASE": "sqlite://", "FHIR_ALLOW_HTTP": True,
                      "FHIR_SERVERS": [slow_server], "FHIR_SERVER_CONCURRENCY": 1,
                      "FHIR_FETCH_DEADLINE_SECONDS": 1.5, "HOOK_DEADLINE_SECONDS": 1.8})
    body = {"hook": "patient-view", "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
            "fhirServer": slow_server, "context": {"userId": "Practitioner/1", "patientId": "p1"}}
    answers = {}

    def call(name: str):
        started = time.perf_counter()
        response = app.test_client().post("/cds-services/posterior-knee-pain", json=body)
        answers[name] = (time.perf_counter() - started, response.status_code, response.get_json())

    first = threading.Thread(target=call, args=("first",))
    first.start()
    time.sleep(0.2)  # the first call is fetching from the slow server
    others = [threading.Thread(target=call, args=(f"other-{i}",)) for i in range(3)]
    for thread in others:
        thread.start()
    for thread in [first, *others]:
        thread.join(timeout=10)
    seconds, status, _ = answers["first"]
    assert status == 200 and seconds >= DELAY
    for name in ("other-0", "other-1", "other-2"):
        seconds, status, outcome = answers[name]
        assert seconds < DELAY / 2, f"{name} waited {seconds:.2f} s behind the slow server"
        assert status == 412  # nothing could be read (not even the Patient): said plainly, at once
        assert "fhirServer is busy" in json.dumps(outcome)
    # Once the slow call is done, the server is free again.
    call("after")
    assert answers["after"][1] == 200
