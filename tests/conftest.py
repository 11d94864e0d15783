"""Shared fixtures: an app trusting a real ES384 client key, and a client that signs every call and checks
every CDS response against the spec's schemas."""
from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator

import pytest

from cds_service import create_app, schemas
from tests.fhir_server import FhirServer
from tests.support.jwt_keys import ClientKey

# `.ci/run` runs the suite a second time under libfaketime (+400 days) to catch tests that depend on today's
# date. There a timed wait that has to run out (a lock or queue wait with a timeout nobody ends early) never
# does: libfaketime shifts the clock the deadline is computed from, not the one the kernel waits on. The
# tests that need one run in the first, real-time pass only (as tests/faults does, by the same reasoning).
needs_real_timeouts = pytest.mark.skipif(bool(os.environ.get("FAKETIME")), reason=(
    "needs a timed wait to expire; under libfaketime it never does (runs in the real-time pass)"))

# Every request, response and feedback body the suite sends is judged by both schema validators (the fast
# Rust one and the Python one that words errors); they must agree (cds_service/schemas).
schemas.CROSS_CHECK = True

BASE_URL = "https://cds.example.test"
ISSUER = "https://ehr.example.test"


@pytest.fixture(scope="session")
def client_key() -> ClientKey:
    return ClientKey("ES384")


def make_config(tmp_path, client_key: ClientKey, **overrides) -> dict:
    config = {
        "REQUIRE_JWT": True,
        "TRUSTED_ISSUERS": [{"iss": ISSUER, "jwks": client_key.jwks()}],
        "PUBLIC_BASE_URL": BASE_URL,
        "FEEDBACK_DATABASE": f"sqlite:///{tmp_path / 'feedback.sqlite3'}",
        "VALIDATE_RESPONSES": True,
        "FHIR_ALLOW_HTTP": True,
        "FHIR_SERVERS": ["http://127.0.0.1", "https://ehr.example"],  # loopback test servers, any port
        "FHIR_FETCH_DEADLINE_SECONDS": 5.0,  # generous on a loaded CI machine; deadline tests set their own
        "HOOK_DEADLINE_SECONDS": 6.0,
    }
    config.update(overrides)
    return config


@pytest.fixture
def app(tmp_path, client_key):
    return create_app(make_config(tmp_path, client_key))


# Every JWT and access token a test sends through SignedClient; none may ever appear in a log record.
SECRETS: set[str] = set()


class _Everything(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record) + (record.exc_text or ""))


@pytest.fixture(scope="session", autouse=True)
def no_secret_reaches_a_log():
    """Across the whole suite: capture every log record at DEBUG, then look for every token sent."""
    handler = _Everything()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield
    root.removeHandler(handler)
    root.setLevel(previous)
    text = "\n".join(handler.lines)
    assert handler.lines or not SECRETS, "requests were made but nothing was logged: the guard saw nothing"
    leaked = [secret[:12] + "…" for secret in SECRETS if secret in text]
    assert not leaked, f"{len(leaked)} credentials reached the logs: {leaked[:3]}"


class SignedClient:
    """The Flask test client as a CDS client: a fresh JWT for each call (aud = the exact URL), and each
    answer checked: 200s against the response/discovery schema, errors as OperationOutcome or bare 401."""

    def __init__(self, flask_client, key: ClientKey):
        self._client = flask_client
        self._key = key

    def _headers(self, path: str, headers: dict | None) -> dict:
        token = self._key.token(ISSUER, BASE_URL + path)
        SECRETS.add(token)
        merged = {"Authorization": f"Bearer {token}"}
        merged.update(headers or {})
        return merged

    def get(self, path: str, headers: dict | None = None, **kwargs):
        return check_response(path, self._client.get(path, headers=self._headers(path, headers), **kwargs))

    def post(self, path: str, headers: dict | None = None, **kwargs):
        body = kwargs.get("json")
        if isinstance(body, dict) and isinstance(body.get("fhirAuthorization"), dict):
            token = body["fhirAuthorization"].get("access_token")
            if isinstance(token, str) and len(token) >= 8:
                SECRETS.add(token)
        return check_response(path, self._client.post(path, headers=self._headers(path, headers), **kwargs))


def check_response(path: str, response):
    if response.status_code == 200 and path == "/cds-services":
        assert schemas.first_error("discovery", response.get_json()) is None
    elif response.status_code == 200 and path.endswith("/feedback"):
        assert response.get_json() == {}
    elif response.status_code == 200 and path.startswith("/cds-services/"):
        error = schemas.first_error("response", response.get_json())
        assert error is None, error
    elif response.status_code == 401:
        assert response.data == b""
    elif response.status_code >= 400:
        body = response.get_json()
        assert body["resourceType"] == "OperationOutcome" and body["issue"][0]["severity"] == "error"
        assert "Traceback" not in response.get_data(as_text=True)
    return response


@contextlib.contextmanager
def started_fhir_server(workdir) -> Iterator[FhirServer]:
    """A real FHIR R4 server (sekmet) on 127.0.0.1, started in `workdir` and stopped on leaving; its token
    joins the secrets no log may hold."""
    server = FhirServer(workdir)
    SECRETS.add(server.token)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def fhir_server(tmp_path_factory: pytest.TempPathFactory):
    """The session's FHIR server, shared by the integration and fault tests (each loads its own patient)."""
    with started_fhir_server(tmp_path_factory.mktemp("sekmet")) as server:
        yield server


@pytest.fixture
def client(app, client_key) -> SignedClient:
    return SignedClient(app.test_client(), client_key)
