"""A hostile fhirAuthorization.access_token: never a 500, never sent, never echoed.

CDS Hooks 2.0 types access_token as a string, so a token that is not a string (or is empty) fails the
request schema: 400 naming it. A string the service cannot send as `Bearer <token>` (non-Latin-1 text made
http.client raise UnicodeEncodeError: a 500; CR/LF, NUL, spaces, 8 KiB and more) leaves the service unable to
retrieve the FHIR data it needs, which is the spec's 412 — when nothing can be said without it (see
"Partial answers"), with the OperationOutcome naming fhirAuthorization.access_token. Against a real HTTP
server on 127.0.0.1, which must receive no request at all."""
from __future__ import annotations

import logging

import pytest

from cds_service import create_app
from cds_service.prefetch.fetch import MAX_ACCESS_TOKEN_CHARS
from tests.conftest import SignedClient, make_config
from tests.prefetch.test_fetch import SERVICE, fhir, incomplete_card, invoke  # noqa: F401 (fhir is a fixture)
from tests.support.fhir_data import hook_request, patient, searchset

UNSENDABLE = {
    "non-Latin-1": "tök€n-0123456789",
    "Latin-1 but not ASCII": "tök-0123456789",
    "CR LF header injection": "abcdefgh\r\nX-Injected: 1",
    "LF": "abcdefgh\nX-Injected: 1",
    "NUL": "abcdefgh\x00ijkl",
    "tab": "abcdefgh\tijkl",
    "space": "abcdefgh ijkl",
    "one character too long": "a" * (MAX_ACCESS_TOKEN_CHARS + 1),
    "a megabyte": "a" * 1_000_000,
}


def outcome(response) -> dict:
    body = response.get_json()
    assert body["resourceType"] == "OperationOutcome"
    (issue,) = body["issue"]
    return issue


@pytest.mark.parametrize("kind", UNSENDABLE)
def test_an_unsendable_token_is_a_412_naming_fhir_authorization(tmp_path, client_key, fhir, caplog, kind):
    token = UNSENDABLE[kind]
    with caplog.at_level(logging.DEBUG):
        response = invoke(tmp_path, client_key, fhir.url + "/fhir", token=token)
    assert response.status_code == 412
    issue = outcome(response)
    assert issue["expression"] == ["fhirAuthorization.access_token"]
    assert "fhirAuthorization.access_token" in issue["diagnostics"]
    assert token not in response.get_data(as_text=True)
    assert fhir.requests == []  # refused before any request, so never half-sent either
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert token not in caplog.text


def test_the_longest_sendable_token_is_sent(tmp_path, client_key, fhir):
    token = "A-._~+/=" * (MAX_ACCESS_TOKEN_CHARS // 8)  # every b64token character, exactly at the cap
    assert invoke(tmp_path, client_key, fhir.url + "/fhir", token=token).status_code == 200
    assert fhir.requests and all(r["headers"]["Authorization"] == f"Bearer {token}" for r in fhir.requests)


@pytest.mark.parametrize("token", [12345, ["a-token-in-a-list"], {"token": "x"}, None, True, ""])
def test_a_token_that_is_not_a_non_empty_string_fails_the_request_schema(tmp_path, client_key, fhir, token):
    # The spec's own type: a request whose access_token is not a string is malformed, 400, before any fetch.
    response = _invoke_with_token_value(tmp_path, client_key, fhir.url + "/fhir", token)
    assert response.status_code == 400
    assert outcome(response)["expression"] == ["fhirAuthorization.access_token"]
    assert fhir.requests == []


def _invoke_with_token_value(tmp_path, client_key, fhir_url, value):
    """invoke() sends no fhirAuthorization for a falsy token; this sends the value as it is."""
    body = hook_request(fhirServer=fhir_url)
    body["fhirAuthorization"] = {"access_token": value, "token_type": "Bearer", "scope": "patient/*.read",
                                 "subject": "cds"}
    app = create_app(make_config(tmp_path, client_key))
    return SignedClient(app.test_client(), client_key).post(SERVICE, json=body)


def test_an_unsendable_token_with_the_core_prefetched_answers_and_says_what_was_not_read(tmp_path, client_key,
                                                                                       fhir):
    """The same token when only refining sources were to be fetched: the rules run on the prefetch (a 412
    would read as "all clear" in the sandbox), and the incomplete-check card names the token as the reason."""
    token = UNSENDABLE["non-Latin-1"]
    prefetch = {"patient": patient(), "conditions": searchset([]), "observations": searchset([])}
    response = invoke(tmp_path, client_key, fhir.url + "/fhir", token=token, prefetch=prefetch)
    card = incomplete_card(response)
    assert "fhirAuthorization.access_token" in card["detail"]
    assert token not in response.get_data(as_text=True)
    assert fhir.requests == []


def test_an_unsendable_token_is_ignored_when_nothing_needs_fetching(tmp_path, client_key, fhir):
    prefetch = {key: searchset([]) for key in ("conditions", "observations", "medications", "procedures",
                                                "medicationStatements", "medicationAdministrations",
                                                "diagnosticReports")}
    prefetch["patient"] = patient()
    response = invoke(tmp_path, client_key, fhir.url + "/fhir", token=UNSENDABLE["CR LF header injection"],
                      prefetch=prefetch)
    assert response.status_code == 200
    assert fhir.requests == []
