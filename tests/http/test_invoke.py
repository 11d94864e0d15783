"""POST /cds-services/posterior-knee-pain (CDS Hooks 2.0 §Calling a CDS Service, patient-view hook)."""
from __future__ import annotations

import dataclasses
import json
import pathlib

import pytest

from cds_service import create_app
from cds_service.services import SERVICES
from tests.conftest import SignedClient, make_config
from tests.support.fhir_data import condition, full_prefetch, hook_request, patient, searchset

SERVICE = "/cds-services/posterior-knee-pain"


def post(client, body, **kwargs):
    return client.post(SERVICE, data=json.dumps(body) if not isinstance(body, (str, bytes)) else body,
                       content_type="application/json", **kwargs)


def issue(response) -> dict:
    return response.get_json()["issue"][0]


def test_full_prefetch_answers_200_with_cards(client):
    response = post(client, hook_request(prefetch=full_prefetch()))
    assert response.status_code == 200
    assert response.get_json() == {"cards": []}


def test_null_prefetch_values_mean_no_data(client):
    prefetch = full_prefetch()
    for key in ("conditions", "observations", "medications", "procedures"):
        prefetch[key] = None
    assert post(client, hook_request(prefetch=prefetch)).status_code == 200


def incomplete_card(response) -> dict:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    [card] = [c for c in response.get_json()["cards"] if c["source"]["topic"]["code"] == "incomplete-check"]
    return card


def test_missing_prefetch_without_fhir_server_is_412(client):
    response = post(client, hook_request())
    assert response.status_code == 412
    assert issue(response)["code"] == "incomplete"
    for key in ("patient", "conditions", "observations"):
        assert f"{key}: not prefetched, and the request names no fhirServer" in issue(response)["diagnostics"]
    assert "medications" not in issue(response)["diagnostics"]  # only what makes an answer impossible


def test_patient_alone_missing_is_412(client):
    prefetch = full_prefetch()
    del prefetch["patient"]
    response = post(client, hook_request(prefetch=prefetch))
    assert response.status_code == 412
    assert issue(response)["diagnostics"].startswith("required data could not be obtained: patient: ")


def test_conditions_alone_missing_still_answers_from_observations(client):
    prefetch = full_prefetch()
    del prefetch["conditions"]
    card = incomplete_card(post(client, hook_request(prefetch=prefetch)))
    assert card["indicator"] == "warning"  # the record's core unread: not information only (r34b W1)
    assert card["summary"] == "Check incomplete: Conditions could not be read"
    assert "not prefetched, and the request names no fhirServer" in card["detail"]


CORE_NOW = "2026-11-22T12:00:00Z"


