"""Secrets never reach a log line: not by our code, and not by accident (an exception quoting a header)."""
from __future__ import annotations

import logging

from cds_service.logging_setup import install_redaction, redact
from tests.conftest import BASE_URL, ISSUER
from tests.support.fhir_data import full_prefetch, hook_request

JWT_LIKE = "eyJhbGciOiJFUzM4NCIsImtpZCI6IjEifQ.eyJpc3MiOiJodHRwczovL3gifQ.c2lnbmF0dXJlLXZhbHVl"


def test_redact_masks_jwts_and_bearer_tokens():
    assert JWT_LIKE not in redact(f"header was {JWT_LIKE}")
    assert "s3cr3t-token-value" not in redact("Authorization: Bearer s3cr3t-token-value")
    assert "s3cr3t-token-value" not in redact("{'access_token': 's3cr3t-token-value'}")
    assert redact("hookInstance=abc cards=2") == "hookInstance=abc cards=2"


def test_log_records_are_scrubbed_for_every_handler(caplog):
    install_redaction()
    with caplog.at_level("INFO"):
        logging.getLogger("some.library").info("sending %s", f"Bearer {JWT_LIKE}")
        try:
            raise ValueError(f"bad header {JWT_LIKE}")
        except ValueError:
            logging.getLogger("x").exception("failed")
    assert JWT_LIKE not in caplog.text


def test_a_whole_exchange_logs_neither_the_jwt_nor_the_access_token(app, client_key, caplog):
    token = client_key.token(ISSUER, BASE_URL + "/cds-services/posterior-knee-pain")
    access_token = "recognisable-access-token-XYZZY"
    body = hook_request(prefetch=full_prefetch(), fhirServer="https://ehr.example/fhir",
                        fhirAuthorization={"access_token": access_token, "token_type": "Bearer",
                                           "scope": "patient/*.read", "subject": "cds"})
    with caplog.at_level("DEBUG"):
        client = app.test_client()
        client.post("/cds-services/posterior-knee-pain", json=body, headers={"Authorization": f"Bearer {token}"})
        client.post("/cds-services/posterior-knee-pain", json=body, headers={"Authorization": f"Bearer {token}"})
        client.get("/cds-services", headers={"Authorization": f"Bearer {token}"})
    assert caplog.text  # something was logged, so the check below means something
    assert token not in caplog.text
    assert access_token not in caplog.text


PATIENT_ID = "pat-q7x9k2"  # distinctive: found in a log only if something wrote a request path


def _fallback_fetch(tmp_path, client_key, stub) -> int:
    """A hook with no prefetch: every source fetched from the stub FHIR server for PATIENT_ID."""
    from cds_service import create_app
    from tests.conftest import SignedClient, make_config
    from tests.support.fhir_data import patient, searchset

    stub.routes[f"/fhir/Patient/{PATIENT_ID}"] = (200, patient(PATIENT_ID))
    for resource_type in ("Condition", "Observation", "MedicationRequest", "Procedure", "MedicationStatement",
                          "MedicationAdministration", "DiagnosticReport"):
        stub.routes[f"/fhir/{resource_type}"] = (200, searchset([]))
    app = create_app(make_config(tmp_path, client_key))
    body = hook_request(pid=PATIENT_ID, fhirServer=stub.url + "/fhir")
    return SignedClient(app.test_client(), client_key).post("/cds-services/posterior-knee-pain", json=body).status_code


def test_no_request_path_reaches_the_log_at_debug(tmp_path, client_key, caplog):
    """urllib3 logged 'GET /fhir/Condition?patient=<id> HTTP/1.1' at DEBUG for every fetch: with the root
    logger at DEBUG, a whole fallback fetch now leaves no patient id in any record."""
    from tests.support.http_stub import StubServer

    with StubServer() as stub, caplog.at_level(logging.DEBUG):
        assert _fallback_fetch(tmp_path, client_key, stub) == 200
    assert len(stub.requests) == 8 and all(PATIENT_ID in r["path"] for r in stub.requests)  # it was fetched
    assert caplog.records
    assert PATIENT_ID not in caplog.text


def test_a_urllib3_warning_keeps_the_server_but_not_the_path(tmp_path, client_key, caplog):
    """A FHIR server sending a malformed header line makes urllib3 warn 'Failed to parse headers (url=<the
    whole URL>)': the warning stays (it is about the server), the path and query are withheld."""
    from tests.support.http_stub import StubServer

    with StubServer() as stub, caplog.at_level(logging.DEBUG):
        stub.raw_header_lines = [b"This line has no colon"]
        _fallback_fetch(tmp_path, client_key, stub)
    warnings = [r.getMessage() for r in caplog.records if r.name.startswith("urllib3")]
    assert warnings and all("Failed to parse headers" in w for w in warnings)
    assert all(f"(url={stub.url}/[path withheld])" in w for w in warnings)
    assert PATIENT_ID not in caplog.text
