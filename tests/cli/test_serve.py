"""`cds-service serve` refuses an unsafe start and trusts no forwarding headers unless told to; started for
real (hypercorn on 127.0.0.1), a JWT's aud follows neither the Host header nor X-Forwarded-Proto, and the
access log carries neither a query string nor a Referer."""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from cds_service import cli, config
from tests.conftest import SECRETS
from tests.support.jwt_keys import ClientKey

REPO = Path(__file__).resolve().parents[2]
ISSUER = "https://ehr.serve.test"


def clean_environment(**settings) -> dict:
    """This interpreter's environment without any CDS_* or forwarding setting, plus `settings`; the package
    imported from this checkout (python -m from another folder would find the installed copy)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDS_") and k != "FORWARDED_ALLOW_IPS"}
    env.update(settings, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_command(port: int) -> list[str]:
    return [sys.executable, "-m", "cds_service", "serve", "--port", str(port), "--metrics-port", str(free_port()),
            "--workers", "1", "--threads", "2",
            "--log-level", "info", "--access-log"]


def test_serve_with_its_defaults_refuses_to_start_and_says_which_setting_to_give(tmp_path):
    """REQUIRE_JWT is on by default; without CDS_PUBLIC_BASE_URL the service used to start and check aud
    against the Host header. Now it exits at once, before the server starts, naming the setting."""
    port = free_port()
    try:
        done = subprocess.run(serve_command(port), env=clean_environment(), cwd=tmp_path, capture_output=True,
                              text=True, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("cds-service serve started (and served) without CDS_PUBLIC_BASE_URL")
    assert done.returncode == cli.EXIT_USAGE
    assert "CDS_PUBLIC_BASE_URL=https://" in done.stderr and "CDS_REQUIRE_JWT=false" in done.stderr
    assert "Traceback" not in done.stderr and "Running on" not in done.stderr


def _scheme_seen(client: str, forwarded_allow_ips: list[str]) -> str:
    """The wsgi.url_scheme the app sees for a request from `client` carrying X-Forwarded-Proto: https."""
    import asyncio

    from cds_service.http.buffered import BufferedWSGI

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [environ["wsgi.url_scheme"].encode()]

    served = BufferedWSGI(app, max_body=1024, body_timeout=1, threads=1, forwarded_allow_ips=forwarded_allow_ips)
    scope = {"type": "http", "method": "GET", "path": "/", "query_string": b"", "scheme": "http",
             "headers": [(b"x-forwarded-proto", b"https")], "client": (client, 5000), "server": ("127.0.0.1", 80)}
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    asyncio.run(served(scope, receive, send))
    return sent[-1]["body"].decode()


def test_forwarding_headers_are_trusted_from_nobody_unless_configured():
    assert config.DEFAULTS["FORWARDED_ALLOW_IPS"] == []
    assert _scheme_seen("127.0.0.1", []) == "http"  # gunicorn's own default believed 127.0.0.1
    assert _scheme_seen("10.1.2.3", ["10.0.0.0/8", "192.0.2.7"]) == "https"
    assert _scheme_seen("192.0.2.8", ["10.0.0.0/8", "192.0.2.7"]) == "http"
    assert _scheme_seen("192.0.2.8", ["*"]) == "https"
    assert config.from_environment({"CDS_FORWARDED_ALLOW_IPS": "10.0.0.0/8,192.0.2.7"})["FORWARDED_ALLOW_IPS"] \
        == ["10.0.0.0/8", "192.0.2.7"]


@contextlib.contextmanager
def started(tmp_path, issuers: Path):
    """cds-service serve with JWTs required, the issuers in `issuers` trusted, PUBLIC_BASE_URL its loopback
    URL; yields its base URL and an HTTP session; its log is tmp_path / "serve.log"."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = clean_environment(CDS_TRUSTED_ISSUERS=str(issuers), CDS_PUBLIC_BASE_URL=base,
                            CDS_FEEDBACK_DATABASE=f"sqlite:///{tmp_path / 'feedback.sqlite3'}",
                            PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"))
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(serve_command(port), env=env, cwd=tmp_path, stdout=subprocess.DEVNULL,
                               stderr=log, start_new_session=True)
    http = requests.Session()
    http.trust_env = False
    try:
        for _ in range(150):
            try:
                if http.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):  # not listening yet, or the worker booting
                time.sleep(0.1)
        else:
            pytest.fail("cds-service serve did not become healthy")
        yield base, http
    finally:
        http.close()
        os.killpg(process.pid, signal.SIGTERM)
        process.communicate(timeout=15)
        log.close()


