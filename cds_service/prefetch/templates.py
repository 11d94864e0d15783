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

from dataclasses import dataclass


@dataclass(frozen=True)
class PrefetchTemplate:
    key: str
    resource_type: str
    query: str  # relative to fhirServer, with CDS Hooks prefetch tokens
    is_search: bool  # a search answers with a Bundle; a read with the resource itself
    role: str = "refines"  # "always" | "core" | "refines" (module docstring)

    @property
    def required(self) -> bool:
        return self.role == "always"

    def render(self, patient_id: str) -> str:
        return self.query.replace("{{context.patientId}}", patient_id)


TEMPLATES: tuple[PrefetchTemplate, ...] = (
    PrefetchTemplate("patient", "Patient", "Patient/{{context.patientId}}", is_search=False, role="always"),
    PrefetchTemplate("conditions", "Condition", "Condition?patient={{context.patientId}}", is_search=True,
                     role="core"),
    PrefetchTemplate("observations", "Observation", "Observation?patient={{context.patientId}}", is_search=True,
                     role="core"),
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
                     "MedicationAdministration?patient={{context.patientId}}", is_search=True),
    PrefetchTemplate("diagnosticReports", "DiagnosticReport",
                     "DiagnosticReport?patient={{context.patientId}}", is_search=True),
)
