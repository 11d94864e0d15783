"""Shared machinery of the hostile tests: the app under test (no JWT, responses validated, fixed clock, no
traffic off loopback), raw JSON serialisation, the invariants every answer must keep, and the service bugs
already known (each with a minimal reproduction; tolerated by the property tests only while it still
reproduces, so fixing one tightens the properties by itself)."""
from __future__ import annotations

import atexit
import json
import logging
import re
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import requests
from requests.adapters import HTTPAdapter

from cds_service import create_app, schemas
from tests.support import fhir_data
from tests.support.http_stub import StubServer

REPO = Path(__file__).resolve().parents[2]
OPENAPI_PATH = REPO / "cds_service" / "openapi.json"
SERVICE = "/cds-services/posterior-knee-pain"
FEEDBACK = SERVICE + "/feedback"
PATIENT_ID = "p1"
CLOCK_NOW = "2026-11-22T12:00:00Z"
MAX_CONTENT_LENGTH = 2 * 1024 * 1024  # small, so that the 1 MB strings the generators make can reach 413
LOOPBACK = {"127.0.0.1", "localhost", "::1"}

# HTTP status -> OperationOutcome issue code (cds_service/errors.py)
ISSUE_CODE = {400: "invalid", 404: "not-found", 405: "not-supported", 412: "incomplete", 413: "too-costly"}


# -- the app ------------------------------------------------------------------------------------------------

class LoopbackOnlyAdapter(HTTPAdapter):
    """Refuses every request to a host off this machine before any DNS look-up or connection: hostile input
    names arbitrary fhirServer URLs, and these tests must never send traffic anywhere but loopback."""

    def send(self, request, *args, **kwargs):
        if urlsplit(request.url).hostname not in LOOPBACK:
            raise requests.ConnectionError("hostile tests: no traffic off loopback")
        return super().send(request, *args, **kwargs)


def confine_to_loopback(app) -> None:
    session = app.extensions["cds"].fetch_settings.session
    session.mount("https://", LoopbackOnlyAdapter(max_retries=0))
    session.mount("http://", LoopbackOnlyAdapter(max_retries=0))


def make_app(db_dir: Path, **overrides):
    config = {
        "REQUIRE_JWT": False,
        "VALIDATE_RESPONSES": True,
        "FEEDBACK_DATABASE": f"sqlite:///{db_dir / 'feedback.sqlite3'}",
        "CLOCK_NOW": CLOCK_NOW,
        "MAX_CONTENT_LENGTH": MAX_CONTENT_LENGTH,
        "FHIR_FETCH_DEADLINE_SECONDS": 2.0,
    }
    config.update(overrides)
    app = create_app(config)
    confine_to_loopback(app)
    return app


# -- raw JSON -------------------------------------------------------------------------------------------------

class Raw(str):
    """JSON text put into a body as it is: numbers Python cannot write (1e400, -0, 400-digit integers) and
    nesting deeper than any recursive encoder allows."""


def dumps(value, ensure_ascii: bool = True) -> bytes:
    """JSON text of `value` (dicts, lists, scalars, Raw). Lone surrogates are written as \\udxxx escapes
    (ensure_ascii) or as their raw, invalid UTF-8 bytes (not ensure_ascii): the service must refuse both."""
    return _dump(value, ensure_ascii).encode("utf-8", "surrogatepass")


def _dump(value, ensure_ascii: bool) -> str:
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(str(k), ensure_ascii=ensure_ascii) + ":" + _dump(v, ensure_ascii)
                              for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_dump(v, ensure_ascii) for v in value) + "]"
    return json.dumps(value, ensure_ascii=ensure_ascii, allow_nan=False)


def deep(depth: int, kind: str = "list", leaf: str = "1") -> Raw:
    if kind == "list":
        return Raw("[" * depth + leaf + "]" * depth)
    return Raw('{"a":' * depth + leaf + "}" * depth)


def envelope(prefetch: dict | None = None, **extra) -> dict:
    body = {"hook": "patient-view", "hookInstance": str(uuid.uuid4()),
            "context": {"userId": "Practitioner/hostile", "patientId": PATIENT_ID}}
    if prefetch is not None:
        body["prefetch"] = prefetch
    body.update(extra)
    return body


def searchset(resources: list) -> dict:
    """The shape these tests send: no fullUrl, and `"entry": []` when there is nothing."""
    return fhir_data.searchset(resources, full_urls=False, empty_entry=True)


