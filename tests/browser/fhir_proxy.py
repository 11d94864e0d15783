"""A loopback proxy in front of the test FHIR server for the browser tests: it passes every method through
(the sandbox searches with POST `_search` and sends CORS preflights), and answers 503 to every search of
the resource types in `failing`, whoever asks — the sandbox filling its prefetch, or the service fetching
what the sandbox left out.

tests/faults/proxy.py is the fuller fault injector for the service's own fetching; it forwards GETs only
and sends no CORS headers, which a browser client needs."""
from __future__ import annotations

import http.client
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "te", "upgrade"}
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Headers": "*",
        "Access-Control-Allow-Methods": "GET, POST, OPTIONS"}


class CorsFaultProxy:
    def __init__(self, upstream_base: str):
        parts = urlsplit(upstream_base)
        assert parts.hostname == "127.0.0.1", "loopback only"
        self.upstream_base = upstream_base.rstrip("/")
        self._upstream = (parts.hostname, parts.port)
        self.base_path = parts.path.rstrip("/")
        self.failing: set[str] = set()
        self.failed: list[str] = []  # "METHOD Type" of each request answered 503
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_OPTIONS(self):  # noqa: N802 - the preflight, answered here whatever the fault
                self._answer(204, b"", {})

            def do_GET(self):  # noqa: N802
                owner._handle(self)

            def do_POST(self):  # noqa: N802
                owner._handle(self)

            def _answer(self, status, body, headers):
                self.send_response(status)
                for name, value in {**headers, **CORS}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}{self.base_path}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _handle(self, h) -> None:
        body = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        resource = h.path[len(self.base_path):].lstrip("/").split("?")[0].split("/")[0]
        if resource in self.failing and h.path.split("?")[0].rsplit("/", 1)[-1] in (resource, "_search"):
            self.failed.append(f"{h.command} {resource}")
            outcome = {"resourceType": "OperationOutcome",
                       "issue": [{"severity": "error", "code": "transient", "diagnostics": "search unavailable"}]}
            h._answer(503, json.dumps(outcome).encode(), {"Content-Type": "application/fhir+json"})
            return
        conn = http.client.HTTPConnection(*self._upstream, timeout=10)
        try:
            headers = {k: v for k, v in h.headers.items() if k.lower() not in HOP_BY_HOP | {"origin", "referer"}}
            conn.request(h.command, h.path, body=body or None, headers=headers)
            answer = conn.getresponse()
            payload = answer.read()
            kept = {k: v for k, v in answer.getheaders() if k.lower() not in HOP_BY_HOP
                    and not k.lower().startswith("access-control-")}
        finally:
            conn.close()
        # paging links and fullUrls name the upstream: point them back through the proxy
        payload = payload.replace(self.upstream_base.encode(), self.base_url.encode())
        h._answer(answer.status, payload, kept)

    def __enter__(self) -> "CorsFaultProxy":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
