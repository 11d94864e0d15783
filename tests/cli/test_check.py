"""`cds-service check` against a real FHIR server (sekmet) holding one demo patient loaded by `demo load`."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from cds_service import cli, schemas
from tests.cli.conftest import run_cli, run_entry_point
from tests.conftest import SECRETS
from tests.fhir_server import url_of_dead_server

pytestmark = pytest.mark.integration

PATIENT = "demo-suspected-dvt"
WRONG_TOKEN = "wrong-token-0123456789abcdef"
SECRETS.add(WRONG_TOKEN)


@pytest.fixture(scope="module")
def server(sekmet):
    assert cli.main(["demo", "load", "--fhir-server", sekmet.base_url, "--token", sekmet.token,
                     "--patient", PATIENT]) == 0
    return sekmet


def check(capsys, server, *extra, token=True):
    args = ["check", "--fhir-server", server.base_url, "--patient", PATIENT, *extra]
    if token:
        args += ["--token", server.token if token is True else token]
    return run_cli(capsys, *args)


def test_only_the_requested_demo_patient_was_loaded(server):
    assert server.get(f"Patient/{PATIENT}").status == 200
    assert server.get("Patient/demo-suspected-pe").status == 404


def test_cards_readable_for_a_person(capsys, server):
    code, out, err = check(capsys, server)
    assert code == 0, err
    assert out.startswith(f"Patient {PATIENT} on {server.base_url}: 1 card\n")
    assert "1. [WARNING] Suspected DVT, Wells 2 (likely)" in out
    assert "topic: suspected-dvt (Suspected deep vein thrombosis)" in out
    # the detail's evidence lines, with the resources they come from
    assert "from the record:" in out
    assert "Swelling of limb (finding) (SNOMED CT 80068009)" in out and f"[Condition/{PATIENT}-cond-3]" in out
    assert f"[Procedure/{PATIENT}-proc-5]" in out
    # suggestions with their order codes
    assert "* Order proximal leg-vein ultrasound (result within 4 hours) (recommended)" in out
    assert "order: LOINC 30881-7 US.doppler Lower extremity vein (ServiceRequest, urgent)" in out
    assert "order: LOINC 48065-7" in out
    assert server.token not in out + err


def test_json_is_the_raw_cds_response_and_valid(capsys, server):
    code, out, err = check(capsys, server, "--json")
    assert code == 0, err
    response = json.loads(out)
    assert schemas.first_error("response", response) is None
    assert [card["source"]["topic"]["code"] for card in response["cards"]] == ["suspected-dvt"]
    request = response["cards"][0]["suggestions"][0]["actions"][0]["resource"]
    assert request["subject"] == {"reference": f"Patient/{PATIENT}"}
    assert server.token not in out + err


def test_wrong_token_fails_and_is_never_printed(capsys, server):
    code, out, err = check(capsys, server, token=WRONG_TOKEN)
    assert code == 1
    assert "HTTP 412" in err and "fhirServer answered 401" in err
    assert WRONG_TOKEN not in out + err and server.token not in out + err


def test_wrong_token_with_json_prints_the_operation_outcome(capsys, server):
    code, out, err = check(capsys, server, "--json", token=WRONG_TOKEN)
    assert code == 1
    outcome = json.loads(out)
    assert outcome["resourceType"] == "OperationOutcome" and "401" in outcome["issue"][0]["diagnostics"]
    assert WRONG_TOKEN not in out + err


def test_token_from_the_environment(capsys, server, monkeypatch):
    monkeypatch.setenv("FHIR_ACCESS_TOKEN", server.token)
    code, out, err = check(capsys, server, token=False)
    assert code == 0, err
    assert "1 card" in out and server.token not in out + err


def test_no_token_for_a_server_that_needs_one(capsys, server, monkeypatch):
    monkeypatch.delenv("FHIR_ACCESS_TOKEN", raising=False)
    code, out, err = check(capsys, server, token=False)
    assert code == 1 and "fhirServer answered 401" in err


def test_unknown_patient(capsys, server):
    code, out, err = run_cli(capsys, "check", "--fhir-server", server.base_url, "--patient", "nobody-here",
                             "--token", server.token)
    assert code == 1
    assert err == "error: the service answered HTTP 412: required data could not be obtained: " \
                  "patient: fhirServer answered 404\n"
    assert out == ""


def test_unreachable_server(capsys):
    dead = url_of_dead_server()
    code, out, err = run_cli(capsys, "check", "--fhir-server", dead, "--patient", PATIENT)
    assert code == 1 and "could not be reached" in err


def test_now_sets_the_moment_of_evaluation(capsys, server):
    # The server holds the demo data moved to today (the module's fixture loads it): today the card fires,
    # 400 days on every finding is stale, whatever today is.
    today = datetime.now(timezone.utc).date()
    code, out, _ = check(capsys, server, "--now", f"{today.isoformat()}T12:00:00Z")
    assert code == 0 and ": 1 card\n" in out
    code, out, _ = check(capsys, server, "--now", f"{today + timedelta(days=400)}T12:00:00Z")
    assert code == 0 and ": 0 cards\n" in out and "No card" in out


@pytest.mark.parametrize("argv", [
    ["check", "--fhir-server", "ftp://example.org/fhir", "--patient", "p"],
    ["check", "--fhir-server", "https://user:pw@example.org/fhir", "--patient", "p"],
    ["check", "--fhir-server", "https://example.org/fhir"],
    ["check", "--fhir-server", "https://example.org/fhir", "--patient", "p", "--now", "yesterday"],
    ["demo", "load"],
    ["feedback"],
])
def test_usage_errors_exit_2(capsys, argv):
    with pytest.raises(SystemExit) as stop:
        cli.main(argv)
    assert stop.value.code == 2
    assert "user:pw" not in capsys.readouterr().err  # credentials in a URL are refused without echoing them


@pytest.mark.parametrize("command", [["check"], ["demo", "load"], ["demo", "list"], ["feedback", "report"]])
def test_help_documents_exit_codes(capsys, command):
    with pytest.raises(SystemExit) as stop:
        cli.main([*command, "--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert "exit codes:" in out and "\n  0  " in out and "\n  2  wrong arguments" in out


def test_installed_entry_point(server):
    """The `cds-service` console script, as a person runs it."""
    done = run_entry_point("check", "--fhir-server", server.base_url, "--patient", PATIENT,
                           "--token", server.token, "--json")
    assert done.returncode == 0, done.stderr
    response = json.loads(done.stdout)
    assert schemas.first_error("response", response) is None
    assert response["cards"][0]["source"]["topic"]["code"] == "suspected-dvt"
    assert server.token not in done.stdout + done.stderr
    assert "REQUIRE_JWT" not in done.stderr  # no warning meant for a listening server

    done = run_entry_point("check", "--fhir-server", server.base_url, "--patient", PATIENT, "--token", WRONG_TOKEN)
    assert done.returncode == 1
    assert "fhirServer answered 401" in done.stderr
    assert WRONG_TOKEN not in done.stdout + done.stderr
