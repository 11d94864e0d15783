"""Tests of the FHIR test-server harness itself (and of the SEKMET behaviour the CDS service relies on)."""
from __future__ import annotations

import socket
import urllib.error
from pathlib import Path

import pytest

import tests.fhir_server as harness
from tests.fhir_server import FhirServer, FhirServerError, http_request, transaction_bundle, url_of_dead_server

PATIENT_ID = "harness-pat-1"
N_CONDITIONS = 30


def _patient(pid: str = PATIENT_ID) -> dict:
    return {"resourceType": "Patient", "id": pid, "active": True, "gender": "female", "birthDate": "1961-04-12",
            "name": [{"family": "Harness", "given": ["Test"]}]}


def _condition(i: int, pid: str = PATIENT_ID) -> dict:
    return {
        "resourceType": "Condition", "id": f"{pid}-cond-{i:02d}",
        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                       "code": "active" if i % 3 else "resolved"}]},
        "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                                           "code": "confirmed"}]},
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category",
                                  "code": "problem-list-item"}]}],
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": str(1000 + i), "display": f"Problem {i}"}]},
        "subject": {"reference": f"Patient/{pid}"},
        "onsetDateTime": f"20{10 + i % 10:02d}-01-15",
    }


def _observation(i: int, status: str, pid: str = PATIENT_ID) -> dict:
    return {
        "resourceType": "Observation", "id": f"{pid}-obs-{i}", "status": status,
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                  "code": "laboratory"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4", "display": "Hemoglobin A1c"}]},
        "subject": {"reference": f"Patient/{pid}"},
        "effectiveDateTime": f"2024-0{i + 1}-01T08:00:00Z",
        "valueQuantity": {"value": 6.5 + i / 10, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"},
    }


def _medication_request(pid: str = PATIENT_ID) -> dict:
    return {
        "resourceType": "MedicationRequest", "id": f"{pid}-medrx-1", "status": "active", "intent": "order",
        "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                                  "code": "860975", "display": "metformin 500 MG"}]},
        "subject": {"reference": f"Patient/{pid}"}, "authoredOn": "2024-01-10",
        "dosageInstruction": [{"text": "500 mg twice daily"}],
    }


def _procedure(pid: str = PATIENT_ID) -> dict:
    return {"resourceType": "Procedure", "id": f"{pid}-proc-1", "status": "completed",
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "80146002", "display": "Appendectomy"}]},
            "subject": {"reference": f"Patient/{pid}"}, "performedDateTime": "2015-06-01"}


def _bundle(base_url: str) -> dict:
    resources = [_patient(), *(_condition(i) for i in range(N_CONDITIONS)),
                 _observation(0, "final"), _observation(1, "final"), _observation(2, "preliminary"),
                 _medication_request(), _procedure()]
    return transaction_bundle(resources, base_url)


@pytest.fixture(scope="module")
def loaded(fhir_server):
    """The test data set, loaded once for this module."""
    return fhir_server.load(_bundle(fhir_server.base_url))


def _next(bundle: dict) -> str | None:
    return next((l["url"] for l in bundle.get("link", []) if l["relation"] == "next"), None)


# ------------------------------------------------------------------ start-up

def test_server_starts_quickly_and_serves_r4_metadata(fhir_server):
    assert fhir_server.is_running
    assert fhir_server.base_url.startswith("http://127.0.0.1:") and fhir_server.base_url.endswith("/fhir")
    assert fhir_server.startup_seconds is not None and fhir_server.startup_seconds < 15
    r = fhir_server.get("metadata", token=None)  # metadata is public
    assert r.status == 200
    cap = r.json()
    assert cap["resourceType"] == "CapabilityStatement"
    assert cap["fhirVersion"] == "4.0.1"
    assert cap["implementation"]["url"] == fhir_server.base_url  # SEKMET_BASE_URL took effect
    # everything lives in the temp workdir, nothing in the repo
    assert fhir_server.db_path.parent == fhir_server.workdir and fhir_server.db_path.exists()
    repo = Path(__file__).resolve().parents[2]
    assert not any((repo / p).exists() for p in ("data/sekmet.db", "sekmet.db", "settings.yaml", "keys"))


# ------------------------------------------------------------------ loading

