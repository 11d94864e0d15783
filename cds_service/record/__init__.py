"""The patient record the rules read: raw FHIR parsed with fhir.resources (R4B models, which accept R4
Conditions, Observations, MedicationRequests and Procedures; the R5 default models do not)."""
from .parse import ParsedRecord, parse_record

__all__ = ["ParsedRecord", "parse_record"]
