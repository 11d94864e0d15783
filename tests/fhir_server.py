"""Start a real FHIR R4 server (SEKMET, PyPI ``sekmet-fhir``) for integration tests.

Usage (plain Python)::

    from fhir_server import FhirServer, transaction_bundle

    with FhirServer() as srv:                      # starts `sekmet serve`, waits for /fhir/metadata
        srv.load(transaction_bundle([patient, *conditions]))
        r = srv.get("Condition", params={"patient": "p1", "_count": "10"})
        assert r.status == 200 and r.json()["total"] == 30
    # stopped (SIGTERM, then SIGKILL) and its temp dir removed, also when the block raises

In pytest use the session fixture ``fhir_server`` from ``tests/integration/conftest.py``.
Only the standard library is used here, so nothing beyond ``pip install sekmet-fhir`` (and pytest) is needed.

API of :class:`FhirServer`
--------------------------
``base_url``       FHIR base, ``http://127.0.0.1:<port>/fhir`` (SEKMET always serves FHIR under ``/fhir``).
``root_url``       ``http://127.0.0.1:<port>`` (SEKMET also has a web console at ``/ui``).
``token``          a valid static bearer token (random per instance); ``auth_headers()`` -> ``{"Authorization": ...}``.
``load(bundle)``   POST a transaction (or batch) Bundle to ``base_url``; asserts HTTP 200 and that every entry
                   answered 200/201; returns the response Bundle. Use PUT entries (``transaction_bundle()``
                   builds them) so ids are ours and re-loading is idempotent.
``request(method, path_or_url, ...)`` / ``get(...)`` / ``post(...)``: tiny urllib client (no proxies, token sent by
                   default, ``token=None`` sends no Authorization header) returning :class:`Response`
                   (``status``, ``headers``, ``body``, ``json()``); never raises on 4xx/5xx.
``search_all(type, params)`` follow ``next`` links to the end; returns ``(resources, pages)``.
``stop()`` / ``start()`` / ``restart()``  cheap (about 1 s); the port, base_url, token and the SQLite file are kept,
                   so loaded data survives a restart. ``stopped()`` is a context manager that stops the server and
                   always starts it again.  ``reset()`` = restart with an empty database.
``is_running``, ``startup_seconds`` (last start), ``log_path`` / ``log_tail()`` (server stdout+stderr),
``workdir`` (temp dir holding settings.json, sekmet.db, the log; nothing is written into the repo).
``url_of_dead_server()`` (module function, also a static method): a FHIR base URL on 127.0.0.1 whose port is held
                   bound but not listening for the life of the process, so connecting is refused at once and no
                   other process can take the port.

How SEKMET is configured here (facts checked against sekmet-fhir 0.1.1)
-----------------------------------------------------------------------
* Configuration is a YAML file (``--config``/``-c`` or ``$SEKMET_CONFIG``, default ``./settings.yaml``; we write
  JSON, which is valid YAML) plus env overrides ``SEKMET_BASE_URL`` (base_url), ``SEKMET_DB`` (db_path),
  ``SEKMET_PORT``, ``SEKMET_PUBLIC_URL``. ``sekmet serve --host --port`` overrides the bind address. Inherited
  ``SEKMET_*`` variables are removed from the child environment so they cannot leak in.
* ``base_url`` (from ``SEKMET_BASE_URL``) is used verbatim for every absolute URL the server emits: paging links,
  ``fullUrl``, ``Location``. Its default is ``http://localhost:8090/fhir``, so it must be set to the real port.
* Database: SQLite file ``<workdir>/sekmet.db`` (WAL). ``:memory:`` would also work but would lose data on
  restart. The process runs with ``cwd=<workdir>`` so relative paths (``data/``, ``keys/``) stay out of the repo.
* Auth: ``server_auth.types`` is a list of accepted schemes out of ``none`` (the default: everything open),
  ``basic`` (``server_auth.users``), ``bearer`` (``server_auth.tokens``: a list of *static* tokens, compared
  verbatim) and ``smart`` (HS256 JWTs from its own ``/auth/token`` client_credentials endpoint). There is no env
  var for auth; it is settings-file only. We use ``types: [bearer]`` with one random static token.
* Unauthorised requests get **401** with an OperationOutcome (``issue.code = login``) and
  ``WWW-Authenticate: Bearer realm="sekmet"`` - for a missing header ("Authentication required"), a wrong token
  and a wrong scheme alike ("Unsupported or invalid Authorization scheme 'bearer'"). 403 only occurs for SMART
  tokens whose scopes do not allow the interaction. ``GET /fhir/metadata`` is public (no token needed); every
  other ``/fhir`` interaction requires the token. The scheme name is case-insensitive (``bearer x`` works).
* Search: ``patient=`` is supported on Condition, Observation, MedicationRequest, Procedure (reference to
  ``subject``, target Patient; ``patient=ID`` and ``patient=Patient/ID`` both work). ``status=`` exists on
  Observation, MedicationRequest and Procedure, but **not on Condition** (R4 has ``clinical-status`` /
  ``verification-status`` there; those work). Unknown parameters are *ignored* (lenient mode): the searchset then
  contains an extra entry with ``search.mode = "outcome"`` holding an OperationOutcome warning
  ("Unknown search parameter 'status' for Condition; parameter ignored"), and the ignored parameter is dropped
  from the paging links. With ``Prefer: handling=strict`` the server answers 400 instead.
* Paging: ``_count`` (default 20, max 1000) and ``_offset`` (offset paging over ``ORDER BY`` insertion sequence,
  not a snapshot). ``Bundle.link`` has ``self``, ``first``, ``previous`` (if offset > 0), ``next`` (while more
  remain) and ``last``; all absolute, ``{base_url}/{Type}?<params>&_count=N&_offset=M``, built from
  ``SEKMET_BASE_URL``. ``Bundle.total`` is always filled. ``_summary=count`` works.
* ``POST {base}/{Type}/_search`` with ``application/x-www-form-urlencoded`` works (params from body and/or query
  string); its ``next`` links are plain GET URLs.
* Transactions: ``POST {base}`` with a ``transaction`` Bundle; PUT ``Type/id`` entries create (201) or update
  (200; the version is bumped even if the content is unchanged). R4 Patient, Condition, Observation,
  MedicationRequest and Procedure are accepted. Inbound resources are structurally validated (fhir.resources
  R4B models, ``validation.inbound: strict``): an invalid resource (e.g. Observation without ``code``) makes the
  whole transaction fail with 400 and roll back. References are *not* checked for existence.
* The pharmacy/lab "simulator" reacts to externally written MedicationRequest/ServiceRequest/... by writing
  follow-up resources a few seconds later; it is disabled here (``simulator.enabled: false``) so test data stays
  as loaded. Inbound traffic logging into the DB is off (``log_inbound: false``).
"""
from __future__ import annotations

