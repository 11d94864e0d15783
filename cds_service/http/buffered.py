"""The WSGI app behind an event loop: a request holds a thread only once it has fully arrived.

Why: a thread-per-connection server lets a client that trickles its headers or body (1 byte every 2 s)
hold a thread for as long as it likes; a dozen such clients stop the service. Here the event loop reads
each request whole, within `body_timeout` seconds of its headers (the server bounds the headers), and only
then hands it to a bounded thread pool; the answer is built whole in that thread and written by the loop, so
a slow reader does not hold a thread either. Bodies over `max_body` are refused with 413 as soon as the
count passes the limit, whatever the framing (Content-Length or chunked), before the rest is read.

Memory is bounded in total as well as per request: a body over LARGE_BODY takes one of `large_bodies` slots
of the worker before more of it is read (the rest waits in the socket), holds it until its answer is built,
and then hands the freed heap back to the system (glibc's malloc_trim), so a burst of large prefetches
neither adds up nor leaves the worker at its peak. No slot within `slot_wait` seconds: 503, Retry-After.

X-Forwarded-Proto sets the request's scheme only from the peers in `forwarded_allow_ips` (default: none).
"""
from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import io
import ipaddress
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from ..errors import operation_outcome

Scope = dict[str, Any]
LARGE_BODY = 1 << 20  # bytes; the service's ordinary requests are a few kB to a few hundred kB


def _malloc_trim() -> Callable[[], None]:
    name = ctypes.util.find_library("c")
    try:
        trim = ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to hand back this way
        trim = None
    return (lambda: trim(0)) if trim else (lambda: None)


_TRIM = _malloc_trim()


class BufferedWSGI:
    def __init__(self, app: Callable, *, max_body: int, body_timeout: float, threads: int,
                 forwarded_allow_ips: list[str] = (), large_bodies: int = 1, slot_wait: float = 10.0):
        self.app = app
        self.max_body = max_body
        self.body_timeout = body_timeout
        self.large = asyncio.Semaphore(large_bodies)
        self.slot_wait = slot_wait
        self.any_proxy = "*" in forwarded_allow_ips
        self.proxies = [ipaddress.ip_network(peer, strict=False) for peer in forwarded_allow_ips if peer != "*"]
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="cds-request")

    async def __call__(self, scope: Scope, receive: Callable, send: Callable) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send, self.pool)
            return
        if scope["type"] != "http":  # no websockets here
            return
        declared = _header(scope, b"content-length")
        length = int(declared) if declared is not None and declared.isdigit() else None
        if length is not None and length > self.max_body:
            await _refuse(send, 413, f"The request body is larger than {self.max_body} bytes.")
            return
        slot = _Slot(self.large, self.slot_wait)
        try:
            if length is not None and length > LARGE_BODY:
                await slot.take()
            await self._answer(scope, receive, send, slot)
        except _Busy:
            await _refuse(send, 503, "Too many large requests at once; retry shortly.", {b"retry-after": b"2"})
        finally:
            slot.give_back()

    async def _answer(self, scope: Scope, receive: Callable, send: Callable, slot: "_Slot") -> None:
        try:
            body = await self._read_body(receive, slot)
        except _TooLarge:
            await _refuse(send, 413, f"The request body is larger than {self.max_body} bytes.")
            return
        except _Disconnected:
            return
        except asyncio.TimeoutError:
            await _refuse(send, 408, f"The request body did not arrive within {self.body_timeout:g} s.")
            return
        loop = asyncio.get_running_loop()
        environ = _environ(scope, body)
        if self._from_proxy(environ["REMOTE_ADDR"]):
            forwarded = environ.get("HTTP_X_FORWARDED_PROTO", "").split(",")[0].strip().lower()
            if forwarded in ("http", "https"):
                environ["wsgi.url_scheme"] = forwarded
        status, headers, chunks = await loop.run_in_executor(self.pool, _run, self.app, environ, slot.held)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"".join(chunks)})

    def _from_proxy(self, address: str) -> bool:
        if self.any_proxy:
            return True
        try:
            peer = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(peer in network for network in self.proxies)

    async def _read_body(self, receive: Callable, slot: "_Slot") -> bytes:
        """The whole body within body_timeout (not counting a wait for a large-body slot)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.body_timeout
        chunks, size = [], 0  # joined once at the end: one copy of the body, not two
        while True:
            message = await asyncio.wait_for(receive(), max(deadline - loop.time(), 0))
            if message["type"] == "http.disconnect":
                raise _Disconnected
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            if size > self.max_body:
                raise _TooLarge
            if size > LARGE_BODY and not slot.held:  # a chunked body that turns out large
                deadline += await slot.take()
            if not message.get("more_body"):
                return b"".join(chunks)


class _TooLarge(Exception):
    pass


class _Busy(Exception):
    pass


class _Slot:
    """One request's claim on a large-body slot."""

    def __init__(self, semaphore: asyncio.Semaphore, wait: float):
        self.semaphore, self.wait, self.held = semaphore, wait, False

    async def take(self) -> float:
        """Waits for a slot; returns the seconds waited. _Busy when none is free within the wait."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            await asyncio.wait_for(self.semaphore.acquire(), self.wait)
        except asyncio.TimeoutError:
            raise _Busy from None
        self.held = True
        return loop.time() - started

    def give_back(self) -> None:
        if self.held:
            self.held = False
            self.semaphore.release()


class _Disconnected(Exception):
    pass


def _run(app: Callable, environ: dict, large: bool = False) -> tuple[int, list, list[bytes]]:
    """One WSGI call, its answer collected whole (the service's answers are small JSON documents)."""
    try:
        return _call(app, environ)
    finally:
        if large:
            _TRIM()


def _call(app: Callable, environ: dict) -> tuple[int, list, list[bytes]]:
    started: dict[str, Any] = {}

    def start_response(status: str, headers: list, exc_info=None):
        started["status"] = int(status.split(" ", 1)[0])
        started["headers"] = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]
        return lambda data: chunks.append(data)

    chunks: list[bytes] = []
    result = app(environ, start_response)
    try:
        chunks.extend(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return started["status"], started["headers"], chunks


def _environ(scope: Scope, body: bytes) -> dict:
    """PEP 3333 environ from an ASGI HTTP scope."""
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client") or ("", 0)
    environ = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": scope.get("root_path", "").encode("utf-8").decode("latin-1"),
        "PATH_INFO": scope["path"][len(scope.get("root_path", "")):].encode("utf-8").decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]) if server[1] is not None else "",
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "REMOTE_ADDR": str(client[0]),
        "REMOTE_PORT": str(client[1]),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "CONTENT_LENGTH": str(len(body)),
    }
    for raw_name, raw_value in scope.get("headers", []):
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        if name == "CONTENT_TYPE":
            environ["CONTENT_TYPE"] = value
            continue
        if name == "CONTENT_LENGTH":
            continue  # the body as read is the truth
        key = f"HTTP_{name}"
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


def _header(scope: Scope, wanted: bytes) -> str | None:
    for name, value in scope.get("headers", []):
        if name.lower() == wanted:
            return value.decode("latin-1").strip()
    return None


async def _refuse(send: Callable, status: int, message: str, extra: dict | None = None) -> None:
    body = json.dumps(operation_outcome(status, message)).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"), *(extra or {}).items()]})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Callable, send: Callable, pool: ThreadPoolExecutor) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            pool.shutdown(wait=True)
            await send({"type": "lifespan.shutdown.complete"})
            return