def _vital(code: str, display: str, value: float, unit: str, pid: str = "pat-1") -> dict:
    return {"resourceType": "Observation", "id": f"obs-{code}", "status": "final", "subject": {"reference": f"Patient/{pid}"},
            "effectiveDateTime": "2026-11-22T11:00:00Z",
            "code": {"coding": [{"system": "http://loinc.org", "code": code, "display": display}]},
            "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}}


def test_conditions_missing_names_the_vital_signs_read_at_admission_level(tmp_path, client_key):
    """r34b W1: the problem list unreadable beside SpO2 85 %, heart rate 140, respiratory rate 30: a warning that
    lists them, not an info card naming none."""
    client = SignedClient(create_app(make_config(tmp_path, client_key, CLOCK_NOW=CORE_NOW)).test_client(), client_key)
    prefetch = full_prefetch()
    del prefetch["conditions"]
    prefetch["observations"] = searchset([_vital("59408-5", "Oxygen saturation", 85, "%"), _vital("8867-4", "Heart rate", 140, "/min"),
                                          _vital("9279-1", "Respiratory rate", 30, "/min"), _vital("8310-5", "Body temperature", 36.9, "Cel")])
    card = incomplete_card(post(client, hook_request(prefetch=prefetch)))
    assert card["indicator"] == "warning"
    assert card["summary"] == "Check incomplete: Conditions not read; vital signs at an immediate-admission level on record"
    for reading in ("140 /min", "30 /min", "85 %"):
        assert reading in card["detail"]
    assert "36.9" not in card["detail"]  # a normal temperature is no admission criterion


def test_medication_orders_missing_a_known_dvt_says_anticoagulation_not_known(tmp_path, client_key):
    """r34b W2: with the orders unreadable, 'no active anticoagulant found' would claim what was not read."""
    client = SignedClient(create_app(make_config(tmp_path, client_key, CLOCK_NOW=CORE_NOW)).test_client(), client_key)
    dvt = condition(code="I82.432", system="http://hl7.org/fhir/sid/icd-10-cm",
                    display="Acute embolism and thrombosis of left popliteal vein")
    dvt["verificationStatus"] = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                                             "code": "confirmed"}]}
    dvt["recordedDate"] = "2026-11-17T12:00:00Z"
    prefetch = full_prefetch(conditions=[dvt])
    del prefetch["medications"]
    response = post(client, hook_request(prefetch=prefetch))
    [known] = [c for c in response.get_json()["cards"] if c["source"]["topic"]["code"] == "known-dvt"]
    assert known["summary"].startswith("Active DVT on record, anticoagulation not known")
    assert "no active anticoagulant found" not in known["summary"]
    assert incomplete_card(response)["indicator"] == "info"  # the record's core was read


def test_one_missing_key_without_fhir_server_is_named_on_an_incomplete_check_card(client):
    """No prefetch of medications and nowhere to fetch them: the ?DVT still gets its card, which says
    anticoagulation is unknown, and one info card names what was not read and which checks read it."""
    prefetch = full_prefetch(conditions=[condition()])
    del prefetch["medications"]
    response = post(client, hook_request(prefetch=prefetch))
    cards = {c["source"]["topic"]["code"]: c for c in response.get_json()["cards"]}
    assert list(cards) == ["suspected-dvt", "incomplete-check"]
    assert "Medication orders could not be read: anticoagulation status is not known." in cards["suspected-dvt"]["detail"]
    card = incomplete_card(response)
    assert card["summary"] == "Check incomplete: Medication orders could not be read"
    assert "Suspected deep vein thrombosis" in card["detail"] and "Conditions" not in card["summary"]


def test_refining_sources_missing_without_fhir_server_still_answer_and_say_so(client):
    """A "?DVT" with only the five required keys and no fhirServer: the DVT card fires and says what it could
    not read (MedicationStatement, MedicationAdministration, DiagnosticReport: catalogue refiningSources)."""
    response = post(client, hook_request(prefetch=full_prefetch(conditions=[condition()])))
    assert response.status_code == 200
    [card] = response.get_json()["cards"]
    assert card["source"]["topic"]["code"] == "suspected-dvt"
    for words in ("Medication statements could not be read", "Medication administrations could not be read",
                  "Imaging reports could not be read"):
        assert words in card["detail"]


def test_refining_sources_prefetched_empty_add_no_line(client):
    prefetch = full_prefetch(conditions=[condition()])
    for key in ("medicationStatements", "medicationAdministrations", "diagnosticReports"):
        prefetch[key] = searchset([])
    [card] = post(client, hook_request(prefetch=prefetch)).get_json()["cards"]
    assert "could not be read" not in card["detail"]


def test_operation_outcome_in_prefetch_is_an_error_not_no_data(client):
    prefetch = full_prefetch()
    prefetch["conditions"] = {"resourceType": "OperationOutcome",
                              "issue": [{"severity": "error", "code": "timeout"}]}
    card = incomplete_card(post(client, hook_request(prefetch=prefetch)))
    assert "Conditions" in card["summary"]
    assert "its prefetch failed (OperationOutcome), and the request names no fhirServer" in card["detail"]


