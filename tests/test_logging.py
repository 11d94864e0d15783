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
