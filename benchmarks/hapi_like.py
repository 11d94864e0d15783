"""A small FHIR R4 search server that answers like HAPI FHIR JPA at the HTTP level, with indexed searches.

Written for the long-record benchmark (issue "Never silent"): sekmet, the FHIR server the integration tests
start, answers one request at a time and materialises every index row of a patient for a date-bounded
search, so at 100,000 resources the server alone passes the hook's deadline. This one holds each patient's
resources in memory, per resource type, sorted by each date search parameter, so `date=geX&_sort=-date` is a
bisect; it answers requests concurrently (a thread per connection, HTTP/1.1 keep-alive). Standard library only.

What it does as HAPI does (JPA starter defaults):
- `GET {base}/Patient/{id}` (any type: `{Type}/{id}`): the resource, 404 with an OperationOutcome if unknown;
- `GET {base}/{Type}?patient=...`: a searchset Bundle with `total`, `link` self and next (and previous),
  entries with fullUrl and search.mode "match"; no `entry` when nothing matched;
- paging: 20 a page by default, `_count` honoured up to 200 (more is cut to 200); the first page answers the
  search URL, later pages are `{base}?_getpages=<id>&_getpagesoffset=N&_count=C&_bundletype=searchset`
  (absolute, on the host the request named); a `_getpages` id it no longer holds is 410 Gone;
- an unknown search parameter, modifier, `_sort` key or resource type is a 400 with an OperationOutcome
  (HAPI's default; sekmet instead ignores it with a warning entry): a query this server answers 200 is one
  it understood;
- search parameters and what they index are R4's (HAPI indexes those): Observation `date` is
  Observation.effective (not `issued`), DiagnosticReport `date` is DiagnosticReport.effective,
  MedicationAdministration `effective-time` is MedicationAdministration.effective, and so on (DATES);
- a date value is a range (its precision: a day is the whole day; a Period is start..end, open-ended without
  an end) and `ge` matches a resource whose range reaches the value (FHIR's rule); `_sort` orders by the
  range's start, resources without the date last; without `_sort`, in the order loaded (HAPI: by PID).

What it does not: only the parameters listed in TOKENS and DATES (plus patient/subject, _count, _sort), the
`ge` and `gt` prefixes only (anything else is a 400 saying so), no _include, no writes over HTTP (load()).
The bearer token is required on every request (401 with WWW-Authenticate otherwise), as the hook's
fhirAuthorization sends it.

    with HapiLikeServer() as fhir:                    # in process, for tests
        fhir.load(resources)
        fhir.base_url, fhir.token, fhir.requests, fhir.rejected

    python -m benchmarks.hapi_like --token T FILE.ndjson ...   # its own process, for the benchmark: prints
                                                               # "listening <base_url>" once loaded
"""
from __future__ import annotations

import argparse
import bisect
import calendar
import json
import re
import secrets
import signal
import sys
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, urlsplit

DEFAULT_PAGE_SIZE = 20  # HAPI JPA starter: hapi.fhir.default_page_size
MAX_PAGE_SIZE = 200  # hapi.fhir.max_page_size
CACHED_SEARCHES = 1_000  # searches whose results are kept for their _getpages links (HAPI: a search cache)
FHIR_JSON = "application/fhir+json;charset=utf-8"


def _codes(element: str):
    """The codes of a CodeableConcept element, as 'code' and 'system|code'."""
    def read(resource: dict) -> set[str]:
        concept = resource.get(element)
        out: set[str] = set()
        for coding in concept.get("coding", []) if isinstance(concept, dict) else []:
            if isinstance(coding, dict) and isinstance(coding.get("code"), str):
                out |= {coding["code"], f"{coding.get('system', '')}|{coding['code']}"}
        return out
    return read


def _plain(element: str):
    """A code element (status): matched with or without a system."""
    def read(resource: dict) -> set[str]:
        value = resource.get(element)
        return {value, f"|{value}"} if isinstance(value, str) else set()
    return read