def test_bundle_holding_only_an_operation_outcome_is_an_error(client):
    prefetch = full_prefetch()
    prefetch["observations"] = {"resourceType": "Bundle", "type": "searchset", "entry": [
        {"resource": {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "exception"}]},
         "search": {"mode": "outcome"}}]}
    card = incomplete_card(post(client, hook_request(prefetch=prefetch)))
    assert "Observations" in card["summary"] and "its prefetch failed (OperationOutcome)" in card["detail"]


def test_null_patient_cannot_be_no_data(client):
    prefetch = full_prefetch()
    prefetch["patient"] = None
    assert post(client, hook_request(prefetch=prefetch)).status_code == 412


def test_first_page_only_in_prefetch_is_not_taken_as_complete(client):
    prefetch = full_prefetch(conditions=[condition()])
    prefetch["conditions"]["link"] = [{"relation": "next", "url": "https://ehr.example/fhir/Condition?page=2"}]
    response = post(client, hook_request(prefetch=prefetch))
    card = incomplete_card(response)  # the first page is not taken as the whole: no DVT card from it alone
    assert "Conditions" in card["summary"] and "its prefetch held a first page only" in card["detail"]
    assert [c["source"]["topic"]["code"] for c in response.get_json()["cards"]] == ["incomplete-check"]


def test_prefetch_of_another_patient_is_refused(client):
    prefetch = full_prefetch()
    prefetch["patient"] = patient("someone-else")
    response = post(client, hook_request(prefetch=prefetch))
    assert response.status_code == 400
    assert issue(response)["expression"] == ["prefetch.patient"]


def test_prefetch_key_of_the_wrong_type_is_400(client):
    prefetch = full_prefetch()
    prefetch["conditions"] = patient()
    response = post(client, hook_request(prefetch=prefetch))
    assert response.status_code == 400
    assert issue(response)["expression"] == ["prefetch.conditions"]


def test_invalid_resources_are_skipped_not_fatal(app, client, caplog):
    broken = condition(cid="broken")
    broken["clinicalStatus"] = "active"  # a string where a CodeableConcept belongs
    with caplog.at_level("INFO"):
        response = post(client, hook_request(prefetch=full_prefetch(conditions=[broken, condition(cid="ok")])))
    assert response.status_code == 200
    assert "invalid={'Condition': 1}" in caplog.text
    (card,) = response.get_json()["cards"]  # the valid DVT Condition still counts; the broken one does not
    reasons = [r["reference"] for s in card["suggestions"] for a in s["actions"]
               for r in a["resource"].get("reasonReference", [])]
    assert "Condition/ok" in reasons and "Condition/broken" not in reasons


def test_resources_of_another_patient_are_set_aside(client, caplog):
    with caplog.at_level("INFO"):
        response = post(client, hook_request(prefetch=full_prefetch(conditions=[condition(pid="other")])))
    assert response.status_code == 200
    assert "Condition of another patient" in caplog.text


@pytest.mark.parametrize("body", [b"{not json", b"", b"[]", b"\xff\xfe", b"null", b'"text"'])
def test_malformed_json_is_400(client, body):
    response = post(client, body)
    assert response.status_code == 400
    assert issue(response)["code"] == "invalid"


@pytest.mark.parametrize("mutate, path", [
    (lambda b: b.pop("hookInstance"), "$"),
    (lambda b: b.update(hookInstance="not-a-uuid"), "hookInstance"),
    (lambda b: b.pop("context"), "$"),
    (lambda b: b["context"].pop("patientId"), "context"),
    (lambda b: b["context"].update(userId="Device/1"), "context.userId"),
    (lambda b: b["context"].update(encounterId=None), "context.encounterId"),
    (lambda b: b.update(fhirAuthorization={"access_token": "t", "token_type": "Bearer", "scope": "s",
                                           "subject": "c"}), "$"),
    (lambda b: b.update(fhirServer="https://ehr.example/fhir",
                        fhirAuthorization={"access_token": "t", "token_type": "Bearer", "scope": "s"}),
     "fhirAuthorization"),
    (lambda b: b.update(prefetch={"conditions": []}), "prefetch.conditions"),
])
def test_schema_failures_are_400_naming_the_path(client, mutate, path):
    body = hook_request(prefetch=full_prefetch())
    mutate(body)
    response = post(client, body)
    assert response.status_code == 400
    assert issue(response)["expression"] == [path]


