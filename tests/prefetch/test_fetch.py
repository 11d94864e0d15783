"""Fetching what prefetch lacks from fhirServer: token only to that server, paging, loops, caps, deadline,
keys in parallel. Against a real HTTP server on 127.0.0.1 (a stub that records what it was asked)."""
from __future__ import annotations

import json
import socket
import threading
import time

import pytest

from cds_service import create_app
from cds_service.config import DEFAULTS
import requests
import urllib3

from cds_service.prefetch.fetch import FetchError, FetchLimits, FhirClient, _caused_by_timeout, check_server_url
from tests.conftest import ISSUER, SignedClient, make_config
from tests.support.fhir_data import condition, hook_request, patient, searchset
from tests.support.http_stub import StubServer

SERVICE = "/cds-services/posterior-knee-pain"
DEFAULT_LIMITS = FetchLimits(connect_timeout=1, read_timeout=1, max_pages=5, max_response_bytes=1_000_000,
                             page_size=100)
TOKEN = "opaque-access-token-1234"


@pytest.fixture
def fhir():
    with StubServer() as stub:
        stub.routes.update({
            "/fhir/Patient/pat-1": (200, patient()),
            "/fhir/Condition": (200, searchset([condition()])),
            "/fhir/Observation": (200, searchset([])),
            "/fhir/MedicationRequest": (200, searchset([])),
            "/fhir/Procedure": (200, searchset([])),
            "/fhir/MedicationStatement": (200, searchset([])),
            "/fhir/MedicationAdministration": (200, searchset([])),
            "/fhir/DiagnosticReport": (200, searchset([])),
        })
        yield stub


def invoke(tmp_path, client_key, fhir_url, token=TOKEN, prefetch=None, **config):
    app = create_app(make_config(tmp_path, client_key, **config))
    body = hook_request(prefetch=prefetch, fhirServer=fhir_url)
    if token:
        body["fhirAuthorization"] = {"access_token": token, "token_type": "Bearer", "expires_in": 300,
                                     "scope": "patient/*.read", "subject": "cds", "patient": "pat-1"}
    return SignedClient(app.test_client(), client_key).post(SERVICE, json=body)


def test_everything_is_fetched_with_the_token(tmp_path, client_key, fhir):
    response = invoke(tmp_path, client_key, fhir.url + "/fhir")
    assert response.status_code == 200
    paths = sorted(r["path"].split("?")[0] for r in fhir.requests)
    assert paths == ["/fhir/Condition", "/fhir/DiagnosticReport", "/fhir/MedicationAdministration",
                     "/fhir/MedicationRequest", "/fhir/MedicationStatement", "/fhir/Observation",
                     "/fhir/Patient/pat-1", "/fhir/Procedure"]
    assert all(r["headers"]["Authorization"] == f"Bearer {TOKEN}" for r in fhir.requests)
    assert all(r["headers"]["Accept"] == "application/fhir+json" for r in fhir.requests)
    medication = next(r["path"] for r in fhir.requests if r["path"].startswith("/fhir/MedicationRequest"))
    assert "patient=pat-1" in medication and "status=active" in medication


@pytest.mark.parametrize("failure", [(503, {"resourceType": "OperationOutcome"}), (404, {"resourceType": "OperationOutcome"})])
def test_a_refining_source_that_fails_is_not_a_412(tmp_path, client_key, fhir, failure):
    """MedicationStatement, MedicationAdministration and DiagnosticReport refine the cards: when the server
    fails them, the rules still run on what could be read (the cards say what was not read)."""
    for path in ("/fhir/MedicationStatement", "/fhir/MedicationAdministration", "/fhir/DiagnosticReport"):
        fhir.routes[path] = failure
    response = invoke(tmp_path, client_key, fhir.url + "/fhir")
    assert response.status_code == 200
    assert "cards" in response.get_json()


def incomplete_card(response) -> dict:
    """The one incomplete-check card of a 200 answer."""
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    [card] = [c for c in response.get_json()["cards"] if c["source"]["topic"]["code"] == "incomplete-check"]
    return card