def empty_prefetch(**values) -> dict:
    prefetch = {"patient": {"resourceType": "Patient", "id": PATIENT_ID, "gender": "female",
                            "birthDate": "1960-01-01"},
                "conditions": searchset([]), "observations": searchset([]), "medications": searchset([]),
                "procedures": searchset([])}
    prefetch.update(values)
    return prefetch


# -- what every answer must be -----------------------------------------------------------------------------

class ErrorLog(logging.Handler):
    """Collects the service's 'unhandled error' records (cds_service.errors logs each 500 with its trace; the
    redaction factory has already turned the trace into exc_text)."""

    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def take_signature(self) -> tuple[str, str] | None:
        """(exception type, innermost cds_service function) of the latest 500, and forget the records."""
        records, self.records = self.records, []
        if not records:
            return None
        text = (records[-1].exc_text or "").strip()
        frames = re.findall(r'File "([^"]+)", line \d+, in (\S+)', text)
        ours = [name for path, name in frames if "/cds_service/" in path.replace("\\", "/")]
        if not ours:
            return None
        exc_type = text.splitlines()[-1].split(":", 1)[0].strip().rsplit(".", 1)[-1]
        return exc_type, ours[-1]

    def clear(self) -> None:
        self.records = []


_error_log = ErrorLog()
logging.getLogger("cds_service.errors").addHandler(_error_log)


def _openapi_operation_outcome() -> jsonschema.Draft202012Validator:
    document = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(document["components"]["schemas"]["OperationOutcome"])


_OUTCOME = _openapi_operation_outcome()


@dataclass(frozen=True)
class KnownBug:
    name: str
    signature: tuple[str, str]  # (exception type, innermost cds_service function)
    what: str
    fix: str
    path: str
    body: bytes  # minimal reproduction
    stub_routes: dict | None = None  # for bugs in fetching: what a loopback FHIR server answers


def _repro(value) -> bytes:
    return dumps(value)


_MR = {"resourceType": "MedicationRequest", "status": "active", "intent": "order",
       "subject": {"reference": f"Patient/{PATIENT_ID}"}, "contained": 1}
_HR = {"resourceType": "Observation", "status": "final", "subject": {"reference": f"Patient/{PATIENT_ID}"},
       "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
       "effectiveDateTime": "0001-01-01T00:00:00+14:00", "valueQuantity": {"value": 80, "code": "/min"}}
_DVT = {"resourceType": "Condition", "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "404223003"}]},
        "onsetDateTime": "9999-12-31T23:59:59-14:00"}
_DVT_VALID = {key: value for key, value in _DVT.items() if key != "onsetDateTime"}