# R4 search parameters this server knows, per resource type (token: what it reads; date: the elements
# holding its value, first present wins).
TOKENS = {
    "Observation": {"code": _codes("code"), "status": _plain("status")},
    "Condition": {"code": _codes("code"), "clinical-status": _codes("clinicalStatus"),
                  "verification-status": _codes("verificationStatus")},
    "MedicationRequest": {"code": _codes("medicationCodeableConcept"), "status": _plain("status")},
    "Procedure": {"code": _codes("code"), "status": _plain("status")},
    "MedicationStatement": {"code": _codes("medicationCodeableConcept"), "status": _plain("status")},
    "MedicationAdministration": {"code": _codes("medicationCodeableConcept"), "status": _plain("status")},
    "DiagnosticReport": {"code": _codes("code"), "status": _plain("status")},
}
DATES = {
    "Observation": {"date": ("effectiveDateTime", "effectivePeriod", "effectiveInstant")},
    "Condition": {"onset-date": ("onsetDateTime", "onsetPeriod"), "recorded-date": ("recordedDate",)},
    "MedicationRequest": {"authoredon": ("authoredOn",)},
    "Procedure": {"date": ("performedDateTime", "performedPeriod")},
    "MedicationStatement": {"effective": ("effectiveDateTime", "effectivePeriod")},
    "MedicationAdministration": {"effective-time": ("effectiveDateTime", "effectivePeriod")},
    "DiagnosticReport": {"date": ("effectiveDateTime", "effectivePeriod")},
}
PAGING = {"_getpages", "_getpagesoffset", "_count", "_bundletype"}
INF = float("inf")
DAY = 86_400.0

_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?"
                   r"(Z|[+-]\d{2}:\d{2})?)?)?)?")


def date_range(value: object) -> tuple[float, float] | None:
    """[low, high) in epoch seconds of a FHIR date, dateTime or instant at its precision (no zone: UTC)."""
    if not isinstance(value, str):
        return None
    match = _DATE.fullmatch(value)
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        if month is None:
            return _epoch(int(year), 1, 1), _epoch(int(year) + 1, 1, 1)
        if day is None:
            y, m = int(year), int(month)
            return _epoch(y, m, 1), _epoch(y + m // 12, m % 12 + 1, 1)
        low = _epoch(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0))
    except ValueError:
        return None
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        low -= sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    if hour is None:
        return low, low + DAY
    if second is None:
        return low, low + 60
    if fraction:
        return low + float(fraction), low + float(fraction) + 10 ** -(len(fraction) - 1)
    return low, low + 1


def _epoch(*parts: int) -> float:
    return float(calendar.timegm(datetime(*parts, tzinfo=timezone.utc).timetuple()))


def _element_range(resource: dict, elements: tuple[str, ...]) -> tuple[float, float] | None:
    for element in elements:
        value = resource.get(element)
        if isinstance(value, dict):  # a Period
            start, end = date_range(value.get("start")), date_range(value.get("end"))
            if start or end:
                return (start[0] if start else -INF), (end[1] if end else INF)
        elif value is not None:
            found = date_range(value)
            if found:
                return found
    return None


@dataclass
class Row:
    seq: int  # load order: the order of a search without _sort
    type: str
    id: str
    body: bytes  # the resource's JSON, serialised once
    tokens: dict[str, set[str]]
    dates: dict[str, tuple[float, float] | None]


class DateIndex:
    """Rows sorted by the start of one date parameter's range. Rows whose range is wider than a day (a
    Period, a year) are also kept apart, so `ge X` is a bisect at X - 1 day plus that short list."""

    def __init__(self, rows: list[Row], param: str):
        dated = sorted((r for r in rows if r.dates[param] is not None), key=lambda r: (r.dates[param][0], r.seq))
        self.param = param
        self.rows = dated
        self.lows = [r.dates[param][0] for r in dated]
        self.wide = [r for r in dated if r.dates[param][1] - r.dates[param][0] > DAY]
        self.undated = [r for r in rows if r.dates[param] is None]

    def reaching(self, after: float) -> list[Row]:
        """Rows whose range reaches past `after` (high > after), by start ascending."""
        start = bisect.bisect_left(self.lows, after - DAY)
        near = [r for r in self.rows[start:] if r.dates[self.param][1] > after]
        early = [r for r in self.wide if r.dates[self.param][0] < after - DAY and r.dates[self.param][1] > after]
        return sorted(early + near, key=lambda r: (r.dates[self.param][0], r.seq)) if early else near


