"""/metrics (Prometheus) and structured logs with the request id and hookInstance, without PHI."""
from __future__ import annotations


import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from prometheus_client.parser import text_string_to_metric_families

from cds_service import create_app
from cds_service.observability.logs import JsonFormatter, RequestContextFilter
from tests.conftest import SignedClient, make_config
from tests.fhir_server import free_port
from tests.scenarios.test_scenarios import CASES
from tests.support.fhir_data import full_prefetch, hook_request, prefetch_for

SERVICE = "/cds-services/posterior-knee-pain"


def sample(app, name: str, **labels) -> float:
    text = app.test_client().get("/metrics").get_data(as_text=True)
    total = 0.0
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                total += s.value
    return total


def test_metrics_count_requests_cards_and_rejections(tmp_path, client_key):
    case = json.loads(next(p for p in CASES if "dvt-wells-likely" in p.name).read_text())
    app = create_app(make_config(tmp_path, client_key, CLOCK_NOW=case["now"]))  # the case is dated for it
    client = SignedClient(app.test_client(), client_key)
    before = sample(app, "cds_cards_total", topic="suspected-dvt", indicator="warning")
    body = hook_request(pid=case["patient"]["id"], prefetch=prefetch_for(case))
    assert client.post(SERVICE, json=body).status_code == 200
    assert sample(app, "cds_cards_total", topic="suspected-dvt", indicator="warning") >= before + 1
    assert sample(app, "cds_requests_total", endpoint="/cds-services/<service_id>", status="200") >= 1
    assert sample(app, "cds_request_duration_seconds_count", endpoint="/cds-services/<service_id>") >= 1

    rejected = sample(app, "cds_jwt_rejections_total", reason="no Authorization header")
    assert app.test_client().get("/cds-services").status_code == 401
    assert sample(app, "cds_jwt_rejections_total", reason="no Authorization header") == rejected + 1


def test_metrics_count_fetch_errors_by_key(app, client):
    before = sample(app, "cds_fhir_fetch_errors_total", key="conditions")
    prefetch = full_prefetch()
    del prefetch["conditions"]
    body = hook_request(prefetch=prefetch, fhirServer="http://127.0.0.1:9/fhir")  # nothing listens on port 9
    assert client.post(SERVICE, json=body).status_code == 200  # the Observations were prefetched: a partial answer
    assert sample(app, "cds_fhir_fetch_errors_total", key="conditions") == before + 1


def test_metrics_page_is_prometheus_text(app):
    response = app.test_client().get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert "cds_requests_total" in response.get_data(as_text=True)


def test_request_id_is_echoed_or_made(client):
    assert client.get("/cds-services", headers={"X-Request-Id": "abc-123"}).headers["X-Request-Id"] == "abc-123"
    made = client.get("/cds-services", headers={"X-Request-Id": "bad id with spaces"}).headers["X-Request-Id"]
    assert made != "bad id with spaces" and len(made) == 32


def test_json_log_lines_carry_request_id_and_hook_instance_but_no_patient_data(app, client, caplog):
    formatter, context = JsonFormatter(), RequestContextFilter()
    lines = []

    class Collect(logging.Handler):
        def emit(self, record):
            context.filter(record)
            lines.append(json.loads(formatter.format(record)))

    handler = Collect(level=logging.INFO)
    logging.getLogger().addHandler(handler)
    try:
        body = hook_request(pid="patient-4711", prefetch=full_prefetch("patient-4711"))
        client.post(SERVICE, json=body, headers={"X-Request-Id": "req-42"})
    finally:
        logging.getLogger().removeHandler(handler)
    served = [line for line in lines if line["logger"] == "cds_service.http.views"]
    assert served and served[0]["request_id"] == "req-42" and served[0]["hook_instance"] == body["hookInstance"]
    text = json.dumps(lines)
    assert "patient-4711" not in text  # no patient identifiers, names or free text in logs


def test_metrics_add_up_across_workers_on_their_own_port_without_cors(tmp_path):
    """Two worker processes behind `cds-service serve`: the metrics page, on its own port, counts every
    request, whichever worker answered it; the service's port (the one EHRs and browsers call) has no
    /metrics, and the metrics port sends no CORS header."""
    port, metrics_port = free_port(), free_port()
    env = dict(os.environ, CDS_REQUIRE_JWT="false", CDS_FEEDBACK_DATABASE=f"sqlite:///{tmp_path}/f.sqlite3",
               PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"))
    process = subprocess.Popen([str(Path(sys.executable).parent / "cds-service"), "serve", "--port", str(port),
                                "--metrics-port", str(metrics_port), "--workers", "2", "--threads", "2",
                                "--log-level", "warning"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    browser = {"Origin": "https://sandbox.example"}
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        for _ in range(40):
            urllib.request.urlopen(base + "/cds-services", timeout=5).read()
        with pytest.raises(urllib.error.HTTPError) as on_service_port:
            urllib.request.urlopen(urllib.request.Request(base + "/metrics", headers=browser), timeout=5)
        answers = [urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{metrics_port}/metrics",
                                                                 headers=browser), timeout=5) for _ in range(6)]
        pages = [answer.read().decode() for answer in answers]
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        _, stderr = process.communicate(timeout=15)
    assert on_service_port.value.code == 404
    assert not [a for a in answers if a.headers.get("Access-Control-Allow-Origin")]
    for page in pages:
        (count,) = [s.value for family in text_string_to_metric_families(page) for s in family.samples
                    if s.name == "cds_requests_total" and s.labels.get("endpoint") == "/cds-services"]
        assert count == 40
    log_lines = [json.loads(line) for line in stderr.decode().splitlines() if line.startswith("{")]
    # The service's own lines are JSON: the REQUIRE_JWT warning of each worker among them.
    assert sum("REQUIRE_JWT is false" in line["message"] for line in log_lines) >= 2
