"""Fixtures for the command-line tools: running `cds-service` in process, a real FHIR server (sekmet)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from cds_service import cli
from tests.conftest import started_fhir_server


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    """cds_service.cli.main(argv) in this process: (exit code, stdout, stderr)."""
    capsys.readouterr()  # drop anything printed before
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def entry_point() -> str:
    """The installed `cds-service` console script of this interpreter's environment."""
    found = shutil.which("cds-service", path=os.path.dirname(sys.executable)) or shutil.which("cds-service")
    assert found, "the cds-service entry point is not installed (pip install -e .)"
    return found


def run_entry_point(*argv, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([entry_point(), *map(str, argv)], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def sekmet(tmp_path_factory):
    """An empty FHIR server for each module, not the session's: test_demo_load.py counts what its first load
    creates, and test_check.py that it loaded one demo patient only (the other demo patients must be absent)."""
    with started_fhir_server(tmp_path_factory.mktemp("sekmet-cli")) as server:
        yield server