@dataclass
class Table:
    """One patient's resources of one type."""
    rows: list[Row] = field(default_factory=list)
    by_date: dict[str, DateIndex] = field(default_factory=dict)

    def index(self, resource_type: str) -> None:
        self.by_date = {param: DateIndex(self.rows, param) for param in DATES.get(resource_type, {})}


class BadRequest(Exception):
    def __init__(self, status: int, code: str, text: str):
        super().__init__(text)
        self.status, self.code, self.text = status, code, text


@dataclass
class Logged:
    path: str
    params: list[tuple[str, str]]
    status: int


class HapiLikeServer:
    def __init__(self, token: str | None = None, host: str = "127.0.0.1", port: int = 0, echo_errors: bool = False):
        self.echo_errors = echo_errors  # print each answer other than 200 to stderr (its own process)
        self.token = token or secrets.token_urlsafe(24)
        self.requests: list[Logged] = []  # every request, in order of arrival
        self._tables: dict[tuple[str, str], Table] = {}  # (type, patient id) -> its resources
        self._by_id: dict[tuple[str, str], bytes] = {}  # (type, id) -> resource JSON
        self._searches: OrderedDict[str, tuple[str, list[Row]]] = OrderedDict()
        self._lock = threading.Lock()
        self._seq = 0
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._server.daemon_threads = True
        self._server.request_queue_size = 64
        self.base_url = f"http://{host}:{self._server.server_address[1]}/fhir"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def rejected(self) -> list[Logged]:
        """Requests answered 400: a parameter, modifier, prefix or type this server does not know."""
        return [r for r in self.requests if r.status == 400]

    # -- loading -------------------------------------------------------------------------------------------

    def load(self, resources) -> None:
        """Add resources (dicts); a resource of a patient is filed under its subject (or patient) reference.
        Call before serving, or between requests: indexes are rebuilt for the patients touched."""
        touched: set[tuple[str, str]] = set()
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000+00:00")
        for resource in resources:
            kind, rid = resource["resourceType"], resource["id"]
            resource = {**resource, "meta": {"versionId": "1", "lastUpdated": stamp}}
            body = json.dumps(resource, separators=(",", ":"), ensure_ascii=False).encode()
            self._by_id[(kind, rid)] = body
            patient = _patient_of(resource)
            if patient is None or kind not in TOKENS:
                continue
            self._seq += 1
            row = Row(self._seq, kind, rid, body,
                      {p: read(resource) for p, read in TOKENS[kind].items()},
                      {p: _element_range(resource, elements) for p, elements in DATES[kind].items()})
            self._tables.setdefault((kind, patient), Table()).rows.append(row)
            touched.add((kind, patient))
        for key in touched:
            self._tables[key].index(key[0])

    # -- serving -------------------------------------------------------------------------------------------

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.close()

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body in one write, and TCP_NODELAY: written apart, the body waits for the client's
            # delayed ACK (Nagle), 40 ms a request on Linux, which no production server adds.
            disable_nagle_algorithm = True

            def do_GET(self):  # noqa: N802
                status, body, headers = server._answer(self.path, self.headers.get("Host") or "",
                                                       self.headers.get("Authorization"))
                self.send_response(status)
                self.send_header("Content-Type", FHIR_JSON)
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self._headers_buffer.append(b"\r\n" + body)  # what end_headers() adds, then the body
                self.flush_headers()

            def _not_allowed(self):
                self.send_response(405)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_PUT = do_DELETE = do_PATCH = _not_allowed  # noqa: N815

            def log_message(self, *args):
                pass

        return Handler

    def _answer(self, target: str, host: str, authorization: str | None) -> tuple[int, bytes, dict]:
        parts = urlsplit(target)
        params = parse_qsl(parts.query, keep_blank_values=True)
        headers: dict[str, str] = {}
        try:
            if not _bearer_is(authorization, self.token):
                headers["WWW-Authenticate"] = 'Bearer realm="hapi-like"'
                raise BadRequest(401, "login", "Missing or invalid bearer token")
            base = f"http://{host}/fhir"
            path = parts.path.rstrip("/")
            if not (path == "/fhir" or path.startswith("/fhir/")):
                raise BadRequest(404, "not-found", f"Unknown resource path {parts.path}")
            segments = path.split("/")[2:]
            if not segments:
                status, body = 200, self._page(base, params)
            elif len(segments) == 2:
                status, body = 200, self._read(*segments)
            elif len(segments) == 1:
                status, body = 200, self._search(base, segments[0], params, target)
            else:
                raise BadRequest(400, "not-supported", f"Unsupported path {parts.path}")
        except BadRequest as error:
            status, body = error.status, _outcome(error.code, error.text)
        with self._lock:
            self.requests.append(Logged(parts.path, params, status))
        if self.echo_errors and status != 200:
            print(f"answered {status}: {parts.path}?{parts.query}", file=sys.stderr, flush=True)
        return status, body, headers

    def _read(self, kind: str, rid: str) -> bytes:
        if kind not in TOKENS and kind != "Patient":
            raise BadRequest(400, "not-supported", f"Unknown resource name \"{kind}\"")
        body = self._by_id.get((kind, rid))
        if body is None:
            raise BadRequest(404, "processing", f"Resource {kind}/{rid} is not known")
        return body

    def _search(self, base: str, kind: str, params: list[tuple[str, str]], target: str) -> bytes:
        if kind not in TOKENS:
            raise BadRequest(400, "not-supported", f"Unknown resource name \"{kind}\" (this server "
                                                   f"searches {', '.join(sorted(TOKENS))})")
        patient, count, sort, tokens, dates = None, DEFAULT_PAGE_SIZE, None, [], []
        for name, value in params:
            if name in ("patient", "subject"):
                patient = value.removeprefix("Patient/")
            elif name == "_count":
                count = _count(value)
            elif name == "_sort":
                sort = self._sort(kind, value)
            elif name in TOKENS[kind]:
                tokens.append((name, set(value.split(","))))
            elif name in DATES[kind]:
                dates.append((name, _lower_bound(name, value)))
            else:
                known = sorted({"patient", "subject", "_count", "_sort", *TOKENS[kind], *DATES[kind]})
                raise BadRequest(400, "processing", f"Unknown search parameter \"{name}\" for resource "
                                                    f"type \"{kind}\". Valid search parameters for this search "
                                                    f"are: {known}")
        if patient is None:
            raise BadRequest(400, "processing", "this server searches one patient's record: patient= is required")
        table = self._tables.get((kind, patient))
        rows = self._match(table, tokens, dates, sort) if table else []
        search_id = str(uuid.uuid4())
        with self._lock:
            self._searches[search_id] = (kind, rows)
            while len(self._searches) > CACHED_SEARCHES:
                self._searches.popitem(last=False)
        return _bundle(base, search_id, rows, 0, count, self_url=f"http://{_host_of(base)}{target}")

    @staticmethod
    def _sort(kind: str, value: str) -> tuple[str, bool]:
        keys = value.split(",")
        param = keys[0].removeprefix("-")
        if len(keys) > 1 or param not in DATES[kind]:
            raise BadRequest(400, "processing", f"Unknown _sort parameter value \"{value}\" for resource "
                                                f"type \"{kind}\" (this server sorts by one of {sorted(DATES[kind])})")
        return param, keys[0].startswith("-")

    @staticmethod
    def _match(table: Table, tokens, dates, sort) -> list[Row]:
        if dates:  # the index: a bisect, then the other filters on the rows inside the window only
            param, after = dates[0]
            rows = table.by_date[param].reaching(after)
            ordered_by = param
            for other, other_after in dates[1:]:
                rows = [r for r in rows if r.dates[other] is not None and r.dates[other][1] > other_after]
        else:
            rows, ordered_by = table.rows, None
        for param, wanted in tokens:
            rows = [r for r in rows if r.tokens[param] & wanted]
        if sort is None:
            return sorted(rows, key=lambda r: r.seq) if ordered_by else list(rows)
        param, descending = sort
        if ordered_by != param:
            dated = sorted((r for r in rows if r.dates[param] is not None), key=lambda r: (r.dates[param][0], r.seq))
            undated = [r for r in rows if r.dates[param] is None]
        else:
            dated, undated = rows, []
        return (dated[::-1] if descending else dated) + undated

    def _page(self, base: str, params: list[tuple[str, str]]) -> bytes:
        names = {name for name, _ in params}
        if "_getpages" not in names:
            raise BadRequest(400, "not-supported", "this server has no system-level interactions but paging")
        unknown = names - PAGING
        if unknown:
            raise BadRequest(400, "processing", f"Unknown paging parameter(s) {sorted(unknown)}")
        values = dict(params)
        with self._lock:
            found = self._searches.get(values["_getpages"])
        if found is None:
            raise BadRequest(410, "not-found", f"Search ID \"{values['_getpages']}\" does not exist and "
                                               "may have expired")
        try:
            offset = int(values.get("_getpagesoffset", "0"))
        except ValueError:
            raise BadRequest(400, "processing", "_getpagesoffset is not a number") from None
        count = _count(values.get("_count", str(DEFAULT_PAGE_SIZE)))
        query = "&".join(f"{quote(k, safe='_')}={quote(v, safe='-_.')}" for k, v in params)
        return _bundle(base, values["_getpages"], found[1], max(0, offset), count, self_url=f"{base}?{query}")


