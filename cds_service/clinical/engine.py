"""The clinical engine: value sets and card templates loaded and checked once at start-up; for each
request, the raw resources worth validating, the record, the rules and the cards."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from . import catalogue as names
from .cards import CardTemplates
from .catalogue import Catalogue
from .facts import PatientRecord, build_record, names_a, observation_time
from .rules import Finding, evaluate
from .terminology import ValueSets

REPO_ROOT = Path(__file__).resolve().parents[2]

_CODED_ELEMENTS = {
    "Condition": ("code",),
    "Observation": ("code", "valueCodeableConcept"),
    "Procedure": ("code",),
    "MedicationRequest": ("medicationCodeableConcept",),
}


@dataclass(frozen=True)
class Issued:
    """A card and the finding it was rendered from: topic and indicator are read from the finding."""
    finding: Finding
    card: dict

    @property
    def topic(self) -> str:
        return str(self.finding.topic)

    @property
    def indicator(self) -> str:
        return self.finding.indicator


class ClinicalEngine:
    def __init__(self, valueset_dir: Path | str | None = None, cards_dir: Path | str | None = None):
        cards_folder = Path(cards_dir) if cards_dir else REPO_ROOT / "cards"
        self.catalogue = Catalogue.load(cards_folder)
        self.value_sets = ValueSets.load(Path(valueset_dir) if valueset_dir else REPO_ROOT / "valueset",
                                         self.catalogue.shared_codes)
        self.templates = CardTemplates.load(cards_folder, self.catalogue)
        # Every name a rule declared (at import) must exist in what was just loaded.
        self.catalogue.check(names.declared(), self.value_sets.ids, self.templates.phrases())
        self._anticoagulant_words = self.catalogue.text_matches["anticoagulants"]

    def selector(self, now: datetime) -> Callable[[dict], bool]:
        """Cheaply, on the raw JSON: could any rule use this resource now? Only those are validated
        (validation costs about 1.5 ms a resource; a large record holds thousands of vital signs)."""
        measurements = self.catalogue.measurements
        windows = self.catalogue.windows
        oldest = {window: now - windows[window] for window in set(measurements.values())}
        latest = now + windows["future"]

        def wanted(raw: dict) -> bool:
            if raw.get("resourceType") == "Observation" and not raw.get("valueCodeableConcept"):
                by_code = self.value_sets.of_concept(raw.get("code"))
                if not by_code:
                    return False
                if by_code <= measurements.keys():
                    # A measurement only matters inside its window: older ones are never read.
                    taken = _raw_observation_time(raw)
                    return taken is not None and taken <= latest and any(
                        taken >= oldest[measurements[vs]] for vs in by_code)
                return True
            return self.wanted(raw)

        return wanted

    def wanted(self, raw: dict) -> bool:
        """Cheaply, on the raw JSON: could any rule use this resource? Only those are validated."""
        of_concept = self.value_sets.of_concept
        elements = _CODED_ELEMENTS.get(raw.get("resourceType"), ())
        if any(of_concept(raw.get(element)) for element in elements):
            return True
        if raw.get("resourceType") == "MedicationRequest":
            contained = raw.get("contained") if isinstance(raw.get("contained"), list) else []
            contained = [r.get("code") for r in contained if isinstance(r, dict)]
            if any(of_concept(code) for code in contained):
                return True
            return any(names_a(self._anticoagulant_words, _raw_text(concept))
                       for concept in [raw.get("medicationCodeableConcept"), *contained])
        return False

    def record(self, parsed, now: datetime) -> PatientRecord:
        return build_record(parsed, self.value_sets, self.catalogue, now)

    def issue(self, parsed, patient_id: str, now: datetime) -> list[Issued]:
        """The cards for this record, each with the finding it came from."""
        return [Issued(finding, self.templates.render(finding, patient_id))
                for finding in evaluate(self.record(parsed, now))]

    def cards(self, parsed, patient_id: str, now: datetime) -> list[dict]:
        return [issued.card for issued in self.issue(parsed, patient_id, now)]


def _raw_text(concept: object) -> str:
    if not isinstance(concept, dict):
        return ""
    codings = concept.get("coding") if isinstance(concept.get("coding"), list) else []
    parts = [concept.get("text")] + [c.get("display") for c in codings if isinstance(c, dict)]
    return " ".join(p for p in parts if isinstance(p, str))


def _raw_observation_time(raw: dict) -> datetime | None:
    period = raw.get("effectivePeriod") if isinstance(raw.get("effectivePeriod"), dict) else {}
    return observation_time(raw.get("effectiveDateTime"), raw.get("effectiveInstant"), period.get("end"),
                            period.get("start"), raw.get("issued"))
