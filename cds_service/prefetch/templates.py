"""What the rules read, as CDS Hooks prefetch templates (advertised in discovery) and how each is checked.

A key the EHR left out is fetched. What happens when one cannot be had depends on its role:
- "always" (the Patient: age and sex decide which rules apply): a 412;
- "core" (Conditions, Observations: where findings are): a 412 only when neither can be read;
- "refines" (everything else): the rules run on what could be read, each card the source could change
  says what was not read, and a source the catalogue "announces" (a core one, medications, procedures)
  adds one info card saying which checks are incomplete (catalogue "refiningSources"). A red flag the data
  that was read shows is never held back by data that was not.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from datetime import datetime
from pathlib import Path

VALUESET_DIR = Path(__file__).resolve().parents[2] / "valueset"


@dataclass(frozen=True)
class Bound:
    """A search whose newest entries are what the rules read (years of vital signs, every report ever
    written): the prefetch asks for the newest `count`, sorted by `sort`, and that first page is complete by
    design (a `next` link beside it is not a reason to fetch more). The fallback, built by this service, asks
    only for entries inside the catalogue `window` and stops paging there, newest first, so a deadline that
    cuts the paging short still leaves the newest read."""
    sort: str  # the search parameter of the date the rules read
    count: int
    window: str  # a catalogue window name: no rule reads this resource type's entries older than this


@dataclass(frozen=True)
class PrefetchTemplate:
    key: str
    resource_type: str
    base: str  # relative to fhirServer, with CDS Hooks prefetch tokens; codes and bounds are added
    is_search: bool  # a search answers with a Bundle; a read with the resource itself
    role: str = "refines"  # "always" | "core" | "refines" (module docstring)
    codes: tuple[str, ...] = ()  # value sets: a token search by their codes (only coded entries are read)
    bound: Bound | None = None

    @property
    def required(self) -> bool:
        return self.role == "always"

    @property
    def query(self) -> str:
        """The prefetch template advertised in discovery (CDS Hooks 2.0's query subset: token, _sort, _count)."""
        query = self._with_codes()
        if self.bound:
            query += f"&_sort=-{self.bound.sort}&_count={self.bound.count}"
        return query

    def fallback(self, patient_id: str, since: datetime | None) -> str:
        """The query this service sends itself: bounded by date as well when the template is bounded."""
        query = self._with_codes()
        if self.bound and since is not None:
            query += f"&{self.bound.sort}=ge{since.strftime('%Y-%m-%dT%H:%M:%SZ')}"
        if self.bound:
            query += f"&_sort=-{self.bound.sort}"
        return query.replace("{{context.patientId}}", patient_id)

    def render(self, patient_id: str) -> str:
        return self.query.replace("{{context.patientId}}", patient_id)

    def _with_codes(self) -> str:
        return self.base + (f"&code={','.join(_codes_of(self.codes))}" if self.codes else "")


@cache  # read once: discovery and every fallback fetch render the query
def _codes_of(value_set_ids: tuple[str, ...]) -> tuple[str, ...]:
    """The codes of the value sets, system-less: a token without a system matches the code in any system
    spelling (urn:oid forms included); the rules then check the system themselves."""
    codes: list[str] = []
    for value_set_id in value_set_ids:
        resource = json.loads((VALUESET_DIR / f"{value_set_id}.json").read_text(encoding="utf-8"))
        for include in resource["compose"]["include"]:
            codes += [c["code"] for c in include["concept"] if c["code"] not in codes]
    return tuple(codes)


TEMPLATES: tuple[PrefetchTemplate, ...] = (
    PrefetchTemplate("patient", "Patient", "Patient/{{context.patientId}}", is_search=False, role="always"),
    # Any age counts (a DVT years ago is Wells' previous DVT): read whole, unsorted (sorting a long problem
    # list costs a server more than reading it: sekmet took 11 s to sort 2,000 Conditions).
    PrefetchTemplate("conditions", "Condition", "Condition?patient={{context.patientId}}", is_search=True,
                     role="core"),
    # The newest 500: the findings window (14 days) in every record seen; vital signs and results are read
    # newest first anyway. Findings coded in SNOMED (about 1,300 codes) cannot be listed in a URL, so no code filter.
    PrefetchTemplate("observations", "Observation", "Observation?patient={{context.patientId}}", is_search=True,
                     role="core", bound=Bound("date", 500, "finding")),
    # Completed and stopped orders too: a finished course of anticoagulation makes a stale "active" DVT
    # problem history, not an untreated clot.
    PrefetchTemplate("medications", "MedicationRequest",
                     "MedicationRequest?patient={{context.patientId}}&status=active,completed,stopped",
                     is_search=True),
    # "Recent" cannot be said in a 2.0 prefetch template (no date arithmetic on tokens): the rules apply
    # their own windows to performed dates.
    PrefetchTemplate("procedures", "Procedure", "Procedure?patient={{context.patientId}}", is_search=True),
    PrefetchTemplate("medicationStatements", "MedicationStatement",
                     "MedicationStatement?patient={{context.patientId}}", is_search=True),
    PrefetchTemplate("medicationAdministrations", "MedicationAdministration",
                     "MedicationAdministration?patient={{context.patientId}}", is_search=True,
                     bound=Bound("effective-time", 100, "administration")),
    # Only the leg-vein, CTPA and leg-artery studies: every other report a long record holds is never read.
    PrefetchTemplate("diagnosticReports", "DiagnosticReport",
                     "DiagnosticReport?patient={{context.patientId}}", is_search=True,
                     codes=("dvt-imaging", "pe-imaging", "arterial-imaging-leg"), bound=Bound("date", 50, "repeat-scan")),
)
