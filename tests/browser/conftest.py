"""The real CDS Hooks sandbox, as integrators use it, against the service as it is deployed: the sandbox's
built pages served from 127.0.0.1, an open FHIR server (sekmet) holding the demo patients behind a proxy
that can fail a search, and `cds-service serve` trusting the sandbox's issuer with its published key set
pinned (no network). All on loopback, started here and stopped afterwards."""
from __future__ import annotations

import contextlib
import functools
import json
import subprocess
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from cds_service.tools import demo
from tests.browser.fhir_proxy import CorsFaultProxy
from tests.cli.test_serve import clean_environment, free_port, serve_command
from tests.fhir_server import FhirServer
from tests.support.browser import require_browser

SANDBOX = Path(__file__).parent / "sandbox" / "build"
SANDBOX_ISSUER = {"iss": "https://sandbox.cds-hooks.org", "jku": "https://sandbox.cds-hooks.org/.well-known/jwks.json",
                  "jwks": json.loads((SANDBOX / ".well-known" / "jwks.json").read_text(encoding="utf-8"))}


@pytest.fixture(scope="session")
def sandbox_url():
    """The sandbox's static build on 127.0.0.1, as `python -m http.server` would serve it."""
    require_browser()
    handler = functools.partial(_QuietFiles, directory=str(SANDBOX))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def open_fhir(tmp_path_factory):
    """An open FHIR server (the sandbox's FHIR server sends no token) with the demo patients, dated today,
    behind a proxy the tests can make fail a search."""
    require_browser()
    server = FhirServer(tmp_path_factory.mktemp("sekmet-open"), settings={"server_auth": {"types": ["none"]}})
    server.start()
    try:
        demo.load(server.base_url, demo.demo_patients())
        with CorsFaultProxy(server.base_url) as proxy:
            yield proxy
    finally:
        server.stop()


class RunningService:
    def __init__(self, base_url: str, feedback_db: Path, log_path: Path):
        self.base_url, self.feedback_db, self.log_path = base_url, feedback_db, log_path

    def feedback_rows(self) -> list[dict]:
        import sqlite3
        with contextlib.closing(sqlite3.connect(self.feedback_db)) as db:
            db.row_factory = sqlite3.Row
            return [dict(row) for row in db.execute("SELECT * FROM feedback ORDER BY id")]


@pytest.fixture(scope="session")
def service(tmp_path_factory, open_fhir):
    """`cds-service serve` (hypercorn, one worker) with JWTs required, the sandbox's issuer pinned, and the
    proxy as its only allowed FHIR server."""
    workdir = tmp_path_factory.mktemp("serve-sandbox")
    issuers = workdir / "trusted-issuers.json"
    issuers.write_text(json.dumps([SANDBOX_ISSUER]), encoding="utf-8")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    feedback_db = workdir / "feedback.sqlite3"
    env = clean_environment(CDS_TRUSTED_ISSUERS=str(issuers), CDS_PUBLIC_BASE_URL=base_url,
                            CDS_FHIR_SERVERS=json.dumps([open_fhir.base_url]), CDS_FHIR_ALLOW_HTTP="true",
                            CDS_FEEDBACK_DATABASE=f"sqlite:///{feedback_db}")
    log_path = workdir / "serve.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(serve_command(port), env=env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("cds-service serve did not start:\n" + log_path.read_text(errors="replace")[-3000:])
            time.sleep(0.2)
        yield RunningService(base_url, feedback_db, log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