KNOWN_BUGS: dict[str, KnownBug] = {bug.name: bug for bug in [
    KnownBug(
        "deep-nesting-in-schema-validation", ("RecursionError", "first_error"),
        "A request whose context (or a feedback entry) nests deeply exhausts Python's recursion in jsonschema's "
        "recursive noNullOrEmpty check: 500 instead of 400. Under the default recursion limit (1000, as in a "
        "server worker) about 160 levels are enough; orjson accepts up to 1024, so the reproduction uses 1000 "
        "(hypothesis raises the recursion limit while it runs a test).",
        "cds_service/http/views.py, where the body is checked against its schema (`_validate`): wrap "
        "`schemas.first_error(...)` in `try/except RecursionError: raise BadRequest('the request body is nested too "
        "deeply') from None`, or better, refuse bodies nested deeper than, say, 64 levels before validating (an "
        "iterative depth check; FHIR data never nests that deep).",
        SERVICE, _repro(envelope(context={"userId": "Practitioner/x", "patientId": PATIENT_ID, "x": deep(1000)}))),
    KnownBug(
        "feedback-deep-nesting", ("RecursionError", "first_error"),
        "The same recursion on the feedback endpoint: an entry's extension nested deeply (about 160 levels under "
        "the default recursion limit) gives 500.",
        "as deep-nesting-in-schema-validation (one fix in _validate covers both)",
        FEEDBACK, _repro({"feedback": [{"card": "c", "outcome": "overridden", "outcomeTimestamp":
                                        "2026-01-01T00:00:00Z", "extension": {"x": deep(1000)}}]})),
    KnownBug(
        "bundle-link-not-a-list", ("TypeError", "next_link"),
        "A prefetch (or fetched) Bundle whose `link` is a number or true: `for link in bundle.get('link') or []` "
        "raises TypeError: 500.",
        "cds_service/prefetch/fetch.py next_link: `links = bundle.get('link'); if not isinstance(links, list): "
        "return None` (or have _from_prefetch answer 400 'prefetch.<key>.link must be an array').",
        SERVICE, _repro(envelope(empty_prefetch(conditions={"resourceType": "Bundle", "type": "searchset",
                                                            "link": 1})))),
    KnownBug(
        "entry-search-not-an-object", ("AttributeError", "_own_resources"),
        "A Bundle entry whose `search` is a string, number, true or a non-empty list: "
        "`(entry.get('search') or {}).get('mode')` raises AttributeError: 500.",
        "cds_service/prefetch/resolve.py _own_resources: `search = entry.get('search'); mode = search.get('mode') "
        "if isinstance(search, dict) else None`.",
        SERVICE, _repro(envelope(empty_prefetch(conditions={"resourceType": "Bundle", "type": "searchset", "entry": [
            {"resource": _DVT_VALID, "search": "match"}]})))),
    KnownBug(
        "contained-not-a-list", ("TypeError", "wanted"),
        "A MedicationRequest whose `contained` is a number or true (and whose medicationCodeableConcept is not an "
        "anticoagulant): `raw.get('contained') or ()` is iterated in ClinicalEngine.wanted: TypeError, 500.",
        "cds_service/clinical/engine.py ClinicalEngine.wanted: `contained = raw.get('contained'); contained = "
        "contained if isinstance(contained, list) else []`.",
        SERVICE, _repro(envelope(empty_prefetch(medications=searchset([_MR]))))),
    KnownBug(
        "date-overflow-raw", ("OverflowError", "as_datetime"),
        "An Observation coded as a vital sign or lab whose effectiveDateTime is at the edge of the calendar with an "
        "offset (0001-01-01T00:00:00+14:00) overflows when converted to UTC in as_datetime (called by the raw "
        "selector): OverflowError, 500.",
        "cds_service/clinical/facts.py as_datetime: catch OverflowError as well (`except (ValueError, IndexError, "
        "OverflowError): return None`) and guard the datetime branch "
        "(`try: return value.astimezone(timezone.utc) ... except OverflowError: return None`).",
        SERVICE, _repro(envelope(empty_prefetch(observations=searchset([_HR]))))),
    KnownBug(
        "date-overflow-model", ("OverflowError", "as_datetime"),
        "A valid Condition (coded DVT) with onsetDateTime 9999-12-31T23:59:59-14:00: fhir.resources accepts it, "
        "as_datetime(model value).astimezone(UTC) overflows in build_record: 500.",
        "as date-overflow-raw (the datetime branch of as_datetime).",
        SERVICE, _repro(envelope(empty_prefetch(conditions=searchset([_DVT]))))),
    KnownBug(
        "fhir-server-url-unparseable", ("ValueError", "check_server_url"),
        "A fhirServer that urlsplit cannot parse (an unbalanced '[' as in `https://[` or `https://ehr.example[/fhir`, "
        "which the request schema's absoluteUrl pattern accepts) raises ValueError('Invalid IPv6 URL') in "
        "check_server_url when a prefetch key has to be fetched: 500 instead of 412. Found by schemathesis.",
        "cds_service/prefetch/fetch.py check_server_url: `try: parts = urlsplit(url); parts.port except ValueError: "
        "raise FetchError('fhirServer is not a valid URL') from None` (a 412 naming fhirServer, as for any other "
        "refused server).",
        SERVICE, _repro(envelope({}, fhirServer="https://["))),
    KnownBug(
        "fhir-server-port-out-of-range", ("ValueError", "_allows"),
        "With an allowlist entry that names a port (FHIR_SERVERS=['https://ehr.example:8443']), a fhirServer on the "
        "same host with a port urlsplit cannot read (`https://ehr.example:99999/fhir`, `:abc`) raises ValueError "
        "from `url.port` in _allows: 500 instead of 412.",
        "cds_service/prefetch/fetch.py: read `parts.port` once inside check_server_url's try/except ValueError "
        "(see fhir-server-url-unparseable) and pass it to _allows instead of reading url.port there.",
        SERVICE, _repro(envelope({}, fhirServer="https://ehr.example:99999/fhir"))),
    KnownBug(
        "next-link-unparseable", ("ValueError", "_is_on_server"),
        "A FHIR server's searchset Bundle whose next link urlsplit cannot parse (`http://[`) raises ValueError in "
        "FhirClient._is_on_server, inside the fetch thread; only FetchError is caught there: 500 instead of 412.",
        "cds_service/prefetch/fetch.py FhirClient._is_on_server: `try: other = urlsplit(url) except ValueError: "
        "return False` (the search then fails as 'paging points outside fhirServer': 412).",
        SERVICE, _repro(envelope({key: value for key, value in empty_prefetch().items() if key != "conditions"},
                                 fhirServer="http://stub.invalid")),
        stub_routes={"/Condition": (200, {"resourceType": "Bundle", "type": "searchset",
                                          "link": [{"relation": "next", "url": "http://["}]})}),
]}

