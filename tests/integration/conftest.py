"""Integration-test fixtures: a real FHIR R4 server (SEKMET) for the whole test session.

``fhir_server`` (tests/conftest.py) yields a started :class:`fhir_server.FhirServer` (see tests/fhir_server.py for the API and the
documented SEKMET behaviour): ``base_url``, ``token``, ``load(bundle)``, ``get()``/``request()``,
``search_all()``, ``stop()``/``start()``/``stopped()``, ``url_of_dead_server()``.

The server is shared by all tests of the session: use test-specific resource ids (e.g. a per-test patient id)
instead of assuming an empty database. A test that stops the server must start it again (``with
fhir_server.stopped(): ...`` does that). Server log, settings and DB live in pytest's tmp dir
(``<basetemp>/sekmet0/``), kept for the last few runs for post-mortem.
"""
from __future__ import annotations

from pathlib import Path


def pytest_collection_modifyitems(config, items):
    """Everything under tests/integration/ is marked `integration` (deselect with -m "not integration")."""
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.path)).resolve().parents:
            item.add_marker("integration")
