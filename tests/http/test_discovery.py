"""GET /cds-services (CDS Hooks 2.0 §Discovery)."""
from __future__ import annotations

import json
from pathlib import Path

VALUESETS = Path(__file__).resolve().parents[2] / "valueset"


def test_discovery_lists_the_posterior_knee_pain_service(client):
    response = client.get("/cds-services")
    assert response.status_code == 200
    (service,) = response.get_json()["services"]
    assert service["id"] == "posterior-knee-pain"
    assert service["hook"] == "patient-view"
    assert service["title"] and service["description"]
    for scope in ("Patient.read", "Condition.read", "Observation.read", "MedicationRequest.read", "Procedure.read"):
        assert scope in service["usageRequirements"]


def test_discovery_prefetch_templates_cover_what_the_rules_read(client):
    prefetch = client.get("/cds-services").get_json()["services"][0]["prefetch"]
    imaging = ",".join(_codes("dvt-imaging") + _codes("pe-imaging") + _codes("arterial-imaging-leg"))
    assert prefetch == {
        "patient": "Patient/{{context.patientId}}",
        "conditions": "Condition?patient={{context.patientId}}",
        # Years of vital signs: the newest 500, the first page complete by design (issue "Never silent").
        "observations": "Observation?patient={{context.patientId}}&_sort=-date&_count=500",
        "medications": "MedicationRequest?patient={{context.patientId}}&status=active,completed,stopped",
        "procedures": "Procedure?patient={{context.patientId}}",
        "medicationStatements": "MedicationStatement?patient={{context.patientId}}",
        "medicationAdministrations":
            "MedicationAdministration?patient={{context.patientId}}&_sort=-effective-time&_count=100",
        # Only the studies a rule reads, by the codes of their value sets (never typed in by hand).
        "diagnosticReports": f"DiagnosticReport?patient={{{{context.patientId}}}}&code={imaging}&_sort=-date&_count=50",
    }


def test_prefetch_templates_stay_in_the_cds_hooks_query_subset(client):
    """CDS Hooks 2.0 recommends read, type search with reference, token, date, _count and _sort only."""
    allowed = {"patient", "status", "code", "_sort", "_count"}
    for query in client.get("/cds-services").get_json()["services"][0]["prefetch"].values():
        if "?" in query:
            names = {pair.split("=")[0] for pair in query.split("?", 1)[1].split("&")}
            assert names <= allowed, query


def _codes(value_set_id: str) -> list[str]:
    resource = json.loads((VALUESETS / f"{value_set_id}.json").read_text())
    return [c["code"] for include in resource["compose"]["include"] for c in include["concept"]]


def test_discovery_is_json(client):
    response = client.get("/cds-services")
    assert response.mimetype == "application/json"
