"""`cds-service demo`: synthetic demo patients, one per card topic, loaded into any FHIR server.

The patients are package data (cds_service/demo/demo-<topic>.json), each adapted from one of the clinical
scenarios in tests/scenarios/cases: the same Patient and resources with the same codes and dates, only the
ids changed (`demo-<topic>` for the Patient, `demo-<topic>-<scenario id>` for its resources) and a name
added. They are loaded with one transaction Bundle of PUT entries, so the ids are ours and loading twice
updates rather than duplicates. Their dates are moved from the day the scenarios were written for to today
(tools.dates), so the cards fire when the hook is called today.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from importlib import resources

import requests

from ..content.catalogue import default_catalogue
from .dates import ANCHOR, days_since_anchor, shift_dates

# The clinical card topics in the order the service ranks them (most urgent first); one demo patient each.
TOPICS = default_catalogue().clinical_topics

FHIR_JSON = "application/fhir+json"


class DemoLoadError(Exception):
    """The demo patients could not be loaded. The message never holds the token."""


@dataclass(frozen=True)
class DemoPatient:
    id: str
    topic: str  # the topic of the first card the hook must answer with
    title: str
    expected_topics: tuple[str, ...]  # every card's topic, in order
    adapted_from: str
    patient: dict
    resources: tuple[dict, ...]

    def all_resources(self) -> list[dict]:
        return [self.patient, *self.resources]


@dataclass
class LoadResult:
    server: str
    days_shifted: int
    patients: list[DemoPatient]
    created: int = 0
    updated: int = 0
    statuses: list[str] = field(default_factory=list)

    @property
    def resources(self) -> int:
        return self.created + self.updated


def demo_patients() -> list[DemoPatient]:
    """Every bundled demo patient, in TOPICS order."""
    folder = resources.files("cds_service").joinpath("demo")
    patients = []
    for topic in TOPICS:
        data = json.loads(folder.joinpath(f"demo-{topic}.json").read_text(encoding="utf-8"))
        patients.append(DemoPatient(
            id=data["id"], topic=data["topic"], title=data["title"],
            expected_topics=tuple(data["expectedTopics"]), adapted_from=data["adaptedFrom"],
            patient=data["patient"], resources=tuple(data["resources"])))
    return patients


def select(patients: Sequence[DemoPatient], ids: Iterable[str] | None) -> list[DemoPatient]:
    """The patients named by `ids` (all when None); an unknown id raises KeyError naming it."""
    if not ids:
        return list(patients)
    by_id = {p.id: p for p in patients}
    unknown = [i for i in ids if i not in by_id]
    if unknown:
        raise KeyError(f"no demo patient {', '.join(unknown)} (see `cds-service demo list`)")
    wanted = set(ids)
    return [p for p in patients if p.id in wanted]


def transaction_bundle(patients: Iterable[DemoPatient], days: int) -> dict:
    """One transaction of PUT entries (Patient first, then its resources), dates moved by `days`."""
    entries = []
    for patient in patients:
        for resource in patient.all_resources():
            entries.append({"resource": shift_dates(resource, days),
                            "request": {"method": "PUT", "url": f"{resource['resourceType']}/{resource['id']}"}})
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def load(fhir_server: str, patients: Sequence[DemoPatient], token: str | None = None,
         today: date | None = None, timeout: float = 60.0) -> LoadResult:
    """POST the demo patients to `fhir_server` as one transaction; counts created (201) and updated (200)."""
    base = fhir_server.rstrip("/")
    days = days_since_anchor(today)
    headers = {"Content-Type": FHIR_JSON, "Accept": FHIR_JSON}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = json.dumps(transaction_bundle(patients, days)).encode("utf-8")
    with requests.Session() as session:
        session.trust_env = False  # like the service: no proxy picked up from the environment
        try:
            response = session.post(base, data=body, headers=headers, timeout=timeout, allow_redirects=False)
        except requests.RequestException as error:
            raise DemoLoadError(f"could not reach {base} ({type(error).__name__})") from None
    answer = _json_or_none(response)
    if response.status_code != 200:
        raise DemoLoadError(f"{base} answered HTTP {response.status_code}" + _diagnostics(answer))
    if not isinstance(answer, dict) or answer.get("type") != "transaction-response":
        raise DemoLoadError(f"{base} did not answer with a transaction-response Bundle")
    result = LoadResult(server=base, days_shifted=days, patients=list(patients))
    for entry in answer.get("entry") or []:
        status = str(((entry or {}).get("response") or {}).get("status", ""))
        result.statuses.append(status)
        if status.startswith("201"):
            result.created += 1
        elif status.startswith("200"):
            result.updated += 1
    expected = sum(len(p.all_resources()) for p in patients)
    if result.resources != expected:
        raise DemoLoadError(f"{base} stored {result.resources} of {expected} resources "
                            f"(entry statuses: {', '.join(result.statuses) or 'none'})")
    return result


def _json_or_none(response: requests.Response):
    try:
        return response.json()
    except ValueError:
        return None


def _diagnostics(outcome) -> str:
    if not isinstance(outcome, dict) or outcome.get("resourceType") != "OperationOutcome":
        return ""
    texts = [issue.get("diagnostics") or (issue.get("details") or {}).get("text") or issue.get("code", "")
             for issue in outcome.get("issue") or [] if isinstance(issue, dict)]
    return ": " + "; ".join(t for t in texts if t) if any(texts) else ""


# ------------------------------------------------------------------------------------------ output

def format_load(result: LoadResult) -> str:
    lines = [f"Loaded {len(result.patients)} demo patient{'s' * (len(result.patients) != 1)} into "
             f"{result.server}: {result.resources} resources ({result.created} created, {result.updated} updated).",
             f"Dates moved by {result.days_shifted:+d} days (the data was written for {ANCHOR.isoformat()}).",
             "", *_patient_table(result.patients), "",
             f"Try: cds-service check --fhir-server {result.server} --patient {result.patients[0].id}"
             if result.patients else ""]
    return "\n".join(lines).rstrip() + "\n"


def format_list(patients: Sequence[DemoPatient]) -> str:
    return "\n".join(_patient_table(patients, with_title=True)) + "\n"


def _patient_table(patients: Sequence[DemoPatient], with_title: bool = False) -> list[str]:
    width = max([len("patient id"), *(len(p.id) for p in patients)])
    topic_width = max([len("expected first card"), *(len(p.topic) for p in patients)])
    header = f"{'patient id':<{width}}  {'expected first card':<{topic_width}}" + ("  scenario" if with_title else "")
    rows = [header.rstrip(), "-" * len(header.rstrip())]
    for p in patients:
        row = f"{p.id:<{width}}  {p.topic:<{topic_width}}" + (f"  {p.title}" if with_title else "")
        rows.append(row.rstrip())
    return rows
