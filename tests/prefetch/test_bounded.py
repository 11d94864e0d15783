"""Bounded searches (prefetch/templates.py Bound): a long record's newest entries are read, the first page of a
template with _count is complete by design, the fallback asks only for the rules' window, and a search cut short
keeps what it read and says so. Against a real HTTP server on 127.0.0.1 that records what it was asked."""
from __future__ import annotations

import copy
import json
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from cds_service import create_app
from tests.conftest import SignedClient, make_config
from tests.support.fhir_data import hook_request, searchset
from tests.support.http_stub import StubServer

SERVICE = "/cds-services/posterior-knee-pain"
VALUESETS = Path(__file__).resolve().parents[2] / "valueset"
# A current, untreated DVT and a heart rate of 108 three hours ago: the PE card needs the Observation.
CASE = json.loads((Path(__file__).resolve().parents[1] / "scenarios" / "cases"
                   / "130-tachycardia-with-current-dvt-untreated.json").read_text())
NOW = datetime.fromisoformat(CASE["now"].replace("Z", "+00:00"))
CONDITIONS = [r for r in CASE["resources"] if r["resourceType"] == "Condition"]
HEART_RATE = next(r for r in CASE["resources"] if r["resourceType"] == "Observation")


def routine_vitals(n: int, newest_hours_ago: float, every_minutes: float) -> list[dict]:
    """n normal respiratory rates, newest first, one every `every_minutes` from `newest_hours_ago`."""
    observations = []
    for i in range(n):
        taken = NOW - timedelta(hours=newest_hours_ago, minutes=i * every_minutes)
        observations.append({
            "resourceType": "Observation", "id": f"rr-{i}", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "9279-1"}]},
            "subject": {"reference": "Patient/scn"}, "effectiveDateTime": taken.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "valueQuantity": {"value": 16, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"}})
    return observations


def first_page(resources: list[dict], next_url: str) -> dict:
    bundle = searchset(resources, full_urls=False)
    bundle["link"] = [{"relation": "next", "url": next_url}]
    return bundle


def empty_prefetch(**keys) -> dict:
    prefetch = {key: searchset([]) for key in ("medications", "procedures", "medicationStatements",
                                               "medicationAdministrations", "diagnosticReports")}
    return {"patient": CASE["patient"], "conditions": searchset(copy.deepcopy(CONDITIONS)), **prefetch, **keys}


def invoke(tmp_path, client_key, body, **config):
    app = create_app(make_config(tmp_path, client_key, CLOCK_NOW=CASE["now"], **config))
    response = SignedClient(app.test_client(), client_key).post(SERVICE, json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["cards"]


def topics(cards):
    return [c["extension"]["topic"] if "extension" in c else c["summary"] for c in cards]


@pytest.fixture
def fhir():
    with StubServer() as stub:
        yield stub


def test_a_first_page_of_newest_observations_is_complete_by_design(tmp_path, client_key, fhir):
    """The EHR answered the _count=500 template with its first page and a next link; the page reaches back
    past the findings window, so nothing is fetched and no card says the check was incomplete."""
    page = [HEART_RATE] + routine_vitals(3, newest_hours_ago=4, every_minutes=60 * 24 * 8)  # back 16 days
    body = hook_request("scn", prefetch=empty_prefetch(observations=first_page(page, fhir.url + "/fhir/next")),
                        fhirServer=fhir.url + "/fhir")
    cards = invoke(tmp_path, client_key, body)
    assert fhir.requests == []
    assert cards[0]["indicator"] == "critical" and "PE" in cards[0]["summary"]
    assert not any(c["summary"].startswith("Check incomplete") for c in cards)


def test_a_full_page_that_does_not_reach_back_is_read_and_the_gap_said(tmp_path, client_key, fhir):
    """500 entries (what the template asked for) all from the last day: read as they are (no refetch), the
    PE card first, and an info card saying how far back the Observations reached."""
    page = [HEART_RATE] + routine_vitals(499, newest_hours_ago=3.5, every_minutes=2)
    body = hook_request("scn", prefetch=empty_prefetch(observations=first_page(page, fhir.url + "/fhir/next")),
                        fhirServer=fhir.url + "/fhir")
    cards = invoke(tmp_path, client_key, body)
    assert fhir.requests == []
    assert cards[0]["indicator"] == "critical" and "PE" in cards[0]["summary"]
    (incomplete,) = [c for c in cards if c["summary"].startswith("Check incomplete")]
    assert incomplete["summary"] == "Check incomplete: only the newest Observations were read"
    oldest = (NOW - timedelta(hours=3.5, minutes=498 * 2)).date().isoformat()
    assert f"the prefetch's newest 500 reach back to {oldest} only" in incomplete["detail"]


def test_a_page_smaller_than_asked_is_read_on_from_fhir_server(tmp_path, client_key, fhir):
    """An EHR paging at its own size (HAPI: 20) sent 20 recent entries and a next link: the window is read
    from fhirServer, newest first and bounded by date, and the short note goes."""
    fhir.routes["/fhir/Observation"] = (200, searchset([HEART_RATE] + routine_vitals(30, 4, 60)))
    page = routine_vitals(20, newest_hours_ago=4, every_minutes=5)
    body = hook_request("scn", prefetch=empty_prefetch(observations=first_page(page, fhir.url + "/fhir/next")),
                        fhirServer=fhir.url + "/fhir")
    cards = invoke(tmp_path, client_key, body)
    (asked,) = [r["path"] for r in fhir.requests]
    query = parse_qs(urlsplit(asked).query)
    assert urlsplit(asked).path == "/fhir/Observation"
    assert query["date"] == [f"ge{(NOW - timedelta(days=14)).strftime('%Y-%m-%dT%H:%M:%SZ')}"]
    assert query["_sort"] == ["-date"] and query["patient"] == ["scn"]
    assert cards[0]["indicator"] == "critical"
    assert not any(c["summary"].startswith("Check incomplete") for c in cards)


def test_the_fallback_asks_only_for_the_window_and_the_studies_the_rules_read(tmp_path, client_key, fhir):
    for kind in ("Observation", "MedicationRequest", "Procedure", "MedicationStatement",
                 "MedicationAdministration", "DiagnosticReport"):
        fhir.routes[f"/fhir/{kind}"] = (200, searchset([HEART_RATE] if kind == "Observation" else []))
    prefetch = {"patient": CASE["patient"], "conditions": searchset(copy.deepcopy(CONDITIONS))}
    cards = invoke(tmp_path, client_key, hook_request("scn", prefetch=prefetch, fhirServer=fhir.url + "/fhir"))
    asked = {urlsplit(r["path"]).path.rsplit("/", 1)[1]: parse_qs(urlsplit(r["path"]).query) for r in fhir.requests}
    assert asked["Observation"]["date"][0] == "ge" + (NOW - timedelta(days=14)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert asked["MedicationAdministration"]["effective-time"][0] == \
        "ge" + (NOW - timedelta(hours=48)).strftime("%Y-%m-%dT%H:%M:%SZ")
    studies = [c["code"] for vs in ("dvt-imaging", "pe-imaging", "arterial-imaging-leg") for include in json.loads(
        (VALUESETS / f"{vs}.json").read_text())["compose"]["include"] for c in include["concept"]]
    assert asked["DiagnosticReport"]["code"] == [",".join(studies)]
    assert "date" not in asked["MedicationRequest"] and "date" not in asked["Procedure"]  # history matters
    assert cards[0]["indicator"] == "critical"


def test_a_search_cut_short_by_the_deadline_keeps_the_newest_page(tmp_path, client_key, fhir):
    """Page 1 (the heart rate) arrives; page 2 would come after the hook's deadline. The PE card is given from
    page 1, and an info card says the Observations were cut short: never a 412, never no answer."""
    def observations(path: str):
        if "page=2" in path:
            time.sleep(1.5)
            return 200, searchset(routine_vitals(5, 30, 60))
        bundle = searchset([HEART_RATE] + routine_vitals(5, 4, 60))
        bundle["link"] = [{"relation": "next", "url": f"{fhir.url}/fhir/Observation?patient=scn&page=2"}]
        return 200, bundle

    fhir.routes["/fhir/Observation"] = observations
    prefetch = empty_prefetch()
    started = time.monotonic()
    cards = invoke(tmp_path, client_key, hook_request("scn", prefetch=prefetch, fhirServer=fhir.url + "/fhir"),
                   FHIR_FETCH_DEADLINE_SECONDS=0.6, HOOK_DEADLINE_SECONDS=0.8)
    assert time.monotonic() - started < 1.4
    assert cards[0]["indicator"] == "critical" and "PE" in cards[0]["summary"]
    (incomplete,) = [c for c in cards if c["summary"].startswith("Check incomplete")]
    assert "the newest 6 were read" in incomplete["detail"]


def test_a_problem_list_cut_short_keeps_what_was_read(tmp_path, client_key, fhir):
    """Conditions are read whole (any age counts), unsorted. When the deadline cuts the paging short, the
    pages read stand (the DVT and the heart rate: the PE card) and the card says only part was read."""
    def conditions(path: str):
        if "page=2" in path:
            time.sleep(1.5)
            return 200, searchset([])
        bundle = searchset(copy.deepcopy(CONDITIONS))
        bundle["link"] = [{"relation": "next", "url": f"{fhir.url}/fhir/Condition?patient=scn&page=2"}]
        return 200, bundle

    fhir.routes["/fhir/Condition"] = conditions
    prefetch = {k: v for k, v in empty_prefetch(observations=searchset([HEART_RATE])).items() if k != "conditions"}
    cards = invoke(tmp_path, client_key, hook_request("scn", prefetch=prefetch, fhirServer=fhir.url + "/fhir"),
                   FHIR_FETCH_DEADLINE_SECONDS=0.6, HOOK_DEADLINE_SECONDS=0.8)
    assert cards[0]["indicator"] == "critical" and "PE" in cards[0]["summary"]
    (incomplete,) = [c for c in cards if c["summary"].startswith("Check incomplete")]
    assert f"only {len(CONDITIONS)} were read" in incomplete["detail"]
