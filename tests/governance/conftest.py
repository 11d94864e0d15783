"""A feedback store filled through the service's real endpoints (signed hooks for demo patients, then signed
feedback), with numbers known in advance; and the app served over HTTP for the browser tests."""
from __future__ import annotations

import threading
import uuid
from contextlib import contextmanager

import pytest
from werkzeug.serving import make_server

from cds_service import create_app
from cds_service.tools import demo
from tests.conftest import SignedClient, make_config
from tests.support.fhir_data import prefetch_for

SERVICE = "/cds-services/posterior-knee-pain"
NOW = "2026-11-22T12:00:00Z"  # the day the demo patients are written for: their cards fire unshifted
NON_ADHERENCE = "http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes"
USER = "Practitioner/governance-reviewer-7731"
COMMENT = "free text that must never reach the governance page 5519"
PATIENTS = {p.topic: p for p in demo.demo_patients()}

# Hooks per demo patient; then feedback: suspected-dvt 1 accepted and 2 overridden, suspected-pe 2 accepted,
# acute-limb-ischaemia 1 overridden, bakers-cyst none.
HOOKS = {"suspected-dvt": 3, "suspected-pe": 2, "acute-limb-ischaemia": 1, "bakers-cyst": 1}
EXPECTED = {  # topic: (cards issued, accepted, overridden)
    "suspected-pe": (2, 2, 0), "acute-limb-ischaemia": (1, 0, 1), "suspected-dvt": (3, 1, 2),
    "bakers-cyst": (1, 0, 0)}


class Populated:
    def __init__(self, app, url: str, hook_instances: list[str], card_uuids: list[str]):
        self.app, self.url, self.hook_instances, self.card_uuids = app, url, hook_instances, card_uuids


def _override(card: dict, code: str) -> dict:
    display = {r["code"]: r["display"] for r in card["overrideReasons"]}[code]
    return {"card": card["uuid"], "outcome": "overridden", "outcomeTimestamp": "2026-11-22T12:05:00Z",
            "overrideReason": {"reason": {"system": NON_ADHERENCE, "code": code, "display": display},
                               "userComment": COMMENT}}


def _accept(card: dict) -> dict:
    return {"card": card["uuid"], "outcome": "accepted", "outcomeTimestamp": "2026-11-22T12:05:00Z",
            "acceptedSuggestions": [{"id": card["suggestions"][0]["uuid"]}]}


def populate(app, client_key) -> tuple[list[str], list[str]]:
    client = SignedClient(app.test_client(), client_key)
    hook_instances, cards = [], {}
    for topic, times in HOOKS.items():
        patient = PATIENTS[topic]
        for _ in range(times):
            hook_instance = str(uuid.uuid4())
            hook_instances.append(hook_instance)
            body = {"hook": "patient-view", "hookInstance": hook_instance,
                    "context": {"userId": USER, "patientId": patient.id},
                    "prefetch": prefetch_for({"patient": patient.patient, "resources": list(patient.resources)})}
            response = client.post(SERVICE, json=body)
            assert response.status_code == 200
            cards.setdefault(topic, []).append(response.get_json()["cards"][0])
    dvt, pe, ischaemia = cards["suspected-dvt"], cards["suspected-pe"], cards["acute-limb-ischaemia"]
    entries = [_accept(dvt[0]), _override(dvt[1], "action-completed"), _override(dvt[2], "patient-refuses"),
               _accept(pe[0]), _accept(pe[1]), _override(ischaemia[0], "patient-ineligible")]
    response = client.post(f"{SERVICE}/feedback", json={"feedback": entries})
    assert response.status_code == 200, response.get_data(as_text=True)
    app.extensions["cds"].feedback_store.issued.flush(5.0)  # every issued card written before the pages read
    return hook_instances, [c["uuid"] for topic_cards in cards.values() for c in topic_cards]


@pytest.fixture(scope="module")
def populated(tmp_path_factory, client_key) -> Populated:
    folder = tmp_path_factory.mktemp("governance")
    config = make_config(folder, client_key, CLOCK_NOW=NOW)
    app = create_app(config)
    hook_instances, card_uuids = populate(app, client_key)
    yield Populated(app, config["FEEDBACK_DATABASE"], hook_instances, card_uuids)
    app.extensions["cds"].feedback_store.close()


@contextmanager
def serving(app):
    """The app on 127.0.0.1 (a port of the system's choosing) in a thread, for a real browser."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="governance-test-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)
