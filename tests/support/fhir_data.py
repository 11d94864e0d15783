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


def searchset(resources: list[dict]) -> dict:
    bundle = {"resourceType": "Bundle", "type": "searchset", "total": len(resources)}
    if resources:
        bundle["entry"] = [{"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": r, "search": {"mode": "match"}}
                           for r in resources]
    return bundle


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