_still_reproduces: dict[str, bool] = {}
_repro_app = None


def reproduce(bug: KnownBug):
    """Send the bug's minimal reproduction to an app of its own (FHIR_ALLOW_HTTP for loopback stubs)."""
    global _repro_app
    if _repro_app is None:
        folder = tempfile.mkdtemp(prefix="hostile-repro-")
        atexit.register(shutil.rmtree, folder, True)
        _repro_app = make_app(Path(folder), FHIR_ALLOW_HTTP=True,
                              FHIR_SERVERS=["http://127.0.0.1", "https://ehr.example:8443"])
    client = _repro_app.test_client()
    if bug.stub_routes is None:
        return client.post(bug.path, data=bug.body, content_type="application/json")
    with StubServer() as stub:
        stub.routes = dict(bug.stub_routes)
        body = bug.body.replace(b"http://stub.invalid", stub.url.encode())
        return client.post(bug.path, data=body, content_type="application/json")


def known_bug_still_reproduces(bug: KnownBug) -> bool:
    if bug.name not in _still_reproduces:
        _error_log.records.clear()
        response = reproduce(bug)
        _still_reproduces[bug.name] = (response.status_code == 500
                                       and _error_log.take_signature() == bug.signature)
    return _still_reproduces[bug.name]


def tolerated_known_bug(signature) -> KnownBug | None:
    """The known bug behind a 500, if its signature is known and its reproduction still fails."""
    for bug in KNOWN_BUGS.values():
        if bug.signature == signature and known_bug_still_reproduces(bug):
            return bug
    return None


def take_500_signature() -> tuple[str, str] | None:
    return _error_log.take_signature()


def forget_errors() -> None:
    _error_log.clear()


def check_answer(response, path: str, method: str = "POST") -> str:
    """Assert the service's contract for any request; returns a label for hypothesis' statistics.

    Never 500 (except a known bug that still reproduces); 200 with a body valid against its schema; any other
    answer a 4xx carrying an OperationOutcome whose issue code matches the status, or a bare 401."""
    status = response.status_code
    if status >= 500:
        signature = _error_log.take_signature()
        bug = tolerated_known_bug(signature)
        assert bug is not None, (f"{method} {path} answered {status} {response.get_data(as_text=True)[:300]!r}; "
                                 f"unhandled {signature}")
        assert "Traceback" not in response.get_data(as_text=True)
        return f"500 (known bug {bug.name})"
    _error_log.records.clear()
    assert 200 <= status < 500, status
    if status == 200 and path == "/metrics":
        assert response.mimetype == "text/plain", response.mimetype
        return "200"
    if status == 200:
        assert response.mimetype == "application/json", response.mimetype
        body = response.get_json()
        if path == "/cds-services" and method == "GET":
            assert schemas.first_error("discovery", body) is None
        elif path.endswith("/feedback"):
            assert body == {}
        elif path == "/healthz":
            assert body == {"status": "ok"}
        else:
            error = schemas.first_error("response", body)
            assert error is None, f"200 body fails the response schema: {error}"
        return "200"
    if status == 401:
        assert response.data == b""
        return "401"
    assert status in ISSUE_CODE, status
    assert response.mimetype == "application/json", response.mimetype
    body = response.get_json()
    _OUTCOME.validate(body)
    issue = body["issue"][0]
    assert issue["severity"] == "error" and issue["code"] == ISSUE_CODE[status], issue
    assert "Traceback" not in response.get_data(as_text=True)
    return str(status)
