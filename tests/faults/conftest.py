"""Fault-injection fixtures: the real FHIR server (SEKMET), one patient loaded into it, a fault-injecting
proxy in front of it (fresh for each test) and a recorder standing for another host.

``fhir_server`` is the session's server from tests/conftest.py.
"""
from __future__ import annotations

import pytest

from tests.faults.proxy import FaultProxy, Recorder
from tests.support.fhir_data import paging_patient

PID = "faults-pkp-1"
N_CONDITIONS = 25
PAGE_SIZE = 10  # the service's FHIR_PAGE_SIZE in these tests: 3 pages of Conditions


def patient_resources() -> list[dict]:
    return paging_patient(PID, N_CONDITIONS)


@pytest.fixture(scope="session")
def loaded(fhir_server):
    fhir_server.load_resources(patient_resources())
    return fhir_server


@pytest.fixture
def proxy(loaded):
    with FaultProxy(loaded.base_url) as fault_proxy:
        yield fault_proxy


@pytest.fixture
def elsewhere():
    with Recorder() as recorder:
        yield recorder
