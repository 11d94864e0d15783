"""Findings become CDS Hooks cards through the templates in cards/ (reviewable by a clinician, validated
by cards/card.schema.json at start-up). Python decides *whether* a card fires; the words, links,
orders and override reasons are data."""
from __future__ import annotations

import json
import string
import uuid
from dataclasses import dataclass
from pathlib import Path

from jsonschema import Draft202012Validator

from .rules.finding import Finding

TOPIC_SYSTEM = "https://posterior-knee-pain.example/fhir/CodeSystem/card-topic"
OVERRIDE_SYSTEM = "http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes"
PRIORITY_FOR_INDICATOR = {"critical": "stat", "warning": "urgent", "info": "routine"}
CATEGORIES = {
    # FHIR R4 servicerequest-category (example binding); "Patient referral" is SNOMED CT 3457005.
    "imaging": {"system": "http://snomed.info/sct", "code": "363679005", "display": "Imaging"},
    "laboratory": {"system": "http://snomed.info/sct", "code": "108252007", "display": "Laboratory procedure"},
    "referral": {"system": "http://snomed.info/sct", "code": "3457005", "display": "Patient referral"},
    "procedure": {"system": "http://snomed.info/sct", "code": "387713003", "display": "Surgical procedure"},
}


@dataclass(frozen=True)
class CardTemplates:
    topics: dict[str, dict]
    override_reasons: dict[str, list[dict]]

    @classmethod
    def load(cls, folder: Path) -> "CardTemplates":
        schema = json.loads((folder / "card.schema.json").read_text(encoding="utf-8"))
        validator = Draft202012Validator(schema)
        common = json.loads((folder / "common.json").read_text(encoding="utf-8"))
        topics = {}
        for path in sorted(folder.glob("topics/*.json")):
            template = json.loads(path.read_text(encoding="utf-8"))
            errors = sorted(validator.iter_errors(template), key=lambda e: list(e.absolute_path))
            if errors:
                where = "/".join(str(p) for p in errors[0].absolute_path)
                raise ValueError(f"{path.name}: {where}: {errors[0].message}")
            if template["topic"] + ".json" != path.name:
                raise ValueError(f"{path.name}: topic {template['topic']!r} does not match the file name")
            _check_references(path.name, template, common)
            topics[template["topic"]] = template
        return cls(topics, common["overrideReasons"])

    def render(self, finding: Finding, patient_id: str) -> dict:
        template = self.topics[finding.topic]
        variant = template["variants"][finding.variant]
        values = _Values(finding.values)
        card = {
            "uuid": str(uuid.uuid4()),
            "summary": _fill(variant["summary"], values),
            "indicator": finding.indicator,
            "detail": _detail(template, variant, finding, values),
            "source": {
                "label": template["source"]["label"],
                "url": template["source"]["url"],
                "topic": {"system": TOPIC_SYSTEM, "code": template["topic"], "display": template["display"]},
            },
            "links": [{"label": link["label"], "url": link["url"], "type": "absolute"} for link in template["links"]],
        }
        suggestions = [self._suggestion(template, key, finding, patient_id, recommended=(i == 0))
                       for i, key in enumerate(variant.get("suggestions", []))]
        if suggestions:
            card["suggestions"] = suggestions
            card["selectionBehavior"] = "any"
        reasons = self.override_reasons[template["overrideReasons"]]
        card["overrideReasons"] = [{"system": OVERRIDE_SYSTEM, "code": r["code"], "display": r["display"]}
                                   for r in reasons]
        return card

    def _suggestion(self, template: dict, key: str, finding: Finding, patient_id: str, recommended: bool) -> dict:
        order = template["orders"][key]
        request = {
            "resourceType": "ServiceRequest",
            "status": "draft",
            "intent": "proposal",
            "priority": order.get("priority", PRIORITY_FOR_INDICATOR[finding.indicator]),
            "category": [{"coding": [CATEGORIES[order["category"]]]}],
            "code": order["code"],
            "subject": {"reference": f"Patient/{patient_id}"},
            "reasonCode": [{"text": _fill(order["reason"], _Values(finding.values))}],
        }
        if finding.reasons:
            request["reasonReference"] = [{"reference": ref} for ref in finding.reasons[:10]]
        if order.get("note"):
            request["note"] = [{"text": _fill(order["note"], _Values(finding.values))}]
        label = _fill(order["label"], _Values(finding.values))
        return {
            "label": label,
            "uuid": str(uuid.uuid4()),
            "isRecommended": recommended,
            "actions": [{"type": "create", "description": label, "resource": request}],
        }


class _Values(dict):
    def __missing__(self, key: str) -> str:
        raise KeyError(f"card text needs {{{key}}}, which the rule did not provide")


def _fill(text: str, values: _Values) -> str:
    return string.Formatter().vformat(text, (), values)


def _detail(template: dict, variant: dict, finding: Finding, values: _Values) -> str:
    parts = [_fill(variant["detail"], values)]
    if finding.evidence:
        parts.append("**From the record**\n" + "\n".join(f"- {e.line()}" for e in finding.evidence))
    if "wells_breakdown" in finding.values:
        parts.append(f"**Two-level DVT Wells score from the record: {finding.values['wells_score']}** "
                     f"(up to {finding.values['wells_highest']} with the bedside items)\n"
                     + finding.values["wells_breakdown"])
    if finding.unknown:
        parts.append("**Not in the record — check at the bedside**\n" + "\n".join(f"- {u}" for u in finding.unknown))
    steps = variant["next_steps"]
    parts.append("**Next step**\n" + "\n".join(f"{i}. {_fill(step, values)}" for i, step in enumerate(steps, 1)))
    if finding.notes:
        parts.append("\n".join(f"> {note}" for note in finding.notes))
    parts.append(f"Source: [{template['source']['label']}]({template['source']['url']})")
    return "\n\n".join(parts)


def _check_references(name: str, template: dict, common: dict) -> None:
    if template["overrideReasons"] not in common["overrideReasons"]:
        raise ValueError(f"{name}: unknown overrideReasons set {template['overrideReasons']!r}")
    for variant_name, variant in template["variants"].items():
        for key in variant.get("suggestions", []):
            if key not in template.get("orders", {}):
                raise ValueError(f"{name}: variant {variant_name} suggests unknown order {key!r}")
