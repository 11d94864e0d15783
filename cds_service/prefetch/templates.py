"""What the rules read, as CDS Hooks prefetch templates (advertised in discovery) and how each is checked.

Every key is required: without the Patient there is no age or sex, without Conditions and Observations
no finding, without MedicationRequests no anticoagulation state, without Procedures no recent surgery
(Wells +1). A key the EHR left out is fetched; data that cannot be had is a 412, never a silent blank.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PrefetchTemplate:
    key: str
    resource_type: str
    query: str  # relative to fhirServer, with CDS Hooks prefetch tokens
    is_search: bool  # a search answers with a Bundle; a read with the resource itself

    def render(self, patient_id: str) -> str:
        return self.query.replace("{{context.patientId}}", patient_id)


TEMPLATES: tuple[PrefetchTemplate, ...] = (
    PrefetchTemplate("patient", "Patient", "Patient/{{context.patientId}}", is_search=False),
    PrefetchTemplate("conditions", "Condition", "Condition?patient={{context.patientId}}", is_search=True),
    PrefetchTemplate("observations", "Observation", "Observation?patient={{context.patientId}}", is_search=True),
    PrefetchTemplate("medications", "MedicationRequest",
                     "MedicationRequest?patient={{context.patientId}}&status=active", is_search=True),
    # "Recent" cannot be said in a 2.0 prefetch template (no date arithmetic on tokens): the rules apply
    # their own windows to performed dates.
    PrefetchTemplate("procedures", "Procedure", "Procedure?patient={{context.patientId}}", is_search=True),
)