def test_transaction_with_put_entries_loads_and_is_idempotent(fhir_server, loaded):
    statuses = [e["response"]["status"] for e in loaded["entry"]]
    assert len(statuses) == 1 + N_CONDITIONS + 3 + 2
    assert all(s.startswith(("200", "201")) for s in statuses)
    # ids are ours
    assert loaded["entry"][0]["resource"]["id"] == PATIENT_ID
    # loading again updates in place (200) instead of duplicating
    again = fhir_server.load(_bundle(fhir_server.base_url))
    assert {e["response"]["status"] for e in again["entry"]} == {"200 OK"}
    r = fhir_server.get("Condition", params={"patient": PATIENT_ID, "_summary": "count"})
    assert r.status == 200 and r.json()["total"] == N_CONDITIONS
    for path in (f"Patient/{PATIENT_ID}", f"MedicationRequest/{PATIENT_ID}-medrx-1",
                 f"Procedure/{PATIENT_ID}-proc-1", f"Observation/{PATIENT_ID}-obs-2"):
        assert fhir_server.get(path).status == 200, path


def test_invalid_resource_fails_the_whole_transaction(fhir_server):
    bad = {"resourceType": "Observation", "id": "harness-invalid-obs", "status": "final"}  # no code: invalid R4
    good = _patient("harness-never-created")
    r = fhir_server.post("", json_body=transaction_bundle([good, bad]))
    assert r.status == 400
    assert r.json()["resourceType"] == "OperationOutcome"
    assert fhir_server.get("Patient/harness-never-created").status == 404  # rolled back
    with pytest.raises(AssertionError, match="HTTP 400"):
        fhir_server.load(transaction_bundle([bad]))


# ------------------------------------------------------------------ search & paging

def test_condition_search_pages_with_absolute_next_links_to_all_30(fhir_server, loaded):
    r = fhir_server.get(f"Condition?patient={PATIENT_ID}&_count=10")
    assert r.status == 200
    page = r.json()
    assert page["resourceType"] == "Bundle" and page["type"] == "searchset"
    assert page["total"] == N_CONDITIONS
    assert len(page["entry"]) == 10
    nxt = _next(page)
    assert nxt and nxt.startswith(fhir_server.base_url + "/Condition?")  # absolute, from SEKMET_BASE_URL
    assert "_count=10" in nxt and "_offset=10" in nxt and f"patient={PATIENT_ID}" in nxt

    ids = [e["resource"]["id"] for e in page["entry"]]
    pages = 1
    while nxt:
        r = fhir_server.get(nxt)  # follow the link exactly as given
        assert r.status == 200, r.text
        page = r.json()
        pages += 1
        ids += [e["resource"]["id"] for e in page.get("entry", []) if e["search"]["mode"] == "match"]
        nxt = _next(page)
    assert pages == 3
    assert sorted(ids) == sorted(f"{PATIENT_ID}-cond-{i:02d}" for i in range(N_CONDITIONS))
    assert len(set(ids)) == N_CONDITIONS

    # same via the helper
    resources, pages_ = fhir_server.search_all("Condition", {"patient": f"Patient/{PATIENT_ID}", "_count": "7"})
    assert len(pages_) == 5 and len({c["id"] for c in resources}) == N_CONDITIONS


def test_next_links_need_the_token_too(fhir_server, loaded):
    nxt = _next(fhir_server.get("Condition", params={"patient": PATIENT_ID, "_count": "10"}).json())
    assert fhir_server.get(nxt, token=None).status == 401


def test_post_search_works(fhir_server, loaded):
    r = fhir_server.post("Condition/_search", form={"patient": PATIENT_ID, "_count": "10"})
    assert r.status == 200
    page = r.json()
    assert page["type"] == "searchset" and page["total"] == N_CONDITIONS and len(page["entry"]) == 10
    assert _next(page).startswith(fhir_server.base_url + "/Condition?")  # next is a GET URL


