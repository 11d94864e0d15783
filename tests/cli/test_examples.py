"""examples/*.json: one hook request per demo patient, as an EHR sends it (every prefetch key), kept in step
with the demo data; `cds-service check --prefetch FILE` shows each one's expected first card today, with no
FHIR server, and a file that is not a hook request is a usage error, not a trace."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from cds_service import cli
from cds_service.prefetch.templates import TEMPLATES
from cds_service.tools.demo import demo_patients
from cds_service.tools.examples import write_all

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PATIENTS = {p.id: p for p in demo_patients()}


def test_the_examples_are_the_demo_patients_as_hook_requests(tmp_path):
    written = {path.name: path.read_text(encoding="utf-8") for path in write_all(tmp_path)}
    shipped = {path.name: path.read_text(encoding="utf-8") for path in EXAMPLES.glob("*.json")}
    assert shipped == written, "regenerate: python -m cds_service.tools.examples examples"
    for text in shipped.values():
        assert set(json.loads(text)["prefetch"]) == {t.key for t in TEMPLATES}


@pytest.mark.parametrize("patient_id", sorted(PATIENTS))
def test_check_with_an_example_shows_its_expected_first_card_today(patient_id, capsys):
    code = cli.main(["check", "--prefetch", str(EXAMPLES / f"{patient_id}.json"), "--json"])
    out = capsys.readouterr().out
    assert code == cli.EXIT_OK
    cards = json.loads(out)["cards"]
    assert [c["source"]["topic"]["code"] for c in cards][:1] == [PATIENTS[patient_id].topic]


def test_check_with_a_file_that_is_not_a_hook_request_is_a_usage_error(tmp_path, capsys):
    path = tmp_path / "not-a-request.json"
    path.write_text('{"resourceType": "Patient"}')
    assert cli.main(["check", "--prefetch", str(path)]) == cli.EXIT_USAGE
    assert "not a hook request" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        cli.main(["check"])
    assert stop.value.code == cli.EXIT_USAGE and "--prefetch" in capsys.readouterr().err
