"""Fault-injection fixtures: the real FHIR server (SEKMET), one patient loaded into it, a fault-injecting
proxy in front of it (fresh for each test) and a recorder standing for another host.

``fhir_server`` re-declares the session fixture of tests/integration/conftest.py (same FhirServer, its own
instance) rather than importing that conftest, which would also import its collection hook.
"""
from __future__ import annotations

import pytest

from tests.faults.proxy import FaultProxy, Recorder
from tests.fhir_server import FhirServer

PID = "faults-pkp-1"
N_CONDITIONS = 25
PAGE_SIZE = 10  # the service's FHIR_PAGE_SIZE in these tests: 3 pages of Conditions


def patient_resources() -> list[dict]:
    subject = {"reference": f"Patient/{PID}"}
    out = [{"resourceType": "Patient", "id": PID, "gender": "female", "birthDate": "1961-02-03"}]
    for i in range(N_CONDITIONS):
        out.append({"resourceType": "Condition", "id": f"{PID}-c{i}", "subject": subject,
                    "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                                   "code": "active"}]},
                    "code": {"coding": [{"system": "http://snomed.info/sct", "code": "30989003",
                                         "display": "Knee pain"}]}})
    out.append({"resourceType": "Observation", "id": f"{PID}-o1", "status": "final", "subject": subject,
                "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4", "display": "Heart rate"}]},
                "effectiveDateTime": "2026-11-21T09:00:00Z",
                "valueQuantity": {"value": 88, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"}})
    out.append({"resourceType": "MedicationRequest", "id": f"{PID}-m1", "status": "active", "intent": "order",
                "subject": subject, "medicationCodeableConcept": {"coding": [{
                    "system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1364445",
                    "display": "apixaban 5 MG Oral Tablet"}]}})
    out.append({"resourceType": "Procedure", "id": f"{PID}-p1", "status": "completed", "subject": subject,
                "code": {"coding": [{"system": "http://snomed.info/sct", "code": "609588000",
                                     "display": "Total knee replacement"}]},
                "performedDateTime": "2026-10-30"})
    return out


@pytest.fixture(scope="session")
def fhir_server(tmp_path_factory: pytest.TempPathFactory):
    server = FhirServer(tmp_path_factory.mktemp("sekmet-faults"))
    try:
        server.start()
        yield server
    finally:
        server.stop()


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
