"""A real HTTP server on 127.0.0.1 answering canned routes, recording what it was asked (paths, headers)."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable


class StubServer:
    def __init__(self):
        self.routes: dict[str, Callable[[str], tuple[int, object]] | tuple[int, object]] = {}
        self.requests: list[dict] = []
        self.delay = 0.0
        self.in_flight = 0
        self.max_in_flight = 0  # the most requests the server was answering at once
        self.raw_header_lines: list[bytes] = []  # written as they are after the headers: malformed ones too
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                stub.requests.append({"path": self.path, "headers": dict(self.headers)})
                with stub._lock:
                    stub.in_flight += 1
                    stub.max_in_flight = max(stub.max_in_flight, stub.in_flight)
                try:
                    if stub.delay:
                        time.sleep(stub.delay)
                finally:
                    with stub._lock:
                        stub.in_flight -= 1
                route = stub.routes.get(self.path) or stub.routes.get(self.path.split("?")[0])
                status, body = (404, {"resourceType": "OperationOutcome"}) if route is None else (
                    route(self.path) if callable(route) else route)
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(data)))
                for line in stub.raw_header_lines:  # send_header would format them; these go out verbatim
                    self._headers_buffer.append(line + b"\r\n")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()
