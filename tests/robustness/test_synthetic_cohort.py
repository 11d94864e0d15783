"""300 synthetic patients nobody here wrote (clinosim and carebundle, tests/data/synthetic), through the whole
service at three evaluation times: every answer 200 and schema-valid, and the cards that fire are sane —
rare in a general hospital population, each backed by the patient's own resources."""
from __future__ import annotations

import gzip
import json
import uuid
from collections import Counter
from pathlib import Path

import pytest

from cds_service import create_app
from cds_service.content.catalogue import default_catalogue
from tests.conftest import SignedClient, make_config

DATA = Path(__file__).parents[1] / "data" / "synthetic" / "patients.jsonl.gz"
SERVICE = "/cds-services/posterior-knee-pain"
# The cohort's encounters run from 2024-01 to 2026-01: evaluate in the middle of its busiest stretches.
EVALUATION_TIMES = ("2024-06-20T00:00:00Z", "2025-06-20T00:00:00Z", "2026-01-02T00:00:00Z")
TOPICS = set(default_catalogue().topic_order)


@pytest.fixture(scope="module")
def cohort() -> list[dict]:
    with gzip.open(DATA, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def references(prefetch: dict) -> set[str]:
    refs = set()
    for key, value in prefetch.items():
        for entry in (value or {}).get("entry", []):
            refs.add(f"{entry['resource']['resourceType']}/{entry['resource']['id']}")
    return refs


def codes(prefetch: dict, key: str) -> set[str]:
    return {coding.get("code") for entry in (prefetch[key] or {}).get("entry", [])
            for coding in (entry["resource"].get("code") or {}).get("coding", [])}


VTE_CODES = {"I80.20", "I82.90", "I82.401", "I82.402", "I82.409", "404223003", "128053003", "I26.99"}


@pytest.mark.parametrize("now", EVALUATION_TIMES)
def test_every_synthetic_patient_gets_a_valid_answer_and_sane_cards(tmp_path, client_key, cohort, now, capsys):
    app = create_app(make_config(tmp_path, client_key, CLOCK_NOW=now, MAX_CONTENT_LENGTH=64 * 1024 * 1024))
    client = SignedClient(app.test_client(), client_key)  # checks every response against the schema
    fired: Counter = Counter()
    patients_with_cards = 0
    for patient in cohort:
        body = {"hook": "patient-view", "hookInstance": str(uuid.uuid4()),
                "context": {"userId": "Practitioner/robustness", "patientId": patient["patientId"]},
                "prefetch": patient["prefetch"]}
        response = client.post(SERVICE, json=body)
        assert response.status_code == 200, (patient["patientId"], response.get_data(as_text=True)[:300])
        cards = response.get_json()["cards"]
        patients_with_cards += bool(cards)
        own = references(patient["prefetch"])
        for card in cards:
            topic = card["source"]["topic"]["code"]
            fired[(topic, card["indicator"])] += 1
            assert topic in TOPICS
            cited = {reason["reference"] for suggestion in card.get("suggestions", [])
                     for action in suggestion["actions"] for reason in action["resource"].get("reasonReference", [])}
            assert cited <= own, "a card must cite this patient's own resources"
            assert cited or not card.get("suggestions"), "an order gives its reasons"
            if card["indicator"] == "critical":
                # The only emergencies here: the DVT cohort's patients whose SpO2 dipped below 95 % (the worst
                # reading in 24 h counts): a PE must be considered for them, as for any patient with a clot.
                assert topic == "suspected-pe" and codes(patient["prefetch"], "conditions") & VTE_CODES, topic
            if topic == "known-dvt":
                assert codes(patient["prefetch"], "conditions") & VTE_CODES
    with capsys.disabled():
        print(f"\n{now}: {len(cohort)} patients, {patients_with_cards} with cards: "
              + (", ".join(f"{t} {i} ×{n}" for (t, i), n in sorted(fired.items())) or "no cards"))
    # A general hospital population: cards are the exception, and no emergency but a possible PE in a clot.
    assert patients_with_cards <= 0.1 * len(cohort)
    assert not [key for key in fired if key[1] == "critical" and key[0] != "suspected-pe"]
