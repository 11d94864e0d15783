"""The shipped JSON Schemas hold the spec's invariants (each one shown failing on a real violation)."""
from __future__ import annotations

import copy

import pytest

from cds_service import schemas

CARD = {
    "uuid": "7d1b2c3e-0000-4000-8000-000000000001",
    "summary": "Possible DVT: Wells likely (2); proximal leg-vein ultrasound within 4 hours",
    "indicator": "warning",
    "source": {"label": "NICE NG158", "url": "https://www.nice.org.uk/guidance/ng158",
               "topic": {"system": "https://posterior-knee-pain.example/fhir/CodeSystem/card-topic",
                         "code": "suspected-dvt", "display": "Suspected DVT"}},
    "suggestions": [{"label": "Order ultrasound", "uuid": "s1", "actions": [
        {"type": "create", "description": "Order", "resource": {"resourceType": "ServiceRequest"}}]}],
    "selectionBehavior": "at-most-one",
    "overrideReasons": [{"system": "http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes",
                         "code": "patient-refuses", "display": "Patient refuses"}],
    "links": [{"label": "NICE NG158", "url": "https://www.nice.org.uk/guidance/ng158", "type": "absolute"}],
}


def response_with(mutate) -> dict:
    card = copy.deepcopy(CARD)
    mutate(card)
    return {"cards": [card]}


def test_a_complete_card_is_valid():
    assert schemas.first_error("response", {"cards": [CARD]}) is None
    assert schemas.first_error("response", {"cards": []}) is None


@pytest.mark.parametrize("name, mutate", [
    ("suggestions require selectionBehavior", lambda c: c.pop("selectionBehavior")),
    ("override reasons carry a display", lambda c: c["overrideReasons"][0].pop("display")),
    ("delete uses resourceId", lambda c: c["suggestions"][0]["actions"][0].update(type="delete")),
    ("create carries a resource", lambda c: c["suggestions"][0]["actions"][0].pop("resource")),
    ("appContext only on smart links", lambda c: c["links"][0].update(appContext="x")),
    ("summary under 140 characters", lambda c: c.update(summary="x" * 140)),
    ("no nulls", lambda c: c.update(detail=None)),
    ("no nulls deep", lambda c: c["source"]["topic"].update(display=None)),
    ("no empty arrays", lambda c: c.update(links=[])),
    ("no empty strings", lambda c: c.update(detail="")),
    ("indicator from the code list", lambda c: c.update(indicator="hard-stop")),
    ("source label required", lambda c: c["source"].pop("label")),
    ("action description required", lambda c: c["suggestions"][0]["actions"][0].pop("description")),
    ("link type required", lambda c: c["links"][0].pop("type")),
    ("no unknown card members", lambda c: c.update(severity="high")),
])
def test_each_invariant_rejects_its_violation(name, mutate):
    assert schemas.first_error("response", response_with(mutate)) is not None, name


def test_request_invariants():
    base = {"hook": "patient-view", "hookInstance": "d2b3c1a0-0000-4000-8000-000000000001",
            "context": {"userId": "Practitioner/1", "patientId": "p1"}}
    assert schemas.first_error("request", base) is None
    auth = {"access_token": "t", "token_type": "Bearer", "scope": "s", "subject": "c"}
    assert schemas.first_error("request", base | {"fhirAuthorization": auth}) is not None  # needs fhirServer
    assert schemas.first_error("request", base | {"fhirAuthorization": auth,
                                                  "fhirServer": "https://ehr.example/fhir"}) is None
    assert schemas.first_error("request", base | {"prefetch": {"conditions": None}}) is None  # null allowed here


def test_safe_messages_never_echo_values():
    secret = "eyJhbGciOiJFUzM4NCJ9.secret.value"
    body = {"hook": "patient-view", "hookInstance": "d2b3c1a0-0000-4000-8000-000000000001",
            "context": {"userId": "Practitioner/1", "patientId": "p1"},
            "fhirServer": "https://ehr.example/fhir", "fhirAuthorization": secret}
    error = schemas.first_error("request", body)
    assert secret not in schemas.safe_message(error)
    assert secret in error.message  # jsonschema's own message would have leaked it


def test_discovery_and_feedback_schemas_compile():
    for name in ("request", "response", "discovery", "feedback"):
        schemas.validator(name)
