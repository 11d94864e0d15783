"""The patient's data: prefetch checked against the service's templates, the rest fetched from fhirServer."""
from .resolve import PatientData, resolve_patient_data

__all__ = ["PatientData", "resolve_patient_data"]