def test_wrong_hook_is_400(client):
    response = post(client, hook_request(prefetch=full_prefetch()) | {"hook": "order-sign"})
    assert response.status_code == 400
    assert issue(response)["expression"] == ["hook"]


def test_fhir_authorization_without_expires_in_is_accepted(client):
    body = hook_request(prefetch=full_prefetch(), fhirServer="https://ehr.example/fhir",
                        fhirAuthorization={"access_token": "opaque", "token_type": "Bearer",
                                           "scope": "patient/*.read", "subject": "cds-service"})
    assert post(client, body).status_code == 200


def test_unknown_service_is_404(client):
    response = client.post("/cds-services/no-such-service", json=hook_request(prefetch=full_prefetch()))
    assert response.status_code == 404
    assert issue(response)["code"] == "not-found"


def test_wrong_method_is_405(client):
    response = client.get(SERVICE)
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]


def test_body_over_the_limit_is_413(tmp_path, client_key):
    small = SignedClient(create_app(make_config(tmp_path, client_key, MAX_CONTENT_LENGTH=2048)).test_client(),
                         client_key)
    prefetch = full_prefetch(conditions=[condition() for _ in range(20)])
    response = post(small, hook_request(prefetch=prefetch))
    assert response.status_code == 413
    assert issue(response)["code"] == "too-costly"


def test_a_bug_is_500_without_a_trace(client, monkeypatch):
    def explode(record, body, engine, now):
        raise ZeroDivisionError("secret detail")
    service = SERVICES["posterior-knee-pain"]
    monkeypatch.setitem(SERVICES, service.id, dataclasses.replace(service, evaluate=explode))
    response = post(client, hook_request(prefetch=full_prefetch()))
    assert response.status_code == 500
    assert "secret detail" not in response.get_data(as_text=True)
    assert issue(response)["code"] == "exception"


def test_sandbox_recorded_request_is_answered(client):
    # The public CDS Hooks sandbox's real POST (recorded in shared/reference, copied to tests/data): no
    # fhirAuthorization, prefetch without medications and procedures.
    traffic = json.loads((pathlib.Path(__file__).parents[1] / "data/sandbox-traffic.json").read_text())
    body = next(r for r in traffic if r["method"] == "POST")["body"]
    assert set(body["prefetch"]) == {"patient", "conditions", "observations"}
    body["prefetch"]["medications"] = None
    body["prefetch"]["procedures"] = None
    assert post(client, body).status_code == 200


def test_error_bodies_do_not_echo_request_member_names_or_ids(client):
    secret = "eyJhbGciOiJFUzM4NCJ9.eyJzdWIiOiJ4In0.c2ln"
    body = hook_request(prefetch=full_prefetch())
    body["context"][secret] = ""
    response = post(client, body)
    assert response.status_code == 400
    assert secret not in response.get_data(as_text=True)
    assert issue(response)["expression"] == ["context.<member>"]
    unknown = client.post("/cds-services/" + "x" * 5000, json=hook_request(prefetch=full_prefetch()))
    assert unknown.status_code == 404 and "xxxx" not in unknown.get_data(as_text=True)


def test_the_openapi_document_is_served_without_a_jwt(app):
    response = app.test_client().get("/openapi.json")
    assert response.status_code == 200 and response.get_json()["openapi"].startswith("3.1")
