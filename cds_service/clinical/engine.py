"""The clinical engine: value sets and card templates loaded and checked once at start-up; for each
request, the raw resources worth validating, the record, the rules and the cards."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from .cards import CardTemplates
from .facts import WINDOWS, build_record, names_an_anticoagulant, observation_time
from .rules import VALUE_SETS_USED, evaluate
from .terminology import ValueSets

REPO_ROOT = Path(__file__).resolve().parents[2]

# Every (topic, variant) a rule can produce; start-up fails if cards/ lacks one.
RULE_OUTPUTS = {
    "suspected-pe": {"default", "admit", "pregnancy"},
    "acute-limb-ischaemia": {"default", "aneurysm"},
    "septic-arthritis": {"default"},
    "suspected-dvt": {"likely", "unlikely", "d-dimer-positive", "d-dimer-negative", "d-dimer-unread"},
    "suspected-dvt-pregnancy": {"default"},
    "known-dvt": {"treated", "treated-new-features", "untreated"},
    "malignancy-red-flags": {"mass", "systemic"},
    "knee-trauma-imaging": {"dislocation", "ottawa-met", "apply-ottawa"},
    "bakers-cyst": {"default"},
    "internal-derangement": {"default"},
    "muscle-injury": {"default"},
    "knee-osteoarthritis": {"default"},
    "popliteal-artery-aneurysm": {"default"},
    "nerve-entrapment": {"default"},
}

# Measurement value sets and the window in which the rules read them (facts.WINDOWS).
MEASUREMENT_WINDOWS = {
    "heart-rate": "vital", "respiratory-rate": "vital", "oxygen-saturation": "vital", "body-temperature": "vital",
    "systolic-blood-pressure": "vital", "blood-pressure-panel": "vital",
    "d-dimer-feu": "lab", "d-dimer-ddu": "lab", "crp": "lab", "wbc": "lab",
}

_CODED_ELEMENTS = {
    "Condition": ("code",),
    "Observation": ("code", "valueCodeableConcept"),
    "Procedure": ("code",),
    "MedicationRequest": ("medicationCodeableConcept",),
}


class ClinicalEngine:
    def __init__(self, valueset_dir: Path | str | None = None, cards_dir: Path | str | None = None):
        self.value_sets = ValueSets.load(Path(valueset_dir) if valueset_dir else REPO_ROOT / "valueset")
        self.value_sets.require(VALUE_SETS_USED)
        self.templates = CardTemplates.load(Path(cards_dir) if cards_dir else REPO_ROOT / "cards")
        for topic, variants in RULE_OUTPUTS.items():
            missing = variants - set(self.templates.topics.get(topic, {}).get("variants", {}))
            if missing:
                raise ValueError(f"cards/topics/{topic}.json lacks variants {sorted(missing)}")

    def selector(self, now: datetime) -> Callable[[dict], bool]:
        """Cheaply, on the raw JSON: could any rule use this resource now? Only those are validated
        (validation costs about 1.5 ms a resource; a large record holds thousands of vital signs)."""
        oldest = {window: now - WINDOWS[window] for window in set(MEASUREMENT_WINDOWS.values())}
        latest = now + timedelta(hours=1)

        def wanted(raw: dict) -> bool:
            if raw.get("resourceType") == "Observation" and not raw.get("valueCodeableConcept"):
                by_code = self.value_sets.of_concept(raw.get("code"))
                if not by_code:
                    return False
                if by_code <= MEASUREMENT_WINDOWS.keys():
                    # A measurement only matters inside its window: older ones are never read.
                    taken = _raw_observation_time(raw)
                    return taken is not None and taken <= latest and any(
                        taken >= oldest[MEASUREMENT_WINDOWS[vs]] for vs in by_code)
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
            return any(names_an_anticoagulant(_raw_text(concept))
                       for concept in [raw.get("medicationCodeableConcept"), *contained])
        return False

    def cards(self, parsed, patient_id: str, now: datetime) -> list[dict]:
        record = build_record(parsed, self.value_sets, now)
        return [self.templates.render(finding, patient_id) for finding in evaluate(record)]


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