def _bundle(base: str, search_id: str, rows: list[Row], offset: int, count: int, self_url: str) -> bytes:
    page = rows[offset:offset + count]
    links = [{"relation": "self", "url": self_url}]

    def paging(at: int) -> str:
        return f"{base}?_getpages={search_id}&_getpagesoffset={at}&_count={count}&_bundletype=searchset"

    if offset + count < len(rows) and count:
        links.append({"relation": "next", "url": paging(offset + count)})
    if offset > 0:
        links.append({"relation": "previous", "url": paging(max(0, offset - count))})
    head = {"resourceType": "Bundle", "id": search_id,
            "meta": {"lastUpdated": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+00:00"},
            "type": "searchset", "total": len(rows), "link": links}
    text = json.dumps(head, separators=(",", ":")).encode()
    if not page:
        return text
    entries = b",".join(b'{"fullUrl":' + json.dumps(f"{base}/{r.type}/{r.id}").encode() + b',"resource":'
                        + r.body + b',"search":{"mode":"match"}}' for r in page)
    return text[:-1] + b',"entry":[' + entries + b"]}"


def _count(value: str) -> int:
    try:
        count = int(value)
    except ValueError:
        raise BadRequest(400, "processing", f"Invalid _count value \"{value}\"") from None
    if count < 0:
        raise BadRequest(400, "processing", f"Invalid _count value \"{value}\"")
    return min(count, MAX_PAGE_SIZE)


def _lower_bound(name: str, value: str) -> float:
    """The instant a resource's date range must reach past (its end, exclusive, above it): for `ge` the
    value's start, for `gt` its end."""
    prefix, rest = value[:2], value[2:]
    if prefix not in ("ge", "gt"):
        raise BadRequest(400, "not-supported", f"{name}={value}: this server supports the ge and gt prefixes only")
    found = date_range(rest)
    if found is None:
        raise BadRequest(400, "processing", f"Invalid date/time format: \"{rest}\"")
    return found[0] if prefix == "ge" else found[1]


def _patient_of(resource: dict) -> str | None:
    for element in ("subject", "patient"):
        reference = resource.get(element)
        reference = reference.get("reference") if isinstance(reference, dict) else None
        if isinstance(reference, str) and reference.startswith("Patient/"):
            return reference.removeprefix("Patient/")
    return None


def _bearer_is(header: str | None, token: str) -> bool:
    if not header:
        return False
    scheme, _, credentials = header.partition(" ")
    return scheme.lower() == "bearer" and secrets.compare_digest(credentials.strip(), token)


def _host_of(base: str) -> str:
    return urlsplit(base).netloc


def _outcome(code: str, text: str) -> bytes:
    return json.dumps({"resourceType": "OperationOutcome",
                       "issue": [{"severity": "error", "code": code, "diagnostics": text}]}).encode()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Serve FHIR resources (NDJSON files) as HAPI FHIR JPA pages them.")
    parser.add_argument("files", nargs="*", help="NDJSON: one resource a line")
    parser.add_argument("--token", required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    server = HapiLikeServer(token=args.token, port=args.port, echo_errors=True)
    for name in args.files:
        with open(name, encoding="utf-8") as lines:
            server.load(json.loads(line) for line in lines if line.strip())

    def stop(*_):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, stop)
    print(f"listening {server.base_url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server._server.server_close()
        print(f"served {len(server.requests)} requests, {len(server.rejected)} answered 400", file=sys.stderr,
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
