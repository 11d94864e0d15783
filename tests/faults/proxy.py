"""A fault-injecting HTTP proxy in front of a real FHIR server, and a recorder standing for "another host".

    with FaultProxy(fhir_server.base_url) as proxy:        # http://127.0.0.1:<port>/fhir, forwards to sekmet
        proxy.inject(Fault("status", resource="Observation", status=500))
        ... call the service with fhirServer = proxy.base_url ...
        proxy.requests                                     # what the proxy was asked (path, headers, outcome)

Without a matching fault a GET is forwarded to the upstream with its Authorization and Accept headers, and
every absolute upstream URL in the answer (paging links, fullUrl, Location) is rewritten to the proxy's, so
paging keeps going through the proxy. The first injected fault whose `resource` and `pages` match a request
decides what happens to it (see `Fault`).

Bounded and loopback only: the proxy binds 127.0.0.1, forwards only to a loopback upstream, points
redirects and next links only at loopback URLs, serves at most `max_connections` connections at a time
(more are closed at once), one request per connection, with socket timeouts; every wait (delay, trickle,
hang) ends after `max_hold` seconds or at `close()`, whichever is first; generated bodies are capped.
Only the standard library is used.
"""
from __future__ import annotations

import gzip
import http.client
import io
import ipaddress
import json
import select
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qs, urlsplit

__all__ = ["Fault", "FaultProxy", "Recorder", "KINDS"]

FHIR_JSON = "application/fhir+json"
MAX_UPSTREAM_BYTES = 8 * 1024 * 1024
MAX_GENERATED_BYTES = 64 * 1024 * 1024

KINDS = frozenset({
    "delay",        # wait `delay` s before the headers, then answer as the upstream did
    "trickle",      # headers at once, then the upstream body `chunk` bytes every `delay` s (`chunked` framing or not)
    "hang",         # read the request, never answer (until the client leaves, max_hold or close())
    "status",       # answer `status` with an OperationOutcome (401 also with WWW-Authenticate)
    "malformed",    # 200 with `body` (default: the upstream body cut in half)
    "rewrite",      # 200 with `transform(upstream JSON)`
    "bundle_type",  # the upstream Bundle with type = `bundle_type`
    "outcome",      # 200 with an OperationOutcome (severity error) instead of the resource
    "huge",         # the upstream Bundle padded with copies of its entries to at least `size` bytes
    "next_loop",    # the upstream Bundle with its next link pointing back at page 1 (its `first` link)
    "next_to",      # the upstream Bundle with its next link set to `target`
    "redirect",     # `status` (302 by default) with Location: `target`
    "reset",        # TCP reset: before any byte if `after` is None, else after the headers and `after` body bytes
})


@dataclass
class Fault:
    kind: str
    resource: str | None = None  # "Patient", "Condition", ... (the path segment after the base); None: any
    pages: str = "all"           # "first": no _offset or _offset=0; "later": _offset > 0; "all"
    delay: float = 0.0           # delay: before the headers; trickle: between chunks
    status: int = 0              # status, redirect
    body: bytes | None = None    # malformed
    transform: Callable[[dict], dict] | None = None  # rewrite
    bundle_type: str = "batch-response"  # bundle_type
    target: str | None = None    # next_to, redirect
    size: int = 0                # huge: at least this many (decoded) bytes
    chunked: bool = False        # trickle, huge, reset: Transfer-Encoding: chunked instead of Content-Length
    gzip: bool = False           # huge: Content-Encoding: gzip (small on the wire)
    after: int | None = None     # reset
    chunk: int = 32              # trickle

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault {self.kind!r}; one of {sorted(KINDS)}")
        if self.pages not in ("all", "first", "later"):
            raise ValueError("pages is 'all', 'first' or 'later'")
        if self.kind in ("next_to", "redirect"):
            if not self.target:
                raise ValueError(f"{self.kind} needs a target URL")
            _require_loopback(self.target)
        if self.kind == "huge" and not 0 < self.size <= MAX_GENERATED_BYTES:
            raise ValueError(f"huge needs 0 < size <= {MAX_GENERATED_BYTES}")
        if self.kind == "rewrite" and self.transform is None:
            raise ValueError("rewrite needs a transform")

    def matches(self, resource: str, offset: int) -> bool:
        if self.resource is not None and self.resource != resource:
            return False
        return self.pages == "all" or (self.pages == "first") == (offset == 0)


@dataclass
class Seen:
    """One request the proxy (or the recorder) received, and how answering it ended."""
    method: str
    path: str
    headers: dict[str, str]
    fault: str | None = None
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None
    outcome: str = "open"  # answered | client-gone | held | reset | outside-base | proxy-error: ... | ...


