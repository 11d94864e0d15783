"""The bundled demo patients: one per card topic, each a faithful copy of a clinical scenario (same codes,
same dates; only ids, subjects and a name changed), and each giving its card - also with its dates moved."""
from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from cds_service import create_app
from cds_service.content.catalogue import default_catalogue
from cds_service.tools import demo
from cds_service.tools.dates import ANCHOR, shift_dates
from tests.cli.conftest import run_cli
from tests.support.fhir_data import prefetch_for

REPO = Path(__file__).resolve().parents[2]
PATIENTS = demo.demo_patients()
FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


def test_one_demo_patient_per_card_topic():
    assert [p.topic for p in PATIENTS] == list(demo.TOPICS)
    assert len(PATIENTS) == len(demo.TOPICS)
    catalogue = default_catalogue()
    # the clinical cards in the card order, most urgent first (incomplete-check is about the data: no patient)
    assert demo.TOPICS == catalogue.clinical_topics == tuple(t for t in catalogue.topic_order if t != "incomplete-check")
    for patient in PATIENTS:
        assert patient.id == f"demo-{patient.topic}" == patient.patient["id"]
        assert patient.expected_topics[0] == patient.topic


def test_every_resource_belongs_to_its_demo_patient_and_ids_are_unique():
    ids = set()
    for patient in PATIENTS:
        assert patient.patient["resourceType"] == "Patient"
        for resource in patient.all_resources():
            key = f"{resource['resourceType']}/{resource['id']}"
            assert FHIR_ID.match(resource["id"]), key
            assert key not in ids, f"{key} appears twice"
            ids.add(key)
        for resource in patient.resources:
            assert resource["subject"] == {"reference": f"Patient/{patient.id}"}
            assert resource["id"].startswith(f"{patient.id}-")
            references = re.findall(r'"reference": "([^"]+)"', json.dumps(resource))
            assert references == [f"Patient/{patient.id}"], "a reference to anything but the demo patient"


@pytest.mark.parametrize("patient", PATIENTS, ids=[p.id for p in PATIENTS])
def test_each_demo_patient_is_a_copy_of_its_scenario(patient):
    """Codes, values and dates exactly as in the scenario: nothing invented."""
    case = json.loads((REPO / patient.adapted_from).read_text(encoding="utf-8"))
    assert case["now"] == f"{ANCHOR.isoformat()}T12:00:00Z"
    assert list(patient.expected_topics) == case["expect"]["topics"]
    assert patient.title == case["title"]
    scenario_id = case["patient"]["id"]
    assert {k: v for k, v in patient.patient.items() if k not in ("id", "name")} == \
        {k: v for k, v in case["patient"].items() if k != "id"}
    assert len(patient.resources) == len(case["resources"])
    for ours, theirs in zip(patient.resources, case["resources"]):
        assert ours["id"] == f"{patient.id}-{theirs['id']}"
        assert theirs["subject"] == {"reference": f"Patient/{scenario_id}"}
        assert {k: v for k, v in ours.items() if k not in ("id", "subject")} == \
            {k: v for k, v in theirs.items() if k not in ("id", "subject")}


def _topics(tmp_path, patient: demo.DemoPatient, days: int) -> list[str]:
    """The hook's answer for the demo patient (as prefetch), its dates moved by `days`, evaluated `days`
    after the scenarios' moment."""
    now = datetime(ANCHOR.year, ANCHOR.month, ANCHOR.day, 12, tzinfo=timezone.utc) + timedelta(days=days)
    app = create_app({"REQUIRE_JWT": False, "FEEDBACK_DATABASE": f"sqlite:///{tmp_path / 'feedback.sqlite3'}",
                      "VALIDATE_RESPONSES": True, "CLOCK_NOW": now.isoformat()})
    case = {"patient": shift_dates(patient.patient, days), "resources": shift_dates(list(patient.resources), days)}
    body = {"hook": "patient-view", "hookInstance": str(uuid.uuid4()),
            "context": {"userId": "Practitioner/demo", "patientId": patient.id}, "prefetch": prefetch_for(case)}
    response = app.test_client().post("/cds-services/posterior-knee-pain", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return [card["source"]["topic"]["code"] for card in response.get_json()["cards"]]


@pytest.mark.parametrize("days", [0, 1, 45, -30, 400])
@pytest.mark.parametrize("patient", PATIENTS, ids=[p.id for p in PATIENTS])
def test_moved_dates_give_the_same_cards_on_the_day_they_are_moved_to(tmp_path, patient, days):
    assert _topics(tmp_path, patient, days) == list(patient.expected_topics)


def test_unmoved_dates_go_stale():
    """Why the dates are moved: a year later, the same data raises no DVT card."""
    patient = next(p for p in PATIENTS if p.topic == "suspected-dvt")
    now = f"{ANCHOR.year + 1}-{ANCHOR.month:02d}-{ANCHOR.day:02d}T12:00:00Z"
    app = create_app({"REQUIRE_JWT": False, "FEEDBACK_DATABASE": "sqlite://", "CLOCK_NOW": now})
    body = {"hook": "patient-view", "hookInstance": str(uuid.uuid4()),
            "context": {"userId": "Practitioner/demo", "patientId": patient.id},
            "prefetch": prefetch_for({"patient": patient.patient, "resources": list(patient.resources)})}
    cards = app.test_client().post("/cds-services/posterior-knee-pain", json=body).get_json()["cards"]
    assert "suspected-dvt" not in [c["source"]["topic"]["code"] for c in cards]


def test_transaction_bundle_puts_every_resource_at_its_id_with_moved_dates():
    bundle = demo.transaction_bundle(PATIENTS, 10)
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "transaction"
    resources = [r for p in PATIENTS for r in p.all_resources()]
    assert len(bundle["entry"]) == len(resources)
    for entry, original in zip(bundle["entry"], resources):
        assert entry["request"] == {"method": "PUT", "url": f"{original['resourceType']}/{original['id']}"}
        assert entry["resource"] == shift_dates(original, 10)
    first = bundle["entry"][0]["resource"]
    assert first["resourceType"] == "Patient" and first["birthDate"] != PATIENTS[0].patient["birthDate"]


def test_select_by_id():
    assert [p.id for p in demo.select(PATIENTS, ["demo-known-dvt", "demo-suspected-pe"])] == \
        ["demo-suspected-pe", "demo-known-dvt"]
    assert demo.select(PATIENTS, None) == PATIENTS
    with pytest.raises(KeyError, match="demo-nobody"):
        demo.select(PATIENTS, ["demo-nobody"])


def test_demo_list(capsys):
    code, out, err = run_cli(capsys, "demo", "list")
    assert code == 0 and not err
    lines = out.splitlines()
    for patient in PATIENTS:
        row = next(line for line in lines if line.startswith(patient.id + " "))
        assert row.split()[1] == patient.topic
    code, out, _ = run_cli(capsys, "demo", "list", "--json")
    assert code == 0
    assert {p["id"]: p["expectedTopic"] for p in json.loads(out)} == {p.id: p.topic for p in PATIENTS}
