"""The hook with no prefetch, against a real FHIR R4 server (sekmet) on 127.0.0.1: the service fetches
what it needs with the EHR's token, follows paging, and answers 412 when the server refuses or is down."""
from __future__ import annotations

import pytest

from cds_service import create_app
from tests.conftest import SignedClient, make_config
from tests.fhir_server import url_of_dead_server
from tests.support.fhir_data import PAGING_NOW, hook_request, paging_patient
from tests.support.service import capturing_records

SERVICE = "/cds-services/posterior-knee-pain"
PID = "int-pkp-1"
N_CONDITIONS = 45


def resources() -> list[dict]:
    out = paging_patient(PID, N_CONDITIONS)
    out.append({"resourceType": "MedicationRequest", "id": f"{PID}-m2", "status": "stopped", "intent": "order",
                "subject": {"reference": f"Patient/{PID}"}, "medicationCodeableConcept": {"text": "warfarin 3 mg (stopped)"}})  # a course that ended
    out.append({"resourceType": "MedicationRequest", "id": f"{PID}-m3", "status": "entered-in-error", "intent": "order",
                "subject": {"reference": f"Patient/{PID}"}, "medicationCodeableConcept": {"text": "warfarin 5 mg"}})
    return out


@pytest.fixture(scope="module")
def loaded(fhir_server):
    fhir_server.load_resources(resources())
    return fhir_server


@pytest.fixture
def service(tmp_path, client_key):
    """An app configured for the local server, recording each outbound request and the record it built."""
    app = create_app(make_config(tmp_path, client_key, FHIR_PAGE_SIZE=20, FHIR_FETCH_DEADLINE_SECONDS=10,
                                 CLOCK_NOW=PAGING_NOW))
    sent: list[tuple[str, str | None]] = []
    app.extensions["cds"].fetch_settings.session.hooks["response"].append(
        lambda response, **_: sent.append((response.request.url, response.request.headers.get("Authorization"))))
    with capturing_records(app) as records:
        yield SignedClient(app.test_client(), client_key), sent, records


def body_for(server_url: str, token: str | None) -> dict:
    body = hook_request(pid=PID, fhirServer=server_url)
    if token is not None:
        body["fhirAuthorization"] = {"access_token": token, "token_type": "Bearer", "expires_in": 300,
                                     "scope": "patient/*.read", "subject": "cds-service", "patient": PID}
    return body


def test_no_prefetch_fetches_everything_with_the_token_and_follows_paging(loaded, service):
    client, sent, records = service
    response = client.post(SERVICE, json=body_for(loaded.base_url, loaded.token))
    assert response.status_code == 200
    assert response.get_json() == {"cards": []}
    assert all(auth == f"Bearer {loaded.token}" for _, auth in sent)
    condition_pages = [url for url, _ in sent if "/Condition" in url]
    assert len(condition_pages) == 3  # 45 conditions at 20 a page
    (record,) = records
    assert record.patient_id == PID
    assert references(record, "Condition") == [f"Condition/{PID}-c{i}" for i in range(N_CONDITIONS)]
    assert references(record, "Observation") == [f"Observation/{PID}-o1"]
    # The active order and the stopped one (a course that ended), not the one entered in error: the template
    # asks for status=active,completed,stopped and the FHIR server applies it.
    assert sorted(references(record, "MedicationRequest")) == [f"MedicationRequest/{PID}-m1",
                                                               f"MedicationRequest/{PID}-m2"]
    assert references(record, "Procedure") == [f"Procedure/{PID}-p1"]


def references(record, kind: str) -> list[str]:
    return sorted((f.evidence.reference for f in record.facts if f.kind == kind),
                  key=lambda ref: (len(ref), ref))


def test_refused_token_is_412(loaded, service):
    client, sent, _ = service
    response = client.post(SERVICE, json=body_for(loaded.base_url, "not-the-token"))
    assert response.status_code == 412
    text = response.get_data(as_text=True)
    assert "fhirServer answered 401" in text
    assert "not-the-token" not in text


def test_missing_token_on_a_protected_server_is_412(loaded, service):
    client, _, _ = service
    assert client.post(SERVICE, json=body_for(loaded.base_url, None)).status_code == 412


def test_server_down_is_412(loaded, service):
    client, _, _ = service
    with loaded.stopped():
        response = client.post(SERVICE, json=body_for(loaded.base_url, loaded.token))
    assert response.status_code == 412
    assert "could not be reached" in response.get_data(as_text=True)


def test_server_that_never_existed_is_412(service):
    client, _, _ = service
    assert client.post(SERVICE, json=body_for(url_of_dead_server(), "t")).status_code == 412


def test_partial_prefetch_is_completed_from_the_server(loaded, service):
    client, sent, records = service
    body = body_for(loaded.base_url, loaded.token)
    body["prefetch"] = {"patient": resources()[0], "conditions": None}
    assert client.post(SERVICE, json=body).status_code == 200
    assert not any("/Condition" in url or "/Patient" in url for url, _ in sent)
    assert references(records[0], "Condition") == []  # null: the EHR said there are none