def _require_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if host != "localhost":
        try:
            if ipaddress.ip_address(host).is_loopback:
                return
        except ValueError:
            pass
        raise ValueError(f"loopback URLs only, not {url!r}")


class _BoundedServer(ThreadingHTTPServer):
    """At most `slots` connections at once (more are closed unanswered); handler threads are daemons."""
    daemon_threads = True
    block_on_close = False

    def __init__(self, address, handler, slots: int, owner):
        self._slots = threading.BoundedSemaphore(slots)
        self.owner = owner
        super().__init__(address, handler)

    def process_request(self, request, client_address):
        self.owner._connection()
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10.0  # socket timeout of every connection
    server: _BoundedServer

    def do_GET(self):  # noqa: N802
        self.close_connection = True
        self.server.owner._handle(self)

    def _other(self):
        self.close_connection = True
        self.server.owner._handle_other(self)

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _other  # noqa: N815

    def log_message(self, *args):
        pass


class _Base:
    """Server start/stop, the request log and the stop event shared by the proxy and the recorder."""

    def __init__(self, host: str, max_connections: int, max_hold: float):
        self.max_hold = max_hold
        self.requests: list[Seen] = []
        self.connections = 0  # TCP connections accepted (also ones that never sent a request)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server = _BoundedServer((host, 0), _Handler, max_connections, self)
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True, name=f"{type(self).__name__}-{port}")

    def _connection(self) -> None:
        with self._lock:
            self.connections += 1

    def _record(self, handler: BaseHTTPRequestHandler) -> Seen:
        seen = Seen(handler.command, handler.path, dict(handler.headers.items()))
        with self._lock:
            self.requests.append(seen)
        return seen

    def start(self):
        self._thread.start()
        return self

    def close(self) -> None:
        """Release every held/trickling answer, stop accepting, close the listening socket."""
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    def _handle_other(self, handler: BaseHTTPRequestHandler) -> None:
        seen = self._record(handler)
        _send(handler, 405, _outcome("not-supported", f"{handler.command} is not supported here"))
        seen.outcome, seen.ended = "answered", time.monotonic()


class Recorder(_Base):
    """"Another host": records every connection and request (method, path, headers) and answers each GET
    with an empty searchset, so a client that followed a link here would appear to succeed. Bound to
    127.0.0.2 where the system allows it (a different address, not only a different port), else 127.0.0.1."""

    def __init__(self, max_connections: int = 16, max_hold: float = 5.0):
        try:
            super().__init__("127.0.0.2", max_connections, max_hold)
        except OSError:
            super().__init__("127.0.0.1", max_connections, max_hold)

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        seen = self._record(handler)
        _send(handler, 200, json.dumps({"resourceType": "Bundle", "type": "searchset", "total": 0}).encode())
        seen.outcome, seen.ended = "answered", time.monotonic()


