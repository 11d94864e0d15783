"""One deadline for the whole hook (HOOK_DEADLINE_SECONDS): a record too long to read within it still gets
the cards the part read supports, marked as incomplete — never a late answer, never none."""
from __future__ import annotations

from cds_service import create_app
from tests.conftest import SignedClient, make_config
from tests.support.fhir_data import hook_request, patient, searchset

SERVICE = "/cds-services/posterior-knee-pain"
NOW = "2026-11-22T12:00:00Z"


def suspected_pe() -> dict:
    return {"resourceType": "Condition", "id": "pe-1", "subject": {"reference": "Patient/pat-1"},
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                           "code": "active"}]},
            "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                                               "code": "provisional"}]},
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "59282003",
                                 "display": "Pulmonary embolism"}]},
            "recordedDate": "2026-11-22T08:00:00Z"}


def calf_pain() -> dict:
    return {"resourceType": "Condition", "id": "calf-1", "subject": {"reference": "Patient/pat-1"},
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                           "code": "active"}]},
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "300954003",
                                 "display": "Pain in calf"}]},
            "recordedDate": "2026-11-22T08:00:00Z"}


def heart_rates(n: int) -> list[dict]:
    """n heart rates inside the 24-hour window: each is validated, so reading them all takes seconds."""
    return [{"resourceType": "Observation", "id": f"hr-{i}", "status": "final", "subject": {"reference": "Patient/pat-1"},
             "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4", "display": "Heart rate"}]},
             "effectiveDateTime": f"2026-11-22T{(i // 60) % 10:02d}:{i % 60:02d}:00Z",
             "valueQuantity": {"value": 80, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"}}
            for i in range(n)]


def prefetch_with(observations: list[dict], conditions: list[dict] | None = None) -> dict:
    prefetch = {key: searchset([]) for key in ("medications", "procedures", "medicationStatements",
                                               "medicationAdministrations", "diagnosticReports")}
    return {**prefetch, "patient": patient(), "conditions": searchset(conditions or [suspected_pe()]),
            "observations": searchset(observations)}


def test_a_record_too_long_for_the_deadline_still_gets_its_red_flag_marked_incomplete(tmp_path, client_key):
    app = create_app(make_config(tmp_path, client_key, CLOCK_NOW=NOW, HOOK_DEADLINE_SECONDS=0.2))
    prefetch = prefetch_with(heart_rates(20_000))
    records: list = []
    app.extensions["cds"].observers.append(lambda record, issued: records.append(record))
    response = SignedClient(app.test_client(), client_key).post(SERVICE, json=hook_request(prefetch=prefetch))
    assert response.status_code == 200
    cards = {c["source"]["topic"]["code"]: c for c in response.get_json()["cards"]}
    assert cards["suspected-pe"]["indicator"] == "critical"  # the Conditions, read first, show it
    assert "Observations could not be read" in cards["suspected-pe"]["detail"]
    assert "not all read within the hook's deadline" in cards["incomplete-check"]["detail"]
    (record,) = records
    read = sum(fact.kind == "Observation" for fact in record.facts)
    assert read < 20_000  # the deadline stopped the reading part-way
    assert any(fact.kind == "Condition" for fact in record.facts)  # the Conditions are always read whole


def test_out_of_time_the_check_incomplete_card_leads_a_card_that_is_not_critical(tmp_path, client_key):
    """r38b S4: calf pain, and vital signs too many to read in time. The DVT card is a warning built without
    them, and the PE check never saw them: the first card a clinician reads says the check is incomplete."""
    app = create_app(make_config(tmp_path, client_key, CLOCK_NOW=NOW, HOOK_DEADLINE_SECONDS=0.2))
    prefetch = prefetch_with(heart_rates(20_000), conditions=[calf_pain()])
    response = SignedClient(app.test_client(), client_key).post(SERVICE, json=hook_request(prefetch=prefetch))
    assert response.status_code == 200
    cards = response.get_json()["cards"]
    assert [c["source"]["topic"]["code"] for c in cards] == ["incomplete-check", "suspected-dvt"]
    assert cards[0]["indicator"] == "warning" and "Observations" in cards[0]["summary"]


def test_within_the_deadline_everything_is_read_and_nothing_is_marked(tmp_path, client_key):
    app = create_app(make_config(tmp_path, client_key, CLOCK_NOW=NOW, HOOK_DEADLINE_SECONDS=30.0))
    prefetch = prefetch_with(heart_rates(50))
    response = SignedClient(app.test_client(), client_key).post(SERVICE, json=hook_request(prefetch=prefetch))
    topics = [c["source"]["topic"]["code"] for c in response.get_json()["cards"]]
    assert topics == ["suspected-pe"]