def test_a_failed_medication_search_still_answers_with_the_rest_and_says_so(tmp_path, client_key, fhir):
    """Issue 13: a possible PE in the Conditions must not be silenced by a medication outage. The Condition
    route serves a "?DVT" (no verification status): the DVT card fires, says anticoagulation is unknown, and
    the incomplete-check card names the medication orders and why."""
    fhir.routes["/fhir/MedicationRequest"] = (503, {"resourceType": "OperationOutcome"})
    response = invoke(tmp_path, client_key, fhir.url + "/fhir")
    cards = {c["source"]["topic"]["code"]: c for c in response.get_json()["cards"]}
    assert "Medication orders could not be read" in cards["suspected-dvt"]["detail"]
    card = incomplete_card(response)
    assert "Medication orders" in card["summary"] and "fhirServer answered 503" in card["detail"]
    assert "Conditions" not in card["summary"]


def test_neither_conditions_nor_observations_is_a_412(tmp_path, client_key, fhir):
    fhir.routes["/fhir/Condition"] = (503, {"resourceType": "OperationOutcome"})
    fhir.routes["/fhir/Observation"] = (500, {"resourceType": "OperationOutcome"})
    response = invoke(tmp_path, client_key, fhir.url + "/fhir")
    assert response.status_code == 412
    diagnostics = response.get_json()["issue"][0]["diagnostics"]
    assert "conditions: fhirServer answered 503" in diagnostics and "observations: fhirServer answered 500" in diagnostics
    assert "medications" not in diagnostics


def test_only_missing_keys_are_fetched(tmp_path, client_key, fhir):
    prefetch = {"patient": patient(), "conditions": searchset([]), "observations": None}
    assert invoke(tmp_path, client_key, fhir.url + "/fhir", prefetch=prefetch).status_code == 200
    assert sorted(r["path"].split("?")[0] for r in fhir.requests) == [
        "/fhir/DiagnosticReport", "/fhir/MedicationAdministration", "/fhir/MedicationRequest",
        "/fhir/MedicationStatement", "/fhir/Procedure"]


def test_open_server_is_fetched_without_a_token(tmp_path, client_key, fhir):
    # The public sandbox sends fhirServer without fhirAuthorization when its FHIR server is open.
    assert invoke(tmp_path, client_key, fhir.url + "/fhir", token=None).status_code == 200
    assert all("Authorization" not in r["headers"] for r in fhir.requests)


def test_paging_is_followed(tmp_path, client_key, fhir):
    page2 = fhir.url + "/fhir/Condition?page=2"

    def conditions(path):
        if "page=2" in path:
            return 200, searchset([condition(cid="c2")])
        bundle = searchset([condition(cid="c1")])
        bundle["link"] = [{"relation": "next", "url": page2}]
        return 200, bundle
    fhir.routes["/fhir/Condition"] = conditions
    assert invoke(tmp_path, client_key, fhir.url + "/fhir").status_code == 200
    assert sum(r["path"].startswith("/fhir/Condition") for r in fhir.requests) == 2


def test_a_next_link_with_the_host_in_another_case_is_followed(tmp_path, client_key, fhir):
    """HAPI writes next links with the host as configured: LOCALHOST for a base of localhost is the same
    server, and the token may go there."""
    port = fhir.url.rsplit(":", 1)[1]

    def conditions(path):
        if "page=2" in path:
            return 200, searchset([condition(cid="c2")])
        bundle = searchset([condition(cid="c1")])
        bundle["link"] = [{"relation": "next", "url": f"http://LOCALHOST:{port}/fhir/Condition?page=2"}]
        return 200, bundle
    fhir.routes["/fhir/Condition"] = conditions
    response = invoke(tmp_path, client_key, f"http://localhost:{port}/fhir", FHIR_SERVERS=["http://localhost"])
    assert response.status_code == 200
    assert sum(r["path"].startswith("/fhir/Condition") for r in fhir.requests) == 2