import atexit
import contextlib
import ctypes
import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

__all__ = ["FhirServer", "FhirServerError", "Response", "transaction_bundle", "put_entry", "url_of_dead_server",
           "free_port", "find_sekmet"]

DEFAULT_TOKEN = object()  # sentinel: "send this server's token"
_LIVE: set["FhirServer"] = set()
_HELD_SOCKETS: list[socket.socket] = []


class FhirServerError(RuntimeError):
    """The FHIR server could not be started (message includes the tail of its log)."""


# ---------------------------------------------------------------- helpers

def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def url_of_dead_server(path: str = "/fhir") -> str:
    """URL on 127.0.0.1 where nothing listens: the port is kept bound (not listening) until the process exits,
    so connections are refused immediately and the port cannot be reused by another server meanwhile."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    _HELD_SOCKETS.append(s)
    return f"http://127.0.0.1:{s.getsockname()[1]}{path}"


def find_sekmet() -> list[str]:
    """Command prefix that runs the `sekmet` CLI of *this* interpreter's environment.

    Order: $SEKMET_EXECUTABLE, `sekmet` next to sys.executable (the venv's bin/ or Scripts/), `sekmet` on PATH,
    finally ``python -c 'from sekmet.cli import app; app()'`` if the package is importable."""
    override = os.environ.get("SEKMET_EXECUTABLE")
    if override:
        return [override]
    exe_dir = os.path.dirname(sys.executable)
    found = shutil.which("sekmet", path=exe_dir) or shutil.which("sekmet")
    if found:
        return [found]
    if importlib.util.find_spec("sekmet") is not None:
        return [sys.executable, "-c", "from sekmet.cli import app; app()"]
    raise FhirServerError("The `sekmet` FHIR test server is not installed: run `pip install sekmet-fhir` "
                          f"into the environment of {sys.executable}")


def put_entry(resource: dict, base_url: str | None = None) -> dict:
    """A transaction entry that PUTs `resource` at Type/id (so the id is ours and loading is idempotent)."""
    rtype, rid = resource.get("resourceType"), resource.get("id")
    if not rtype or not rid:
        raise ValueError(f"resource needs resourceType and id for a PUT entry: {resource!r:.200}")
    entry: dict[str, Any] = {"resource": resource, "request": {"method": "PUT", "url": f"{rtype}/{rid}"}}
    if base_url:
        entry["fullUrl"] = f"{base_url.rstrip('/')}/{rtype}/{rid}"
    return entry


def transaction_bundle(resources: Iterable[dict], base_url: str | None = None) -> dict:
    """A transaction Bundle of PUT entries for `resources` (each must have resourceType and id)."""
    return {"resourceType": "Bundle", "type": "transaction",
            "entry": [put_entry(r, base_url) for r in resources]}


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    url: str = ""
    _json: Any = field(default=None, repr=False)

    def json(self) -> Any:
        if self._json is None:
            self._json = json.loads(self.body or b"null")
        return self._json

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)


# Ignore http(s)_proxy env vars: everything here is on 127.0.0.1.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_request(method: str, url: str, *, headers: dict[str, str] | None = None, body: bytes | None = None,
                 timeout: float = 10.0) -> Response:
    """One HTTP request; returns a Response for any HTTP status, raises OSError/URLError on connection failure."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with _OPENER.open(req, timeout=timeout) as r:
            return Response(r.status, {k.lower(): v for k, v in r.headers.items()}, r.read(), url)
    except urllib.error.HTTPError as e:
        with e:
            return Response(e.code, {k.lower(): v for k, v in e.headers.items()}, e.read(), url)


def _set_pdeathsig() -> None:  # runs in the child between fork and exec (Linux only, best effort)
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


@atexit.register
def _stop_all() -> None:
    for srv in list(_LIVE):
        with contextlib.suppress(Exception):
            srv.stop()
    for s in _HELD_SOCKETS:
        with contextlib.suppress(Exception):
            s.close()


# ---------------------------------------------------------------- server

class FhirServer:
    """A `sekmet serve` subprocess on 127.0.0.1 with static bearer-token auth and a throw-away SQLite DB."""

    def __init__(self, workdir: str | os.PathLike | None = None, *, token: str | None = None,
                 port: int | None = None, startup_timeout: float = 15.0, settings: dict | None = None):
        """workdir: directory for settings, DB and log (default: a new temp dir, removed by close()).
        settings: extra SEKMET settings merged (shallowly) over the harness defaults."""
        self._own_workdir = workdir is None
        self.workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="sekmet-fhir-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        # token_urlsafe may begin with "-", which a command line (`--token -x...`) reads as an option: one run
        # in 64 failed that way. A letter first keeps the token random and usable as an argument.
        self.token = token or "t" + secrets.token_urlsafe(24)
        self._fixed_port = port
        self.port = port or 0
        self.startup_timeout = startup_timeout
        self.extra_settings = dict(settings or {})
        self.marker = f"SEKMET test harness {uuid.uuid4().hex[:12]}"  # proves /metadata answers are ours
        self.db_path = self.workdir / "sekmet.db"
        self.log_path = self.workdir / "sekmet.log"
        self.config_path = self.workdir / "settings.json"
        self.startup_seconds: float | None = None
        self._proc: subprocess.Popen | None = None
        self._log_file = None
        self._cmd = find_sekmet()

    # -------- URLs / auth
    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/fhir"

    def auth_headers(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.token}"}

    url_of_dead_server = staticmethod(url_of_dead_server)

    # -------- lifecycle
    @property
    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _settings(self) -> dict:
        s = {
            "base_url": self.base_url,
            "host": "127.0.0.1",
            "port": self.port,
            "data_dir": str(self.workdir / "data"),
            "db_path": str(self.db_path),
            "own_private_key_path": str(self.workdir / "keys" / "sekmet_private.pem"),
            "software_name": self.marker,
            "server_auth": {"types": ["bearer"], "tokens": [self.token]},
            "simulator": {"enabled": False},
            "log_inbound": False,
        }
        s.update(self.extra_settings)
        return s

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SEKMET_")}
        env.update({
            "SEKMET_CONFIG": str(self.config_path),
            "SEKMET_BASE_URL": self.base_url,
            "SEKMET_DB": str(self.db_path),
            "SEKMET_PORT": str(self.port),
            "PYTHONUNBUFFERED": "1",
            "NO_COLOR": "1",
            "_TYPER_STANDARD_TRACEBACK": "1",  # plain tracebacks in the log instead of rich boxes
        })
        return env

    def start(self) -> "FhirServer":
        """Start the server and wait until GET /fhir/metadata answers (raises FhirServerError otherwise).
        The first start picks a free port (retrying on a port race); later starts reuse the same port."""
        if self.is_running:
            return self
        attempts = 1 if (self._fixed_port or self.port) else 3
        last_error: FhirServerError | None = None
        for _ in range(attempts):
            if not self.port:
                self.port = free_port()
            try:
                self._spawn_and_wait()
                _LIVE.add(self)
                return self
            except FhirServerError as e:
                last_error = e
                self.stop()
                if self._fixed_port or "address already in use" not in str(e).lower():
                    raise
                self.port = 0  # lost a race for the port: try another one
        assert last_error is not None
        raise last_error

    def _spawn_and_wait(self) -> None:
        self.config_path.write_text(json.dumps(self._settings(), indent=2))
        cmd = [*self._cmd, "serve", "--config", str(self.config_path), "--host", "127.0.0.1",
               "--port", str(self.port)]
        self._log_file = open(self.log_path, "ab")
        self._log_file.write(f"\n===== {time.strftime('%H:%M:%S')} starting: {' '.join(cmd)}\n".encode())
        self._log_file.flush()
        self._log_offset = self._log_file.tell()
        t0 = time.monotonic()
        popen_kw: dict[str, Any] = {}
        if os.name == "posix":
            popen_kw["start_new_session"] = True  # Ctrl-C in the terminal goes to pytest, which then stops us
            if sys.platform.startswith("linux"):
                popen_kw["preexec_fn"] = _set_pdeathsig  # die with the test process even on SIGKILL
        self._proc = subprocess.Popen(cmd, cwd=self.workdir, env=self._env(), stdin=subprocess.DEVNULL,
                                      stdout=self._log_file, stderr=subprocess.STDOUT, **popen_kw)
        deadline = t0 + self.startup_timeout
        last = "no answer yet"
        while True:
            code = self._proc.poll()
            if code is not None:
                raise FhirServerError(self._failure(f"sekmet exited with code {code} during start-up", cmd))
            try:
                r = http_request("GET", f"{self.base_url}/metadata", headers={"Accept": "application/fhir+json"},
                                 timeout=2)
                if r.status == 200 and r.json().get("software", {}).get("name") == self.marker:
                    break
                last = f"HTTP {r.status} from /metadata" + ("" if r.status != 200 else " of a different server")
            except (OSError, ValueError) as e:
                last = f"{type(e).__name__}: {e}"
            if time.monotonic() > deadline:
                raise FhirServerError(self._failure(
                    f"sekmet did not answer {self.base_url}/metadata within {self.startup_timeout:.0f}s "
                    f"(last: {last})", cmd))
            time.sleep(0.05)
        self.startup_seconds = time.monotonic() - t0

    def _failure(self, what: str, cmd: list[str]) -> str:
        return (f"{what}\ncommand: {' '.join(cmd)}\nworkdir: {self.workdir}\n"
                f"--- last lines of {self.log_path} ---\n{self.log_tail(since_start=True)}")

    def log_tail(self, lines: int = 60, since_start: bool = False) -> str:
        try:
            with open(self.log_path, "rb") as f:
                if since_start:
                    f.seek(getattr(self, "_log_offset", 0))
                data = f.read()
        except OSError:
            return "(no log)"
        return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM, wait up to `timeout`, then SIGKILL. Safe to call repeatedly."""
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.terminate()
                try:
                    proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        proc.kill()
                    proc.wait(timeout)
        if self._log_file is not None:
            with contextlib.suppress(Exception):
                self._log_file.close()
            self._log_file = None
        _LIVE.discard(self)

    def restart(self) -> "FhirServer":
        self.stop()
        return self.start()

    @contextlib.contextmanager
    def stopped(self) -> Iterator["FhirServer"]:
        """Stop the server for the duration of the block; always started again afterwards (same URL/token)."""
        self.stop()
        try:
            yield self
        finally:
            self.start()

    def reset(self) -> None:
        """Restart with an empty database."""
        self.stop()
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(f"{self.db_path}{suffix}")
        self.start()

    def close(self) -> None:
        """Stop and, if the workdir was created by us, delete it."""
        self.stop()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> "FhirServer":
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc) -> None:
        self.close()

    # -------- HTTP
    def url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return f"{self.base_url}/{path_or_url.lstrip('/')}" if path_or_url else self.base_url

    def request(self, method: str, path_or_url: str = "", *, params: dict | list | None = None,
                json_body: Any = None, form: dict | list | None = None, token: Any = DEFAULT_TOKEN,
                headers: dict[str, str] | None = None, timeout: float = 10.0) -> Response:
        """HTTP request against the server. `path_or_url` is relative to base_url (e.g. "Condition") or absolute.
        token: default = this server's token; None = no Authorization header; a str = that bearer token."""
        url = self.url(path_or_url)
        if params:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(params, doseq=True)
        h = {"Accept": "application/fhir+json"}
        if token is DEFAULT_TOKEN:
            h.update(self.auth_headers())
        elif token is not None:
            h["Authorization"] = f"Bearer {token}"
        body = None
        if json_body is not None:
            body = json.dumps(json_body).encode()
            h["Content-Type"] = "application/fhir+json"
        elif form is not None:
            body = urllib.parse.urlencode(form, doseq=True).encode()
            h["Content-Type"] = "application/x-www-form-urlencoded"
        h.update(headers or {})
        return http_request(method, url, headers=h, body=body, timeout=timeout)

    def get(self, path_or_url: str = "", **kw: Any) -> Response:
        return self.request("GET", path_or_url, **kw)

    def post(self, path_or_url: str = "", **kw: Any) -> Response:
        return self.request("POST", path_or_url, **kw)

    def load(self, bundle: dict, timeout: float = 60.0) -> dict:
        """POST a transaction/batch Bundle to the base URL; assert it fully succeeded; return the response Bundle."""
        assert bundle.get("resourceType") == "Bundle" and bundle.get("type") in ("transaction", "batch"), \
            "load() needs a transaction or batch Bundle"
        r = self.post("", json_body=bundle, timeout=timeout)
        assert r.status == 200, f"loading the Bundle failed: HTTP {r.status}: {r.text[:3000]}"
        out = r.json()
        assert out.get("type") == f"{bundle['type']}-response", f"unexpected answer: {r.text[:2000]}"
        entries = out.get("entry", [])
        assert len(entries) == len(bundle.get("entry", [])), \
            f"{len(entries)} response entries for {len(bundle.get('entry', []))} request entries"
        bad = [(i, e.get("response")) for i, e in enumerate(entries)
               if not str(e.get("response", {}).get("status", "")).startswith(("200", "201"))]
        assert not bad, f"Bundle entries failed: {json.dumps(bad)[:3000]}"
        return out

    def load_resources(self, resources: Iterable[dict]) -> dict:
        """load() a transaction of PUT entries for `resources`."""
        return self.load(transaction_bundle(resources, self.base_url))

    def search_all(self, path_or_url: str, params: dict | list | None = None, *, max_pages: int = 100,
                   **kw: Any) -> tuple[list[dict], list[dict]]:
        """GET a search and follow `next` links; returns (matched resources, page Bundles). Asserts 200s."""
        resources: list[dict] = []
        pages: list[dict] = []
        url: str | None = self.url(path_or_url)
        first = True
        while url:
            assert len(pages) < max_pages, f"more than {max_pages} pages; last next link: {url}"
            r = self.get(url, params=params if first else None, **kw)
            first = False
            assert r.status == 200, f"GET {r.url}: HTTP {r.status}: {r.text[:2000]}"
            page = r.json()
            assert page.get("resourceType") == "Bundle" and page.get("type") == "searchset", r.text[:500]
            pages.append(page)
            resources += [e["resource"] for e in page.get("entry", [])
                          if e.get("search", {}).get("mode", "match") == "match"]
            url = next((l["url"] for l in page.get("link", []) if l.get("relation") == "next"), None)
        return resources, pages
