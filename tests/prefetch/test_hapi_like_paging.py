"""A long record fetched, with no prefetch, from a FHIR server that pages as HAPI FHIR JPA does
(benchmarks/hapi_like.py: 20 a page by default, `_count` cut to 200, `_getpages` next links on the base URL,
a 400 for any parameter it does not know). The fallback's queries are understood as sent, its paging follows
HAPI's links, and the critical PE card comes first (issue "Never silent", long records). Behaviour only:
the deadlines are the generous test ones; the benchmark `long_records_indexed` measures speed."""
from __future__ import annotations

from datetime import timedelta

import pytest
import requests

from benchmarks.hapi_like import HapiLikeServer
from cds_service import create_app
from tests.conftest import SignedClient, make_config
from tests.integration.test_long_record import NOW, _when, long_record
from tests.support.fhir_data import hook_request

SERVICE = "/cds-services/posterior-knee-pain"
PID = "hapi-long"
N_HISTORY = 20_000


@pytest.fixture(scope="module")
def hapi():
    with HapiLikeServer() as server:
        server.load(long_record(PID, N_HISTORY))
        yield server


def _invoke(tmp_path, client_key, server: HapiLikeServer, **config) -> list[dict]:
    app = create_app(make_config(tmp_path, client_key, CLOCK_NOW=_when(NOW), **config))
    body = hook_request(pid=PID, fhirServer=server.base_url)
    body["fhirAuthorization"] = {"access_token": server.token, "token_type": "Bearer", "expires_in": 300,
                                 "scope": "patient/*.read", "subject": "cds-service", "patient": PID}
    response = SignedClient(app.test_client(), client_key).post(SERVICE, json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["cards"]


def _query(logged) -> dict[str, list[str]]:
    query: dict[str, list[str]] = {}
    for name, value in logged.params:
        query.setdefault(name, []).append(value)
    return query


@pytest.mark.parametrize("page_size", [None, 1_000], ids=["service-default-200", "asks-1000-gets-200"])
def test_a_long_record_paged_as_hapi_pages_it_gets_the_critical_pe_card_first(tmp_path, client_key, hapi,
                                                                                page_size):
    """20,000 resources of history (400 old Conditions among them, read whole over three pages of 200). With
    FHIR_PAGE_SIZE 1000 the server cuts each page to 200, as HAPI's max_page_size does, and the service
    follows the next links to the end."""
    hapi.requests.clear()
    config = {"FHIR_PAGE_SIZE": page_size} if page_size else {}
    cards = _invoke(tmp_path, client_key, hapi, **config)
    assert cards[0]["indicator"] == "critical" and cards[0]["source"]["topic"]["code"] == "suspected-pe", \
        [c["summary"] for c in cards]
    assert not any(c["summary"].startswith("Check incomplete") for c in cards), [c["summary"] for c in cards]

    assert hapi.rejected == [] and {r.status for r in hapi.requests} == {200}
    searched = {r.path.removeprefix("/fhir/") for r in hapi.requests
                if r.path != "/fhir" and not r.path.startswith("/fhir/Patient/")}
    assert searched == {"Condition", "Observation", "MedicationRequest", "Procedure", "MedicationStatement",
                        "MedicationAdministration", "DiagnosticReport"}
    observation_queries = [_query(r) for r in hapi.requests if r.path == "/fhir/Observation"]
    window = "ge" + _when(NOW - timedelta(days=14))
    assert observation_queries and all(q["date"] == [window] and q["_sort"] == ["-date"]
                                       for q in observation_queries)
    # The Conditions' second and third pages came from HAPI-style _getpages links on the base URL.
    pages = [dict(r.params) for r in hapi.requests if r.path == "/fhir"]
    assert [p["_getpagesoffset"] for p in pages] == ["200", "400"] and all(p["_count"] == "200" for p in pages)


def test_the_server_refuses_what_it_does_not_understand(hapi):
    """The guard the test above relies on: an unknown parameter, modifier or sort key, or a date prefix it
    does not support, is a 400 with an OperationOutcome, never a silently wider search; no token is a 401."""
    auth = {"Authorization": f"Bearer {hapi.token}"}
    for query in ("Condition?patient=hapi-long&status=active",  # R4 Condition has clinical-status
                  "Observation?patient=hapi-long&date=sa2026-11-01",
                  "Observation?patient=hapi-long&_sort=-issued",
                  "Observation?patient=hapi-long&code:text=heart"):
        answer = requests.get(f"{hapi.base_url}/{query}", headers=auth, timeout=5)
        assert answer.status_code == 400, query
        assert answer.json()["resourceType"] == "OperationOutcome"
    assert requests.get(f"{hapi.base_url}/Patient/{PID}", timeout=5).status_code == 401