@pytest.mark.parametrize("base, link, same", [
    ("https://ehr.example/fhir", "https://ehr.example:443/fhir/Condition?page=2", True),
    ("https://ehr.example:443/fhir", "https://EHR.example/fhir/Condition?page=2", True),
    ("http://ehr.example/fhir/", "http://ehr.example:80/fhir/Condition?page=2", True),
    ("https://ehr.example/fhir", "https://ehr.example:8443/fhir/Condition?page=2", False),
    ("https://ehr.example/fhir", "http://ehr.example/fhir/Condition?page=2", False),
    ("https://ehr.example/fhir", "https://ehr.example.evil/fhir/Condition?page=2", False),
    ("https://ehr.example/fhir", "https://ehr.example/fhirx/Condition", False),
    ("https://ehr.example/fhir", "https://ehr.example/fhir/%2e%2e/secret", False),
])
def test_next_links_are_compared_as_origins(base, link, same):
    client = FhirClient(base, "token", requests.Session(), DEFAULT_LIMITS, deadline=time.monotonic() + 1)
    assert client._is_on_server(link) is same


def test_a_timeout_wrapped_while_a_body_streams_is_reported_as_a_timeout():
    wrapped = requests.exceptions.ConnectionError(urllib3.exceptions.ReadTimeoutError(None, "/fhir", "read timed out"))
    protocol = urllib3.exceptions.ProtocolError("Connection broken", TimeoutError("timed out"))
    assert _caused_by_timeout(wrapped) and _caused_by_timeout(protocol)
    assert not _caused_by_timeout(requests.exceptions.ConnectionError(ConnectionRefusedError(111, "refused")))


def test_next_link_loop_is_reported_not_read(tmp_path, client_key, fhir):
    def looping(path):
        bundle = searchset([condition()])
        bundle["link"] = [{"relation": "next", "url": fhir.url + "/fhir/Condition?patient=pat-1&_count=200"}]
        return 200, bundle
    fhir.routes["/fhir/Condition"] = looping
    response = invoke(tmp_path, client_key, fhir.url + "/fhir")
    assert "loops" in incomplete_card(response)["detail"]


def test_page_cap_is_reported_not_read(tmp_path, client_key, fhir):
    counter = iter(range(10_000))

    def endless(path):
        bundle = searchset([condition()])
        bundle["link"] = [{"relation": "next", "url": fhir.url + f"/fhir/Condition?page={next(counter)}"}]
        return 200, bundle
    fhir.routes["/fhir/Condition"] = endless
    response = invoke(tmp_path, client_key, fhir.url + "/fhir", FHIR_MAX_PAGES=3)
    assert "more than 3 pages" in incomplete_card(response)["detail"]
    assert sum(r["path"].startswith("/fhir/Condition") for r in fhir.requests) == 3


def test_token_never_follows_a_next_link_to_another_host(tmp_path, client_key, fhir):
    with StubServer() as elsewhere:
        elsewhere.routes["/steal"] = (200, searchset([]))

        def redirecting(path):
            bundle = searchset([condition()])
            bundle["link"] = [{"relation": "next", "url": elsewhere.url + "/steal"}]
            return 200, bundle
        fhir.routes["/fhir/Condition"] = redirecting
        response = invoke(tmp_path, client_key, fhir.url + "/fhir")
        assert "outside fhirServer" in incomplete_card(response)["detail"]
        assert elsewhere.requests == []


@pytest.mark.parametrize("status", [401, 403, 404, 500])
def test_server_errors_are_reported_not_read(tmp_path, client_key, fhir, status):
    fhir.routes["/fhir/Observation"] = (status, {"resourceType": "OperationOutcome",
                                                 "issue": [{"severity": "error", "code": "forbidden"}]})
    response = invoke(tmp_path, client_key, fhir.url + "/fhir")
    assert f"Observations: fhirServer answered {status}" in incomplete_card(response)["detail"]
    assert TOKEN not in response.get_data(as_text=True)


@pytest.mark.parametrize("body", [b"{not json", json.dumps({"resourceType": "Patient", "id": "x"}).encode(),
                                  json.dumps({"resourceType": "Bundle", "type": "batch-response"}).encode()])
def test_malformed_or_wrong_answers_are_reported_not_read(tmp_path, client_key, fhir, body):
    fhir.routes["/fhir/Condition"] = (200, body)
    assert "Conditions" in incomplete_card(invoke(tmp_path, client_key, fhir.url + "/fhir"))["summary"]


