"""`cds-service demo load` into a real FHIR server (sekmet): idempotent, dates moved to today, and the
end-to-end proof that the demo works: `cds-service check` on each demo patient gives its expected cards."""
from __future__ import annotations

import contextlib
import io
import json

import pytest

from cds_service import cli
from cds_service.tools import demo
from cds_service.tools.dates import days_since_anchor, shift_value
from tests.cli.conftest import run_cli
from tests.conftest import SECRETS
from tests.fhir_server import url_of_dead_server

pytestmark = pytest.mark.integration

PATIENTS = demo.demo_patients()
TOTAL = sum(len(p.all_resources()) for p in PATIENTS)
SEARCH_KEYS = {"Condition": "patient", "Observation": "patient", "MedicationRequest": "patient",
               "Procedure": "patient"}


@pytest.fixture(scope="module")
def first_load(sekmet):
    """The first `demo load` into an empty server: its exit code and output."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["demo", "load", "--fhir-server", sekmet.base_url, "--token", sekmet.token])
    return code, out.getvalue(), err.getvalue()


def stored(server, patient: demo.DemoPatient) -> dict[str, int]:
    counts = {"Patient": int(server.get(f"Patient/{patient.id}").status == 200)}
    for resource_type, parameter in SEARCH_KEYS.items():
        bundle = server.get(resource_type, params={parameter: patient.id, "_summary": "count"}).json()
        counts[resource_type] = bundle["total"]
    return counts


def expected_counts(patient: demo.DemoPatient) -> dict[str, int]:
    counts = {"Patient": 1, **{t: 0 for t in SEARCH_KEYS}}
    for resource in patient.resources:
        counts[resource["resourceType"]] += 1
    return counts


def test_first_load_creates_every_resource(first_load, sekmet):
    code, out, err = first_load
    assert code == 0, err
    assert out.startswith(f"Loaded {len(PATIENTS)} demo patients into {sekmet.base_url}: {TOTAL} resources "
                          f"({TOTAL} created, 0 updated).\n")
    assert f"Dates moved by {days_since_anchor():+d} days (the data was written for 2026-11-22)." in out
    for patient in PATIENTS:
        row = next(line for line in out.splitlines() if line.startswith(patient.id + " "))
        assert row.split() == [patient.id, patient.topic]
    assert sekmet.token not in out + err


def test_loading_again_updates_and_duplicates_nothing(first_load, sekmet, capsys):
    code, out, err = run_cli(capsys, "demo", "load", "--fhir-server", sekmet.base_url, "--token", sekmet.token)
    assert code == 0, err
    assert f": {TOTAL} resources (0 created, {TOTAL} updated).\n" in out
    for patient in PATIENTS:
        assert stored(sekmet, patient) == expected_counts(patient), patient.id


def test_dates_are_moved_to_today(first_load, sekmet):
    days = days_since_anchor()
    patient = next(p for p in PATIENTS if p.topic == "septic-arthritis")
    stored_patient = sekmet.get(f"Patient/{patient.id}").json()
    assert stored_patient["birthDate"] == shift_value(patient.patient["birthDate"], days)
    observation = next(r for r in patient.resources if r["resourceType"] == "Observation")
    stored_observation = sekmet.get(f"Observation/{observation['id']}").json()
    assert stored_observation["effectiveDateTime"].startswith(
        shift_value(observation["effectiveDateTime"], days)[:10])
    assert stored_observation["code"] == observation["code"]


@pytest.mark.parametrize("patient", PATIENTS, ids=[p.id for p in PATIENTS])
def test_check_gives_each_demo_patient_its_expected_cards_today(first_load, sekmet, capsys, patient):
    """End to end, on today's clock: demo data in a FHIR server -> the service fetches it -> the cards."""
    code, out, err = run_cli(capsys, "check", "--fhir-server", sekmet.base_url, "--patient", patient.id,
                             "--token", sekmet.token, "--json")
    assert code == 0, err
    topics = [card["source"]["topic"]["code"] for card in json.loads(out)["cards"]]
    assert topics[:1] == [patient.topic]
    assert topics == list(patient.expected_topics)


def test_load_one_patient(sekmet, capsys):
    code, out, err = run_cli(capsys, "demo", "load", "--fhir-server", sekmet.base_url, "--token", sekmet.token,
                             "--patient", "demo-muscle-injury", "--patient", "demo-bakers-cyst")
    assert code == 0, err
    assert out.startswith(f"Loaded 2 demo patients into {sekmet.base_url}: 4 resources (")


def test_unknown_demo_patient(sekmet, capsys):
    code, out, err = run_cli(capsys, "demo", "load", "--fhir-server", sekmet.base_url, "--patient", "demo-nobody")
    assert code == 2 and "no demo patient demo-nobody" in err and out == ""


def test_wrong_token_fails_and_is_never_printed(sekmet, capsys):
    wrong = "not-the-token-" + sekmet.token[::-1]
    SECRETS.add(wrong)
    code, out, err = run_cli(capsys, "demo", "load", "--fhir-server", sekmet.base_url, "--token", wrong)
    assert code == 1
    assert err.startswith(f"error: {sekmet.base_url} answered HTTP 401")
    assert wrong not in out + err and sekmet.token not in out + err


def test_unreachable_server(capsys):
    code, out, err = run_cli(capsys, "demo", "load", "--fhir-server", url_of_dead_server())
    assert code == 1 and "could not reach" in err and out == ""
