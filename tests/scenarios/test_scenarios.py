"""Clinical scenarios written as FHIR data (cases/*.json), each run through the whole service: prefetch in,
cards out. Each case names the topics expected, in order, and what the card must and must not say."""
from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from fhir.resources.R4B.servicerequest import ServiceRequest

from cds_service import create_app
from cds_service.content.catalogue import default_catalogue
from tests.conftest import SignedClient, make_config
from tests.support.fhir_data import prefetch_for

CASES = sorted((Path(__file__).parent / "cases").glob("*.json"))
SERVICE = "/cds-services/posterior-knee-pain"
@pytest.fixture(scope="module")
def service_at(tmp_path_factory, client_key):
    """One service per evaluation moment, shared by the cases written for it. An app per case kept each
    app's store threads and engines alive (about 17 MB a case), and with 600 cases the suite outgrew the
    machine. The cards do not depend on what earlier cases left in the feedback store."""
    clients: dict[str, SignedClient] = {}

    def get(now: str) -> SignedClient:
        if now not in clients:
            app = create_app(make_config(tmp_path_factory.mktemp("scenarios"), client_key, CLOCK_NOW=now))
            clients[now] = SignedClient(app.test_client(), client_key)
        return clients[now]
    return get


def run(service_at, case: dict) -> list[dict]:
    body = {"hook": "patient-view", "hookInstance": str(uuid.uuid4()),
            "context": {"userId": "Practitioner/scenario", "patientId": case["patient"]["id"]},
            "prefetch": prefetch_for(case)}
    response = service_at(case["now"]).post(SERVICE, json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["cards"]


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_scenario(service_at, path):
    case = json.loads(path.read_text(encoding="utf-8"))
    expect = case["expect"]
    cards = run(service_at, case)
    assert [c["source"]["topic"]["code"] for c in cards] == expect["topics"], case["title"]
    if "indicators" in expect:
        assert [c["indicator"] for c in cards] == expect["indicators"]
    if not cards:
        return
    first = cards[0]
    assert len(first["summary"]) < 140
    if "summary_contains" in expect:
        assert expect["summary_contains"] in first["summary"]
    for text in expect.get("detail_contains", []):
        assert text in first["detail"], text
    for text in expect.get("detail_absent", []):
        assert text not in first["detail"], text
    if "first_suggestion_code" in expect:
        coding = first["suggestions"][0]["actions"][0]["resource"]["code"]["coding"][0]
        assert coding["code"] == expect["first_suggestion_code"]
        assert first["suggestions"][0]["isRecommended"] is True


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_every_card_is_complete_and_every_order_is_valid_fhir(service_at, path):
    case = json.loads(path.read_text(encoding="utf-8"))
    for card in run(service_at, case):
        assert card["source"]["url"].startswith("https://") and card["links"]
        assert card["overrideReasons"] and all(r["display"] for r in card["overrideReasons"])
        assert "**Next step**" in card["detail"]
        for suggestion in card.get("suggestions", []):
            assert card["selectionBehavior"]
            request = suggestion["actions"][0]["resource"]
            ServiceRequest.model_validate(request)  # raises if it is not valid FHIR
            assert request["subject"] == {"reference": f"Patient/{case['patient']['id']}"}
            # at least as urgent as the card; an order may be more urgent (a same-day duplex on an info card)
            rank = ["routine", "urgent", "asap", "stat"]
            floor = {"critical": "stat", "warning": "urgent", "info": "routine"}[card["indicator"]]
            assert rank.index(request["priority"]) >= rank.index(floor) or request["priority"] == "stat"
            for reference in request.get("reasonReference", []):
                assert reference["reference"].split("/")[0] in ("Condition", "Observation")


def test_there_are_enough_scenarios_covering_every_topic():
    topics = set()
    for path in CASES:
        topics.update(json.loads(path.read_text(encoding="utf-8"))["expect"]["topics"])
    assert len(CASES) >= 30
    catalogue = default_catalogue()
    # every clinical card the catalogue lists; a non-clinical one (incomplete-check: unread entries) may be there too
    assert topics - set(catalogue.topic_order).difference(catalogue.clinical_topics) == set(catalogue.clinical_topics)
