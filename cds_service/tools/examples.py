"""Example hook requests: a demo patient's record as a `patient-view` request with every prefetch key, the
way an EHR sends it. `examples/*.json` are these requests as written (dated for tools.dates.ANCHOR);
`cds-service check --prefetch FILE` and `demo` move them to today first."""
from __future__ import annotations

import json
from pathlib import Path

from ..prefetch.templates import TEMPLATES
from .dates import shift_dates

HOOK_INSTANCE = "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea"  # fixed, so the files do not change when regenerated


def request_for(patient: dict, resources: list[dict], days: int = 0) -> dict:
    """The hook request whose prefetch holds `patient` and `resources`, each in its key's searchset Bundle."""
    by_type = {t.resource_type: t.key for t in TEMPLATES if t.is_search}
    prefetch: dict = {t.key: {"resourceType": "Bundle", "type": "searchset", "entry": []} for t in TEMPLATES
                      if t.is_search}
    for resource in resources:
        key = by_type.get(resource["resourceType"])
        if key is not None:
            prefetch[key]["entry"].append({"resource": shift_dates(resource, days), "search": {"mode": "match"}})
    for bundle in prefetch.values():
        bundle["total"] = len(bundle["entry"])
    prefetch["patient"] = shift_dates(patient, days)
    return {"hook": "patient-view", "hookInstance": HOOK_INSTANCE,
            "context": {"userId": "Practitioner/example", "patientId": patient["id"]}, "prefetch": prefetch}


def moved(request: dict, days: int) -> dict:
    """A request read from a file, its prefetch's dates moved by `days` (birth dates too: ages stay)."""
    moved_request = dict(request)
    moved_request["prefetch"] = shift_dates(request.get("prefetch") or {}, days)
    return moved_request


def write_all(folder: Path) -> list[Path]:
    from .demo import demo_patients

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for patient in demo_patients():
        path = folder / f"{patient.id}.json"
        path.write_text(json.dumps(request_for(patient.patient, patient.resources), indent=1,
                                   ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # python -m cds_service.tools.examples examples
    import sys

    for written in write_all(Path(sys.argv[1] if len(sys.argv) > 1 else "examples")):
        print(written)
