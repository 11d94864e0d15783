"""posterior-knee-pain (patient-view): red flags first (PE, limb ischaemia, septic arthritis, DVT), then
cancer red flags, Ottawa knee rule, and the musculoskeletal causes of pain behind the knee."""
from __future__ import annotations

from .base import CdsService


def evaluate(record, engine) -> list:
    """The issued cards (each with its finding) for the patient's record."""
    return engine.issue(record)


SERVICE = CdsService(
    id="posterior-knee-pain",
    hook="patient-view",
    title="Posterior knee pain: DVT red flag first",
    description=(
        "On opening a chart, checks the record for pain behind the knee and its red flags (possible pulmonary "
        "embolism, acute limb ischaemia, septic arthritis, deep vein thrombosis by two-level Wells, cancer "
        "red flags, Ottawa knee rule) and suggests imaging or referral following NICE NG158 and the ACR "
        "Appropriateness Criteria."
    ),
    usage_requirements=(
        "Read access to the patient's Patient, Condition, Observation, MedicationRequest and Procedure "
        "resources (SMART scopes patient/Patient.read patient/Condition.read patient/Observation.read "
        "patient/MedicationRequest.read patient/Procedure.read), through prefetch or fhirAuthorization; "
        "MedicationStatement, MedicationAdministration and DiagnosticReport refine the cards when readable "
        "(patient/MedicationStatement.read patient/MedicationAdministration.read patient/DiagnosticReport.read)."
    ),
    evaluate=evaluate,
)
