"""What the rules read, as CDS Hooks prefetch templates (advertised in discovery) and how each is checked.

The first five are required: without the Patient there is no age or sex, without Conditions and
Observations no finding, without MedicationRequests no anticoagulation state, without Procedures no recent
surgery (Wells +1). A required key the EHR left out is fetched; when it cannot be had, a 412, never a silent
blank. The others refine what the rules say (anticoagulation recorded as a statement or an administration,
an imaging report that closes a suspicion): when one cannot be had, the rules still run and each card it
could change says what was not read (catalogue "refiningSources").
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PrefetchTemplate:
    key: str
    resource_type: str
    query: str  # relative to fhirServer, with CDS Hooks prefetch tokens
    is_search: bool  # a search answers with a Bundle; a read with the resource itself
    required: bool = True  # without it, no answer (412); else the cards say it was not read

    def render(self, patient_id: str) -> str:
        return self.query.replace("{{context.patientId}}", patient_id)


TEMPLATES: tuple[PrefetchTemplate, ...] = (
    PrefetchTemplate("patient", "Patient", "Patient/{{context.patientId}}", is_search=False),
    PrefetchTemplate("conditions", "Condition", "Condition?patient={{context.patientId}}", is_search=True),
    PrefetchTemplate("observations", "Observation", "Observation?patient={{context.patientId}}", is_search=True),
    # Completed and stopped orders too: a finished course of anticoagulation makes a stale "active" DVT
    # problem history, not an untreated clot.
    PrefetchTemplate("medications", "MedicationRequest",
                     "MedicationRequest?patient={{context.patientId}}&status=active,completed,stopped",
                     is_search=True),
    # "Recent" cannot be said in a 2.0 prefetch template (no date arithmetic on tokens): the rules apply
    # their own windows to performed dates.
    PrefetchTemplate("procedures", "Procedure", "Procedure?patient={{context.patientId}}", is_search=True),
    PrefetchTemplate("medicationStatements", "MedicationStatement",
                     "MedicationStatement?patient={{context.patientId}}", is_search=True, required=False),
    PrefetchTemplate("medicationAdministrations", "MedicationAdministration",
                     "MedicationAdministration?patient={{context.patientId}}", is_search=True, required=False),
    PrefetchTemplate("diagnosticReports", "DiagnosticReport",
                     "DiagnosticReport?patient={{context.patientId}}", is_search=True, required=False),
)
