"""GET /cds-services (CDS Hooks 2.0 §Discovery)."""
from __future__ import annotations


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
    assert prefetch == {
        "patient": "Patient/{{context.patientId}}",
        "conditions": "Condition?patient={{context.patientId}}",
        "observations": "Observation?patient={{context.patientId}}",
        "medications": "MedicationRequest?patient={{context.patientId}}&status=active,completed,stopped",
        "procedures": "Procedure?patient={{context.patientId}}",
        "medicationStatements": "MedicationStatement?patient={{context.patientId}}",
        "medicationAdministrations": "MedicationAdministration?patient={{context.patientId}}",
        "diagnosticReports": "DiagnosticReport?patient={{context.patientId}}",
    }


def test_discovery_is_json(client):
    response = client.get("/cds-services")
    assert response.mimetype == "application/json"
