"""`cds-service serve` refuses an unsafe start and trusts no forwarding headers unless told to; started for
real (gunicorn on 127.0.0.1), a JWT's aud follows neither the Host header nor X-Forwarded-Proto."""
from __future__ import annotations

import argparse
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
    """This interpreter's environment without any CDS_* or gunicorn setting, plus `settings`; the package
    imported from this checkout (python -m from another folder would find the installed copy)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDS_") and k != "FORWARDED_ALLOW_IPS"}
    env.update(settings, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_command(port: int) -> list[str]:
    return [sys.executable, "-m", "cds_service", "serve", "--port", str(port), "--workers", "1", "--threads", "2",
            "--log-level", "warning"]


def test_serve_with_its_defaults_refuses_to_start_and_says_which_setting_to_give(tmp_path):
    """REQUIRE_JWT is on by default; without CDS_PUBLIC_BASE_URL the service used to start and check aud
    against the Host header. Now it exits at once, before gunicorn, naming the setting."""
    port = free_port()
    try:
        done = subprocess.run(serve_command(port), env=clean_environment(), cwd=tmp_path, capture_output=True,
                              text=True, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("cds-service serve started (and served) without CDS_PUBLIC_BASE_URL")
    assert done.returncode == cli.EXIT_USAGE
    assert "CDS_PUBLIC_BASE_URL=https://" in done.stderr and "CDS_REQUIRE_JWT=false" in done.stderr
    assert "Traceback" not in done.stderr and "Booting worker" not in done.stderr


def _args(**changes) -> argparse.Namespace:
    values = {"host": "127.0.0.1", "port": 8080, "workers": 1, "threads": 1, "access_log": False,
              "log_level": "info", **changes}
    return argparse.Namespace(**values)


def _gunicorn_config(environment: dict):
    settings = {**config.DEFAULTS, **config.from_environment(environment)}
    return cli._Gunicorn(cli.gunicorn_options(_args(), settings)).cfg


def test_forwarding_headers_are_trusted_from_nobody_unless_configured():
    # gunicorn's own default believes X-Forwarded-Proto from 127.0.0.1 (or its FORWARDED_ALLOW_IPS variable).
    assert _gunicorn_config({}).forwarded_allow_ips == []
    configured = _gunicorn_config({"CDS_FORWARDED_ALLOW_IPS": "10.0.0.0/8,192.0.2.7"})
    assert configured.forwarded_allow_ips == ["10.0.0.0/8", "192.0.2.7"]


@pytest.fixture
def served(tmp_path):
    """cds-service serve with JWTs required, one trusted issuer, PUBLIC_BASE_URL its loopback URL."""
    key = ClientKey("ES384")
    issuers = tmp_path / "issuers.json"
    issuers.write_text(json.dumps([{"iss": ISSUER, "jwks": key.jwks()}]))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = clean_environment(CDS_TRUSTED_ISSUERS=str(issuers), CDS_PUBLIC_BASE_URL=base,
                            CDS_FEEDBACK_DATABASE=f"sqlite:///{tmp_path / 'feedback.sqlite3'}",
                            PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"))
    process = subprocess.Popen(serve_command(port), env=env, cwd=tmp_path, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, start_new_session=True)
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
        yield base, key, http
    finally:
        http.close()
        os.killpg(process.pid, signal.SIGTERM)
        process.communicate(timeout=15)


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


def test_the_access_log_writes_no_query_string_and_no_referer():
    import re

    from gunicorn.glogging import Logger

    cfg = cli._Gunicorn(cli.gunicorn_options(_args(access_log=True), {**config.DEFAULTS})).cfg
    fields = set(re.findall(r"%\((\w+|\{[^}]+\}\w)\)s", cfg.access_log_format))
    assert fields and not fields & {"r", "q", "f", "{referer}i", "{referrer}i"}

    class Response:
        status, response_length, sent, headers = "200 OK", 2, 2, []

    class Request:
        headers = [("REFERER", "http://sandbox.example/?patientId=pat-77&fhirServiceUrl=x")]

    environ = {"REQUEST_METHOD": "GET", "RAW_URI": "/cds-services?patient=pat-77", "PATH_INFO": "/cds-services",
               "QUERY_STRING": "patient=pat-77", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
               "HTTP_REFERER": "http://sandbox.example/?patientId=pat-77&fhirServiceUrl=x",
               "HTTP_USER_AGENT": "test"}
    import datetime
    line = cfg.access_log_format % Logger(cfg).atoms(Response(), Request(), environ, datetime.timedelta(seconds=0.01))
    assert "/cds-services" in line and "pat-77" not in line and "sandbox.example" not in line