def test_status_parameter_support(fhir_server, loaded):
    obs = fhir_server.get("Observation", params={"patient": PATIENT_ID, "status": "final"}).json()
    assert obs["total"] == 2
    mr = fhir_server.get("MedicationRequest", params={"patient": PATIENT_ID, "status": "active"}).json()
    assert mr["total"] == 1
    proc = fhir_server.get("Procedure", params={"patient": PATIENT_ID, "status": "completed"}).json()
    assert proc["total"] == 1
    active = fhir_server.get("Condition", params={"patient": PATIENT_ID, "clinical-status": "active"}).json()
    assert active["total"] == 20

    # Condition has no `status` search parameter: SEKMET ignores it (all 30 match) and says so in an
    # OperationOutcome entry with search.mode=outcome; the next link drops the ignored parameter.
    cond = fhir_server.get("Condition", params={"patient": PATIENT_ID, "status": "active", "_count": "10"}).json()
    assert cond["total"] == N_CONDITIONS
    outcome = [e for e in cond["entry"] if e["search"]["mode"] == "outcome"]
    assert len(outcome) == 1 and outcome[0]["resource"]["resourceType"] == "OperationOutcome"
    assert "status" in outcome[0]["resource"]["issue"][0]["diagnostics"]
    assert "status=" not in _next(cond)
    strict = fhir_server.get("Condition", params={"patient": PATIENT_ID, "status": "active"},
                             headers={"Prefer": "handling=strict"})
    assert strict.status == 400


# ------------------------------------------------------------------ auth

def test_wrong_token_is_401(fhir_server, loaded):
    r = fhir_server.get("Condition", params={"patient": PATIENT_ID}, token="not-the-token")
    assert r.status == 401
    assert r.header("WWW-Authenticate", "").startswith("Bearer")
    body = r.json()
    assert body["resourceType"] == "OperationOutcome" and body["issue"][0]["code"] == "login"
    assert "entry" not in body


def test_no_token_is_401(fhir_server, loaded):
    for path in ("Condition", f"Patient/{PATIENT_ID}"):
        r = fhir_server.get(path, params={"patient": PATIENT_ID} if path == "Condition" else None, token=None)
        assert r.status == 401, path
    r = fhir_server.post("", json_body=transaction_bundle([_patient("harness-unauth")]), token=None)
    assert r.status == 401
    r = fhir_server.get("Patient/harness-unauth", headers={"Authorization": "Basic dXNlcjpwdw=="}, token=None)
    assert r.status == 401


# ------------------------------------------------------------------ server down

def test_dead_server_url_refuses_connections():
    url = url_of_dead_server()
    assert url.startswith("http://127.0.0.1:") and url.endswith("/fhir")
    with pytest.raises(urllib.error.URLError) as exc:
        http_request("GET", f"{url}/metadata", timeout=2)
    assert isinstance(exc.value.reason, ConnectionRefusedError)
    assert FhirServer.url_of_dead_server() != url


def test_stop_and_start_keeps_url_token_and_data(fhir_server, loaded):
    base, token = fhir_server.base_url, fhir_server.token
    with fhir_server.stopped():
        assert not fhir_server.is_running
        with pytest.raises(urllib.error.URLError) as exc:
            http_request("GET", f"{base}/metadata", timeout=2)
        assert isinstance(exc.value.reason, ConnectionRefusedError)
    assert fhir_server.is_running
    assert (fhir_server.base_url, fhir_server.token) == (base, token)
    assert fhir_server.startup_seconds < 15
    assert fhir_server.get(f"Patient/{PATIENT_ID}").status == 200  # SQLite file survived the restart


def test_standalone_context_manager_cleans_up():
    with FhirServer() as srv:
        workdir, proc = srv.workdir, srv._proc
        assert srv.get("metadata").status == 200
        assert srv.get("Patient", token=None).status == 401
    assert proc.poll() is not None
    assert not workdir.exists()


def test_start_failure_reports_the_server_log(tmp_path):
    srv = FhirServer(tmp_path, settings={"server_auth": {"types": ["no-such-scheme"]}})
    with pytest.raises(FhirServerError) as exc:
        srv.start()
    msg = str(exc.value)
    assert "exited with code" in msg and "no-such-scheme" in msg  # pydantic error from the log tail
    assert not srv.is_running


def test_port_race_is_retried(monkeypatch, tmp_path):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    ports = iter([busy.getsockname()[1]])
    real = harness.free_port
    monkeypatch.setattr(harness, "free_port", lambda: next(ports, None) or real())
    try:
        with FhirServer(tmp_path) as srv:
            assert srv.port != busy.getsockname()[1]
            assert srv.get("metadata").status == 200
            assert "address already in use" in srv.log_tail(200).lower()
    finally:
        busy.close()
