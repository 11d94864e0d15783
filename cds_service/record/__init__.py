"""The patient's record: raw FHIR selected, validated and turned into the facts the rules read."""
from .build import build_record, parse_resource, patient_demographics
from .facts import Evidence, Fact, PatientRecord

__all__ = ["Evidence", "Fact", "PatientRecord", "build_record", "parse_resource", "patient_demographics"]
