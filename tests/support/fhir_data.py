"""Small FHIR R4 builders for tests: a patient, searchset Bundles, a full prefetch."""
from __future__ import annotations

import uuid


def patient(pid: str = "pat-1", birth_date: str = "1968-04-12", gender: str = "female") -> dict:
    return {"resourceType": "Patient", "id": pid, "gender": gender, "birthDate": birth_date}


def condition(pid: str = "pat-1", code: str = "404223003", system: str = "http://snomed.info/sct",
              cid: str | None = None, display: str = "Deep venous thrombosis of lower extremity") -> dict:
    return {
        "resourceType": "Condition",
        "id": cid or f"cond-{uuid.uuid4().hex[:8]}",
        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                       "code": "active"}]},
        "code": {"coding": [{"system": system, "code": code, "display": display}]},
        "subject": {"reference": f"Patient/{pid}"},
    }


def searchset(resources: list[dict], *, server: str | None = None, query: str | None = None,
              full_urls: bool = True, empty_entry: bool = False) -> dict:
    """A searchset Bundle of `resources`, every entry in search mode `match`.

    server: the FHIR base the Bundle came from: each entry's fullUrl is `<server>/<type>/<id>`, and `query`
    (e.g. "Condition?patient=p1") becomes the Bundle's self link. Without a server each entry gets a fresh
    urn:uuid fullUrl, or none with full_urls=False. An empty Bundle has no `entry`, or `"entry": []` with
    empty_entry=True."""
    if query is not None and server is None:
        raise ValueError("a self link needs the server's base URL")
    bundle: dict = {"resourceType": "Bundle", "type": "searchset", "total": len(resources)}
    if query is not None:
        bundle["link"] = [{"relation": "self", "url": f"{server}/{query}"}]
    if resources or empty_entry:
        bundle["entry"] = [_entry(r, server, full_urls) for r in resources]
    return bundle


def _entry(resource: dict, server: str | None, full_urls: bool) -> dict:
    if server is not None:
        head = {"fullUrl": f"{server}/{resource['resourceType']}/{resource['id']}"}
    elif full_urls:
        head = {"fullUrl": f"urn:uuid:{uuid.uuid4()}"}
    else:
        head = {}
    return head | {"resource": resource, "search": {"mode": "match"}}


def full_prefetch(pid: str = "pat-1", conditions: list[dict] | None = None) -> dict:
    return {
        "patient": patient(pid),
        "conditions": searchset(conditions or []),
        "observations": searchset([]),
        "medications": searchset([]),
        "procedures": searchset([]),
    }


def hook_request(pid: str = "pat-1", prefetch: dict | None = None, **extra) -> dict:
    body = {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/example", "patientId": pid},
    }
    if prefetch is not None:
        body["prefetch"] = prefetch
    body.update(extra)
    return body


PREFETCH_KEYS = {"Condition": "conditions", "Observation": "observations", "MedicationRequest": "medications",
                 "Procedure": "procedures", "MedicationStatement": "medicationStatements",
                 "MedicationAdministration": "medicationAdministrations", "DiagnosticReport": "diagnosticReports"}


def prefetch_for(case: dict) -> dict:
    """A scenario case (tests/scenarios/cases) as a CDS Hooks prefetch: each resource in its key's Bundle."""
    grouped: dict[str, list[dict]] = {key: [] for key in PREFETCH_KEYS.values()}
    for resource in case["resources"]:
        grouped[PREFETCH_KEYS[resource["resourceType"]]].append(resource)
    prefetch = {key: searchset(resources, full_urls=False) for key, resources in grouped.items()}
    prefetch["patient"] = case["patient"]
    return prefetch


# The moment the paging patient's data is written for: tests that load it pin CLOCK_NOW to this, so the heart
# rate three hours earlier is inside the 24-hour vital-sign window whatever day the suite runs.
PAGING_NOW = "2026-11-21T12:00:00Z"


def paging_patient(pid: str, n_conditions: int) -> list[dict]:
    """A patient with enough Conditions to page, plus one resource of every other prefetched type; dated for
    an evaluation at PAGING_NOW."""
    subject = {"reference": f"Patient/{pid}"}
    out = [{"resourceType": "Patient", "id": pid, "gender": "female", "birthDate": "1961-02-03"}]
    for i in range(n_conditions):
        out.append({"resourceType": "Condition", "id": f"{pid}-c{i}", "subject": subject,
                    "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                                   "code": "active"}]},
                    "code": {"coding": [{"system": "http://snomed.info/sct", "code": "30989003",
                                         "display": "Knee pain"}]}})
    out.append({"resourceType": "Observation", "id": f"{pid}-o1", "status": "final", "subject": subject,
                "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4", "display": "Heart rate"}]},
                "effectiveDateTime": "2026-11-21T09:00:00Z",
                "valueQuantity": {"value": 88, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"}})
    out.append({"resourceType": "MedicationRequest", "id": f"{pid}-m1", "status": "active", "intent": "order",
                "subject": subject, "medicationCodeableConcept": {"coding": [{
                    "system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1364445",
                    "display": "apixaban 5 MG Oral Tablet"}]}})
    out.append({"resourceType": "Procedure", "id": f"{pid}-p1", "status": "completed", "subject": subject,
                "code": {"coding": [{"system": "http://snomed.info/sct", "code": "609588000",
                                     "display": "Total knee replacement"}]},
                "performedDateTime": "2026-10-30"})
    return out