@pytest.fixture
def served(tmp_path):
    """cds-service serve with JWTs required, one trusted issuer, PUBLIC_BASE_URL its loopback URL."""
    key = ClientKey("ES384")
    issuers = tmp_path / "issuers.json"
    issuers.write_text(json.dumps([{"iss": ISSUER, "jwks": key.jwks()}]))
    with started(tmp_path, issuers) as (base, http):
        yield base, key, http


def _get(http, base: str, token: str, **headers):
    SECRETS.add(token)
    return http.get(base + "/cds-services", headers={"Authorization": f"Bearer {token}", **headers}, timeout=5)


def test_aud_follows_neither_the_host_header_nor_x_forwarded_proto(served):
    base, key, http = served
    other = "http://other-cds.example/cds-services"  # a token the same EHR signed for another service
    assert _get(http, base, key.token(ISSUER, other), Host="other-cds.example").status_code == 401
    https_aud = base.replace("http://", "https://") + "/cds-services"
    assert _get(http, base, key.token(ISSUER, https_aud), **{"X-Forwarded-Proto": "https"}).status_code == 401
    assert _get(http, base, key.token(ISSUER, base + "/cds-services")).status_code == 200


def test_the_access_log_writes_no_query_string_and_no_referer(served, tmp_path):
    base, key, http = served
    referer = "http://sandbox.example/?patientId=pat-77&fhirServiceUrl=x"
    token = key.token(ISSUER, base + "/cds-services")
    SECRETS.add(token)
    answer = http.get(base + "/cds-services?patient=pat-77", timeout=5,
                      headers={"Authorization": f"Bearer {token}", "Referer": referer})
    assert answer.status_code == 200
    log = tmp_path / "serve.log"
    for _ in range(50):
        lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
        # the readiness poll's /healthz lines come first: wait for this request's own line
        access = [entry["message"] for entry in lines if entry["logger"] == "cds_service.access"
                  and "/cds-services" in entry["message"]]
        if access:
            break
        time.sleep(0.1)
    assert access and '"GET /cds-services HTTP/1.1" 200' in access[-1]
    assert not [line for line in log.read_text().splitlines() if "pat-77" in line or "sandbox.example" in line]


def test_serve_refuses_to_start_when_its_metrics_port_is_taken(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        metrics_port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "cds_service", "serve", "--port", str(free_port()),
                               "--metrics-port", str(metrics_port)],
                              env=clean_environment(CDS_REQUIRE_JWT="false",
                                                    PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics")),
                              cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert done.returncode == cli.EXIT_USAGE
    assert f"cannot serve metrics on 127.0.0.1:{metrics_port}" in done.stderr and "Traceback" not in done.stderr


def test_a_development_issuer_made_by_the_cli_is_trusted_by_serve(tmp_path):
    """The documented recipe: `cds-service dev-issuer FOLDER`, serve with its file trusted, and tokens from
    `cds-service dev-token` are accepted (each once); without them, 401."""
    folder = tmp_path / "issuer"
    made = subprocess.run([sys.executable, "-m", "cds_service", "dev-issuer", str(folder)], env=clean_environment(),
                          capture_output=True, text=True, timeout=30)
    assert made.returncode == 0 and "Never in production" in made.stderr
    assert oct((folder / "private-key.pem").stat().st_mode & 0o777) == "0o600"
    with started(tmp_path, folder / "trusted-issuers.json") as (base, http):
        minted = subprocess.run([sys.executable, "-m", "cds_service", "dev-token", str(folder), "--aud",
                                 base + "/cds-services"], env=clean_environment(), capture_output=True, text=True,
                                timeout=30)
        token = minted.stdout.strip()
        SECRETS.add(token)
        assert http.get(base + "/cds-services", headers={"Authorization": f"Bearer {token}"}, timeout=5).status_code == 200
        assert http.get(base + "/cds-services", headers={"Authorization": f"Bearer {token}"}, timeout=5).status_code == 401
        assert http.get(base + "/cds-services", timeout=5).status_code == 401