class FaultProxy(_Base):
    def __init__(self, upstream_base: str, *, max_connections: int = 32, max_hold: float = 20.0,
                 upstream_timeout: float = 10.0):
        _require_loopback(upstream_base)
        parts = urlsplit(upstream_base)
        self._upstream_host, self._upstream_port = parts.hostname, parts.port or 80
        self._upstream_root = f"{parts.scheme}://{parts.netloc}"
        self.base_path = parts.path.rstrip("/")  # the proxy serves the upstream's layout: same base path
        self.upstream_timeout = upstream_timeout
        self.faults: list[Fault] = []
        super().__init__("127.0.0.1", max_connections, max_hold)
        self.base_url = self.url + self.base_path

    # ------------------------------------------------------------ configuration / inspection
    def inject(self, *faults: Fault) -> "FaultProxy":
        with self._lock:
            self.faults.extend(faults)
        return self

    def clear(self) -> None:
        with self._lock:
            self.faults.clear()

    def errors(self) -> list[str]:
        """Requests the proxy itself failed on (so a test cannot pass on the proxy's own breakage)."""
        return [f"{seen.path}: {seen.outcome}" for seen in list(self.requests) if seen.outcome.startswith("proxy-error")]

    def requests_for(self, resource: str) -> list[Seen]:
        return [seen for seen in list(self.requests) if _resource_of(seen.path, self.base_path) == resource]

    def wait_until_settled(self, timeout: float) -> bool:
        """True once every request received so far has ended (answered, reset, or its client gone)."""
        limit = time.monotonic() + timeout
        while time.monotonic() < limit:
            if all(seen.ended is not None for seen in list(self.requests)):
                return True
            time.sleep(0.02)
        return False

    # ------------------------------------------------------------ request handling
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        seen = self._record(h)
        try:
            if h.path != self.base_path and not h.path.startswith(self.base_path + "/"):
                _send(h, 404, _outcome("not-found", "outside the FHIR base"))
                seen.outcome = "outside-base"
                return
            resource, offset = _resource_of(h.path, self.base_path), _offset_of(h.path)
            with self._lock:
                fault = next((f for f in self.faults if f.matches(resource, offset)), None)
            if fault is None:
                status, headers, body = self._upstream(h)
                _send(h, status, body, headers=headers)
                seen.outcome = "answered"
            else:
                seen.fault = fault.kind
                seen.outcome = getattr(self, f"_fault_{fault.kind}")(h, fault) or "answered"
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, socket.timeout):
            seen.outcome = "client-gone"
        except Exception as error:  # noqa: BLE001 - a bug of the proxy (or upstream down): tests check for it
            seen.outcome = f"proxy-error: {error!r}"
            h.close_connection = True
        finally:
            seen.ended = time.monotonic()

    def _upstream(self, h: BaseHTTPRequestHandler) -> tuple[int, list[tuple[str, str]], bytes]:
        """GET the same path from the upstream; the answer with upstream URLs rewritten to the proxy's."""
        conn = http.client.HTTPConnection(self._upstream_host, self._upstream_port, timeout=self.upstream_timeout)
        try:
            headers = {name: h.headers[name] for name in ("Authorization", "Accept") if h.headers.get(name)}
            conn.request("GET", h.path, headers=headers)
            response = conn.getresponse()
            body = response.read(MAX_UPSTREAM_BYTES + 1)
            if len(body) > MAX_UPSTREAM_BYTES:
                raise RuntimeError("upstream answer larger than the proxy forwards")
            kept = [(name, self._rewrite(value)) for name, value in response.getheaders()
                    if name.lower() in ("content-type", "location", "content-location", "www-authenticate",
                                        "etag", "last-modified")]
            return response.status, kept, self._rewrite(body)
        finally:
            conn.close()

    def _rewrite(self, data):
        if isinstance(data, bytes):
            return data.replace(self._upstream_root.encode(), self.url.encode())
        return data.replace(self._upstream_root, self.url)

    def _upstream_json(self, h) -> tuple[int, dict]:
        status, _, body = self._upstream(h)
        return status, json.loads(body)

    def _held(self, h: BaseHTTPRequestHandler, seconds: float) -> str:
        """Wait up to `seconds` (bounded by max_hold and close()); 'client-gone' if the client hung up."""
        limit = time.monotonic() + min(seconds, self.max_hold)
        while not self._stop.is_set() and time.monotonic() < limit:
            readable, _, _ = select.select([h.connection], [], [], 0.02)
            if readable:
                try:
                    if not h.connection.recv(1, socket.MSG_PEEK):
                        return "client-gone"
                except OSError:
                    return "client-gone"
                time.sleep(0.02)  # the client sent more bytes (pipelining): ignore them
        return "stopped" if self._stop.is_set() else "waited"

    # ------------------------------------------------------------ faults
    def _fault_delay(self, h, fault: Fault):
        waited = self._held(h, fault.delay)
        if waited != "waited":
            return waited
        status, headers, body = self._upstream(h)
        _send(h, status, body, headers=headers)

    def _fault_hang(self, h, fault: Fault):
        return "held" if self._held(h, self.max_hold) != "client-gone" else "client-gone"

    def _fault_trickle(self, h, fault: Fault):
        status, headers, body = self._upstream(h)
        _send_head(h, status, None if fault.chunked else len(body), headers=headers)
        limit = time.monotonic() + self.max_hold
        for start in range(0, len(body), fault.chunk):
            if self._stop.wait(fault.delay) or time.monotonic() > limit:
                return "stopped"
            _write(h, body[start:start + fault.chunk], fault.chunked)
        if fault.chunked:
            h.wfile.write(b"0\r\n\r\n")

    def _fault_status(self, h, fault: Fault):
        headers = [("WWW-Authenticate", 'Bearer realm="fhir"')] if fault.status == 401 else []
        code = {401: "login", 403: "forbidden", 404: "not-found"}.get(fault.status, "exception")
        _send(h, fault.status, _outcome(code, f"injected {fault.status}"), headers=headers)

    def _fault_malformed(self, h, fault: Fault):
        if fault.body is not None:
            body = fault.body
        else:
            body = self._upstream(h)[2]
            body = body[:len(body) // 2]
        _send(h, 200, body)

    def _fault_rewrite(self, h, fault: Fault):
        _, data = self._upstream_json(h)
        _send(h, 200, json.dumps(fault.transform(data)).encode())

    def _fault_bundle_type(self, h, fault: Fault):
        _, data = self._upstream_json(h)
        data["type"] = fault.bundle_type
        _send(h, 200, json.dumps(data).encode())

    def _fault_outcome(self, h, fault: Fault):
        _send(h, 200, _outcome("exception", "the database is unavailable"))

    def _fault_huge(self, h, fault: Fault):
        _, data = self._upstream_json(h)
        entries = data.get("entry") or [{"resource": {"resourceType": "Basic", "id": "padding",
                                                      "code": {"text": "x" * 1000}}}]
        one = len(json.dumps(entries[0])) + 2
        data["entry"] = entries * (fault.size // (one * len(entries)) + 1)
        body = json.dumps(data).encode()
        headers = []
        if fault.gzip:
            body = gzip.compress(body, compresslevel=6)
            headers.append(("Content-Encoding", "gzip"))
        _send(h, 200, body, headers=headers, chunked=fault.chunked)

    def _fault_next_loop(self, h, fault: Fault):
        _, data = self._upstream_json(h)
        links = data.get("link") or []
        first = next((link["url"] for link in links if link.get("relation") == "first"), self.url + h.path)
        for link in links:
            if link.get("relation") == "next":
                link["url"] = first
        _send(h, 200, json.dumps(data).encode())

    def _fault_next_to(self, h, fault: Fault):
        _, data = self._upstream_json(h)
        links = [link for link in data.get("link") or [] if link.get("relation") != "next"]
        data["link"] = links + [{"relation": "next", "url": fault.target}]
        _send(h, 200, json.dumps(data).encode())

    def _fault_redirect(self, h, fault: Fault):
        _send(h, fault.status or 302, _outcome("informational", "moved"), headers=[("Location", fault.target)])

    def _fault_reset(self, h, fault: Fault):
        if fault.after is not None:
            status, headers, body = self._upstream(h)
            _send_head(h, status, None if fault.chunked else len(body), headers=headers)
            _write(h, body[:fault.after], fault.chunked)
            time.sleep(0.05)  # let the client start reading the body before the reset arrives
        _reset(h)
        return "reset"


# ---------------------------------------------------------------- helpers

def _resource_of(path: str, base_path: str) -> str:
    rest = path.split("?", 1)[0][len(base_path):].strip("/")
    return rest.split("/", 1)[0]


def _offset_of(path: str) -> int:
    values = parse_qs(urlsplit(path).query).get("_offset") or ["0"]
    try:
        return int(values[0])
    except ValueError:
        return 0


def _outcome(code: str, text: str) -> bytes:
    return json.dumps({"resourceType": "OperationOutcome",
                       "issue": [{"severity": "error", "code": code, "diagnostics": text}]}).encode()


def _send_head(h: BaseHTTPRequestHandler, status: int, length: int | None, headers=()) -> None:
    h.send_response(status)
    names = {name.lower() for name, _ in headers}
    if "content-type" not in names:
        h.send_header("Content-Type", FHIR_JSON)
    for name, value in headers:
        h.send_header(name, value)
    if length is None:
        h.send_header("Transfer-Encoding", "chunked")
    else:
        h.send_header("Content-Length", str(length))
    h.send_header("Connection", "close")
    h.end_headers()
    h.wfile.flush()


def _write(h: BaseHTTPRequestHandler, data: bytes, chunked: bool) -> None:
    if not data:
        return
    h.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)


def _send(h: BaseHTTPRequestHandler, status: int, body: bytes, headers=(), chunked: bool = False) -> None:
    _send_head(h, status, None if chunked else len(body), headers=headers)
    if chunked:
        for start in range(0, len(body), 65536):
            _write(h, body[start:start + 65536], True)
        h.wfile.write(b"0\r\n\r\n")
    else:
        h.wfile.write(body)


def _reset(h: BaseHTTPRequestHandler) -> None:
    """Close the connection with a TCP RST (SO_LINGER 0) instead of a FIN."""
    h.close_connection = True
    h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    h.rfile.close()  # the makefile() reference; wfile is a plain writer holding none
    h.wfile = io.BytesIO()  # http.server flushes wfile after the handler: let it flush into nothing
    h.connection.close()  # the last reference: the descriptor is closed now, and the kernel sends the RST