def test_oversized_answer_is_reported_not_read(tmp_path, client_key, fhir):
    fhir.routes["/fhir/Condition"] = (200, searchset([condition() for _ in range(200)]))
    response = invoke(tmp_path, client_key, fhir.url + "/fhir", FHIR_MAX_RESPONSE_BYTES=10_000)
    assert "larger than" in incomplete_card(response)["detail"]


def test_plain_http_server_is_refused_unless_allowed(tmp_path, client_key, fhir):
    response = invoke(tmp_path, client_key, fhir.url + "/fhir", FHIR_ALLOW_HTTP=False)
    assert response.status_code == 412
    assert fhir.requests == []


def test_keys_are_fetched_in_parallel_within_the_deadline(tmp_path, client_key, fhir):
    # Each answer takes 1 s: long enough that on a loaded two-core CI machine the eighth request starts before
    # the first is answered (0.2 s was not: 7 of 8 seen), and in series they would pass the 5 s fetch deadline.
    fhir.delay = 1.0
    assert invoke(tmp_path, client_key, fhir.url + "/fhir").status_code == 200
    assert fhir.max_in_flight == 8  # all eight keys were being answered at the same time


def test_a_server_slower_than_the_deadline_is_412_not_a_hang(tmp_path, client_key, fhir):
    fhir.delay = 2.0
    started = time.monotonic()
    response = invoke(tmp_path, client_key, fhir.url + "/fhir", FHIR_FETCH_DEADLINE_SECONDS=0.5)
    assert response.status_code == 412
    assert time.monotonic() - started < 1.9


def test_unreachable_server_is_412(tmp_path, client_key):
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))  # bound, not listening: connection refused
        url = f"http://127.0.0.1:{placeholder.getsockname()[1]}/fhir"
        response = invoke(tmp_path, client_key, url)
    assert response.status_code == 412
    assert "could not be reached" in response.get_json()["issue"][0]["diagnostics"]


def test_a_server_off_the_allowlist_is_never_called(tmp_path, client_key, fhir):
    response = invoke(tmp_path, client_key, fhir.url + "/fhir", FHIR_SERVERS=["https://ehr.example"])
    assert response.status_code == 412
    assert "allowlist" in response.get_json()["issue"][0]["diagnostics"]
    assert fhir.requests == []


def test_the_default_allowlist_is_empty(tmp_path, client_key, fhir):
    assert DEFAULTS["FHIR_SERVERS"] == []
    assert invoke(tmp_path, client_key, fhir.url + "/fhir", FHIR_SERVERS=[]).status_code == 412
    assert fhir.requests == []


def test_an_issuer_may_bring_its_own_fhir_servers(tmp_path, client_key, fhir):
    issuers = [{"iss": ISSUER, "jwks": client_key.jwks(), "fhirServers": [fhir.url + "/fhir"]}]
    response = invoke(tmp_path, client_key, fhir.url + "/fhir", FHIR_SERVERS=[], TRUSTED_ISSUERS=issuers)
    assert response.status_code == 200


@pytest.mark.parametrize("entry, allowed", [
    ("http://127.0.0.1", True), ("http://127.0.0.1/fhir", True), ("http://127.0.0.1/other", False),
    ("http://127.0.0.10", False), ("https://127.0.0.1", False), ("*", True),
])
def test_allowlist_matching(entry, allowed):
    def check():
        check_server_url("http://127.0.0.1:8091/fhir", True, (entry,))
    if allowed:
        check()
    else:
        with pytest.raises(FetchError):
            check()


def test_the_default_deadline_is_inside_the_ehr_window():
    assert DEFAULTS["FHIR_FETCH_DEADLINE_SECONDS"] < 0.5


@pytest.mark.parametrize("path", ["/fhir/../secret", "/fhir/%2e%2e/secret", "/fhir/./x/../../secret", "/fhir/%2E%2E"])
def test_a_fhir_server_with_dot_segments_is_refused(path):
    with pytest.raises(FetchError, match="path segments"):
        check_server_url("https://ehr.example" + path, allow_http=False, allowlist=("https://ehr.example/fhir",))
