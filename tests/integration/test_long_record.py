"""A PE presentation buried in years of routine history, served by a real FHIR server (sekmet) with no
prefetch: the fallback asks only for each rule's window, newest first, so the critical PE card comes first
within the production hook deadline however long the record (issue "Never silent", long records)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from cds_service import create_app
from cds_service.config import DEFAULTS
from tests.conftest import SignedClient, make_config
from tests.support.fhir_data import hook_request

SERVICE = "/cds-services/posterior-knee-pain"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
LOINC, SCT = "http://loinc.org", "http://snomed.info/sct"


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def long_record(pid: str, n_history: int) -> list[dict]:
    """An untreated DVT diagnosed yesterday and a heart rate of 112 an hour ago (the PE card), after
    `n_history` resources of routine history: normal vital signs every 8 hours going back years, and an old
    resolved problem for every 50 of them."""
    subject = {"reference": f"Patient/{pid}"}
    out: list[dict] = [
        {"resourceType": "Patient", "id": pid, "gender": "male", "birthDate": "1958-03-02"},
        {"resourceType": "Condition", "id": f"{pid}-dvt", "subject": subject,
         "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                        "code": "active"}]},
         "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                                            "code": "confirmed"}]},
         "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "I82.411"}]},
         "onsetDateTime": _when(NOW - timedelta(days=1)), "recordedDate": _when(NOW - timedelta(days=1))},
        {"resourceType": "Observation", "id": f"{pid}-hr-now", "status": "final", "subject": subject,
         "code": {"coding": [{"system": LOINC, "code": "8867-4"}]}, "effectiveDateTime": _when(NOW - timedelta(hours=1)),
         "valueQuantity": {"value": 112, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"}},
    ]
    for i in range(n_history):
        taken = NOW - timedelta(hours=2 + 8 * i)
        if i % 50 == 49:
            out.append({"resourceType": "Condition", "id": f"{pid}-old-{i}", "subject": subject,
                        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                                       "code": "resolved"}]},
                        "code": {"coding": [{"system": SCT, "code": "195662009"}]},  # acute viral pharyngitis
                        "onsetDateTime": _when(taken), "recordedDate": _when(taken)})
            continue
        code, value = (("8867-4", 72), ("9279-1", 14), ("59408-5", 98))[i % 3]
        out.append({"resourceType": "Observation", "id": f"{pid}-v-{i}", "status": "final", "subject": subject,
                    "code": {"coding": [{"system": LOINC, "code": code}]}, "effectiveDateTime": _when(taken),
                    "valueQuantity": {"value": value, "system": "http://unitsofmeasure.org"}})
    return out


@pytest.mark.parametrize("n_history", [3_000, 20_000])
def test_a_pe_presentation_after_years_of_history_gets_the_critical_card_first(fhir_server, tmp_path, client_key,
                                                                                 n_history):
    pid = f"long-{n_history}"
    resources = long_record(pid, n_history)
    for start in range(0, len(resources), 2_000):
        fhir_server.load_resources(resources[start:start + 2_000])
    app = create_app(make_config(tmp_path, client_key, CLOCK_NOW=_when(NOW),
                                 HOOK_DEADLINE_SECONDS=DEFAULTS["HOOK_DEADLINE_SECONDS"],
                                 FHIR_FETCH_DEADLINE_SECONDS=DEFAULTS["FHIR_FETCH_DEADLINE_SECONDS"]))
    client = SignedClient(app.test_client(), client_key)
    body = hook_request(pid=pid, fhirServer=fhir_server.base_url)
    body["fhirAuthorization"] = {"access_token": fhir_server.token, "token_type": "Bearer", "expires_in": 300,
                                 "scope": "patient/*.read", "subject": "cds-service", "patient": pid}
    client.post(SERVICE, json=body)  # warm: connection pool, first-use imports
    response = client.post(SERVICE, json=body)
    assert response.status_code == 200
    cards = response.get_json()["cards"]
    assert cards[0]["indicator"] == "critical" and "PE" in cards[0]["summary"], [c["summary"] for c in cards]
