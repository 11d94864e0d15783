"""`cds-service demo serve`: the service and a FHIR server holding the demo patients, both on loopback, from
one command — the shortest way from a clone to a card.

The FHIR server is sekmet (PyPI sekmet-fhir, the `demo` extra; the server the tests use), open (no token:
the public CDS Hooks sandbox sends none), its database in a throw-away folder. The demo patients are loaded
with their dates moved to today (tools/demo.py). The service then runs as `serve` runs it, with the
development settings a demo needs and nothing beyond them: any caller trusted (loudly logged), and only this
FHIR server allowed. Both bind 127.0.0.1 only; nothing here is reachable from another machine.
"""
from __future__ import annotations

import ctypes
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from . import demo

HOST = "127.0.0.1"
SANDBOX = "https://sandbox.cds-hooks.org"


class DemoServerError(Exception):
    """The local FHIR server could not be started or loaded."""


def sekmet_command() -> list[str]:
    """The `sekmet` CLI of this interpreter's environment, or DemoServerError saying how to install it."""
    found = shutil.which("sekmet", path=os.path.dirname(sys.executable)) or shutil.which("sekmet")
    if found:
        return [found]
    if importlib.util.find_spec("sekmet") is not None:
        return [sys.executable, "-c", "from sekmet.cli import app; app()"]
    raise DemoServerError("the demo's FHIR server is sekmet-fhir, which is not installed: "
                          "pip install -e '.[demo]' (or pip install sekmet-fhir==0.1.1)")


@dataclass
class LocalFhirServer:
    port: int
    workdir: Path
    process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}/fhir"

    def start(self, timeout: float = 30.0) -> None:
        # Another server on the port would answer /metadata below and take the demo patients: refuse first.
        with socket.socket() as probe:
            try:
                probe.bind((HOST, self.port))
            except OSError as error:
                raise DemoServerError(f"cannot start the FHIR server on {HOST}:{self.port}: {error.strerror} "
                                      "(choose another with --fhir-port)") from None
        settings = {"base_url": self.base_url, "host": HOST, "port": self.port,
                    "data_dir": str(self.workdir / "data"), "db_path": str(self.workdir / "sekmet.db"),
                    "own_private_key_path": str(self.workdir / "keys" / "sekmet_private.pem"),
                    "server_auth": {"types": ["none"]}, "simulator": {"enabled": False}, "log_inbound": False}
        config = self.workdir / "settings.json"
        config.write_text(json.dumps(settings), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("SEKMET_")}
        # SEKMET_BASE_URL is the base it writes into paging links: without it they name its default port.
        env.update(SEKMET_CONFIG=str(config), SEKMET_BASE_URL=self.base_url, SEKMET_DB=settings["db_path"],
                   SEKMET_PORT=str(self.port), NO_COLOR="1")
        log = open(self.workdir / "sekmet.log", "ab")
        self.process = subprocess.Popen(
            [*sekmet_command(), "serve", "--config", str(config), "--host", HOST, "--port", str(self.port)],
            cwd=self.workdir, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise DemoServerError(f"the FHIR server stopped at start-up (port {self.port} in use?); its log: "
                                      f"{self.workdir / 'sekmet.log'}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/metadata", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise DemoServerError(f"the FHIR server did not answer within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def _die_with_parent() -> None:  # in the child between fork and exec: no orphaned FHIR server
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - best effort; stop() is the normal path
        pass


def start(fhir_port: int) -> tuple[LocalFhirServer, demo.LoadResult]:
    """The FHIR server started on `fhir_port` with every demo patient loaded, dated today."""
    server = LocalFhirServer(fhir_port, Path(tempfile.mkdtemp(prefix="cds-demo-")))
    server.start()
    try:
        return server, demo.load(server.base_url, demo.demo_patients())
    except demo.DemoLoadError as error:
        server.stop()
        raise DemoServerError(str(error)) from None


def service_environment(fhir_base: str, workdir: Path, service_port: int) -> dict[str, str]:
    """The CDS_* settings of the demo service: development trust, this FHIR server only, a throw-away store."""
    return {"CDS_REQUIRE_JWT": "false", "CDS_FHIR_ALLOW_HTTP": "true", "CDS_FHIR_SERVERS": json.dumps([fhir_base]),
            "CDS_FEEDBACK_DATABASE": f"sqlite:///{workdir / 'feedback.sqlite3'}",
            "CDS_PUBLIC_BASE_URL": f"http://{HOST}:{service_port}"}


def banner(server: LocalFhirServer, loaded: demo.LoadResult, service_port: int) -> str:
    service = f"http://{HOST}:{service_port}"
    first = loaded.patients[0].id
    body = json.dumps({"hook": "patient-view", "hookInstance": "d1b6a3f0-0000-4000-8000-000000000001",
                       "fhirServer": server.base_url,
                       "context": {"userId": "Practitioner/demo", "patientId": first}})
    return "\n".join([
        f"Demo FHIR server: {server.base_url} ({loaded.resources} resources, {len(loaded.patients)} demo patients, "
        f"dates moved {loaded.days_shifted:+d} days to today)",
        f"CDS service:      {service}/cds-services (any caller trusted: a demo, never production)",
        "",
        "A card, from another terminal (the service reads the patient from the FHIR server):",
        f"  curl -s {service}/cds-services/posterior-knee-pain -H 'Content-Type: application/json' \\",
        f"    -d '{body}'",
        "",
        "The same patient in a CDS Hooks sandbox (the public one, or tests/browser/sandbox/build served locally):",
        f"  {SANDBOX}/?serviceDiscoveryURL={service}/cds-services&fhirServiceUrl={server.base_url}"
        f"&patientId={first}",
        "Other patients: `cds-service demo list`. Stop with Ctrl-C.",
        "",
    ])
