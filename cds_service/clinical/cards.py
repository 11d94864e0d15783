"""Findings become CDS Hooks cards through the templates in cards/ (reviewable by a clinician, validated
by cards/card.schema.json at start-up). Python decides *whether* a card fires; every word, link, order
and override reason is data: the topic's texts and "phrases", cards/common.json for what every card
says (section headings, how a piece of evidence reads), the catalogue for score items."""
from __future__ import annotations

import json
import string
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from jsonschema import Draft202012Validator

from ..content.catalogue import Catalogue, Name, check_against_schema
from ..record.facts import Evidence
from .rules.finding import Finding, Say

TOPIC_SYSTEM = "https://posterior-knee-pain.example/fhir/CodeSystem/card-topic"
OVERRIDE_SYSTEM = "http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes"
PRIORITY_FOR_INDICATOR = {"critical": "stat", "warning": "urgent", "info": "routine"}
CATEGORIES = {
    # FHIR R4 servicerequest-category (example binding); "Patient referral" is SNOMED CT 3457005.
    "imaging": {"system": "http://snomed.info/sct", "code": "363679005", "display": "Imaging"},
    "laboratory": {"system": "http://snomed.info/sct", "code": "108252007", "display": "Laboratory procedure"},
    "referral": {"system": "http://snomed.info/sct", "code": "3457005", "display": "Patient referral"},
    "procedure": {"system": "http://snomed.info/sct", "code": "387713003", "display": "Surgical procedure"},
    # US Core ServiceRequest category (KB §6.B2, S2): a diagnostic test that is neither imaging nor laboratory.
    "evaluation": {"system": "http://snomed.info/sct", "code": "386053000", "display": "Evaluation procedure (procedure)"},
}


_SUMMARY_LIMIT = 140  # CDS Hooks: a card's summary is under 140 characters


@dataclass(frozen=True)
class CardTemplates:
    topics: dict[str, dict]
    override_reasons: dict[str, list[dict]]
    common: dict[str, str]  # the words every card shares (cards/common.json "phrases")
    catalogue: Catalogue

    @classmethod
    def load(cls, folder: Path, catalogue: Catalogue) -> "CardTemplates":
        schema = json.loads((folder / "card.schema.json").read_text(encoding="utf-8"))
        validator = Draft202012Validator(schema)
        common = json.loads((folder / "common.json").read_text(encoding="utf-8"))
        topics = {}
        for path in sorted(folder.glob("topics/*.json")):
            template = json.loads(path.read_text(encoding="utf-8"))
            check_against_schema(validator, template, path.name)
            if template["topic"] + ".json" != path.name:
                raise ValueError(f"{path.name}: topic {template['topic']!r} does not match the file name")
            _check_references(path.name, template, common)
            topics[template["topic"]] = template
        _check_against_catalogue(topics, catalogue)
        return cls(topics, common["overrideReasons"], common["phrases"], catalogue)

    def phrases(self) -> dict[str, dict]:
        """Every phrase a rule may name, by topic ("common" for the shared ones)."""
        return {"common": self.common, **{key: t.get("phrases", {}) for key, t in self.topics.items()}}

    def say(self, topic_key: str, value: object) -> str:
        """A value as the card shows it: a Say in its topic's words, a list joined, a number plainly."""
        if isinstance(value, Say):
            words = self.topics[topic_key].get("phrases", {}) if value.phrase.scope != "common" else self.common
            filled = {key: self.say(topic_key, v) for key, v in value.values.items()}
            return words[value.phrase].format(**filled)
        if isinstance(value, Name) and value.kind == "topic":  # a card that gave way, named (r31 review F4)
            return self.topics[value]["display"]
        if isinstance(value, Name) and value.kind == "score-item":
            return self.catalogue.scores[value.scope].items[value]["unknown"]
        if isinstance(value, list):
            return "; ".join(self.say(topic_key, v) for v in value)
        if isinstance(value, Decimal):
            return format(value.normalize(), "f") if value == value.to_integral() else str(value)
        return str(value)

    def _shown(self, topic_key: str, variant: dict, key: str, value: object) -> str:
        """A value as this variant shows it: a list in the variant's own form ("lists"), without the phrases
        its words already say (r27 review W4: the pregnancy card said pregnant three times in one sentence)."""
        shape = variant.get("lists", {}).get(key)
        if shape is None:
            return self.say(topic_key, value)
        omit = set(shape.get("omit", ()))
        items = [v for v in (value if isinstance(value, list) else [value])
                 if not (isinstance(v, Say) and v.phrase in omit)]
        return shape["form"].replace("{items}", self.say(topic_key, items)) if items else ""

    def evidence_line(self, evidence: Evidence) -> str:
        """One piece of evidence as the card lists it, in cards/common.json's words."""
        words = self.common
        text = evidence.display or words["evidence.coded-entry"]
        codes = ", ".join(f"{system} {code}" for system, code in evidence.codes)
        parts = [f"{text} ({codes})" if codes else text]
        if evidence.dosage:  # an order's own words beside its status: "status active" alone hid a "DO NOT GIVE" (r31 S2)
            parts.append(words["evidence.dosage"].format(dosage=evidence.dosage))
        if evidence.value:
            parts.append(words["evidence.lab-flag"].format(value=evidence.value, flags=", ".join(evidence.flags))
                         if evidence.flags else evidence.value)
        parts.append(_when_text(evidence.when, words))
        if evidence.verification:
            parts.append(words[f"evidence.{evidence.verification}"])
        if evidence.status:
            parts.append(words["evidence.order-status"].format(status=evidence.status))
        return " — ".join(parts)  # the resource ids travel in each order's reasonReference, not in the text

    def _summary(self, variant: dict, finding: Finding, values) -> str:
        """The variant's summary; a card demoted because it rests on an uninterpreted answer says first that
        the answer is to be asked, so a warning never reads as an order for an emergency."""
        summary = _fill(variant["summary"], values)
        leads = finding.leads_with if isinstance(finding.leads_with, tuple) else (finding.leads_with,)
        for lead in (lead for lead in leads if lead is not None):  # the first that fits, the fuller first
            led = self.common["summary.leads-with"].format(lead=self.say(finding.topic, lead), summary=summary)
            if len(led) < _SUMMARY_LIMIT:
                summary = led
                break
        if finding.pending:
            pending = self.common["summary.pending-first"].format(summary=summary)
            return pending if len(pending) < _SUMMARY_LIMIT else summary
        if not finding.ask_first:
            return summary
        if isinstance(finding.ask_first, tuple):
            about = self.common["summary.ask-about"].format(findings=" or ".join(finding.ask_first), summary=summary)
            if len(about) < _SUMMARY_LIMIT:
                return about
        return self.common["summary.ask-first"].format(summary=summary)

    def render(self, finding: Finding, patient_id: str) -> dict:
        template = self.topics[finding.topic]
        variant = template["variants"][finding.variant]
        values = _Values({key: self._shown(finding.topic, variant, key, value) for key, value in finding.values.items()})
        card = {
            "uuid": str(uuid.uuid4()),
            "summary": self._summary(variant, finding, values),
            "indicator": finding.indicator,
            "detail": self._detail(template, variant, finding, values),
            "source": {
                "label": variant.get("source", template["source"])["label"],
                "url": variant.get("source", template["source"])["url"],
                "topic": {"system": TOPIC_SYSTEM, "code": template["topic"], "display": template["display"]},
            },
            "links": [{"label": link["label"], "url": link["url"], "type": "absolute"}
                      for link in links_of(template, finding.variant)],
        }
        suggestions = [self._suggestion(template, key, finding, values, patient_id, recommended=(i == 0))
                       for i, key in enumerate(variant.get("suggestions", []))]
        if suggestions:
            card["suggestions"] = suggestions
            card["selectionBehavior"] = "any"
        reasons = self.override_reasons[template["overrideReasons"]]
        card["overrideReasons"] = [{"system": OVERRIDE_SYSTEM, "code": r["code"], "display": r["display"]}
                                   for r in reasons]
        return card

    def _suggestion(self, template: dict, key: str, finding: Finding, values: "_Values", patient_id: str,
                    recommended: bool) -> dict:
        order = template["orders"][key]
        request = {
            "resourceType": "ServiceRequest",
            "status": "draft",
            "intent": "proposal",
            "priority": order.get("priority", PRIORITY_FOR_INDICATOR[finding.indicator]),
            "category": [{"coding": [CATEGORIES[order["category"]]]}],
            "code": order["code"],
            "subject": {"reference": f"Patient/{patient_id}"},
            "reasonCode": [{"text": _fill(order["reason"], values)}],
        }
        if finding.reasons:
            request["reasonReference"] = [{"reference": ref} for ref in finding.reasons[:10]]
        if order.get("note"):
            request["note"] = [{"text": _fill(order["note"], values)}]
        label = _fill(order["label"], values)
        return {
            "label": label,
            "uuid": str(uuid.uuid4()),
            "isRecommended": recommended,
            "actions": [{"type": "create", "description": label, "resource": request}],
        }


    def _detail(self, template: dict, variant: dict, finding: Finding, values: "_Values") -> str:
        """The decision is the summary; the detail opens with the next step, then says why: in a narrow EHR
        side panel (about 40 characters a line) the first lines are what a clinician reads, and a rationale
        paragraph first pushed step 1 to line 6-9 (r26 review). The source is the card's own `source` (shown
        under the summary), not repeated."""
        words = self.common
        steps = variant["next_steps"]
        parts = [words["section.next-step"] + "\n"
                 + "\n".join(f"{i}. {_fill(step, values)}" for i, step in enumerate(steps, 1)),
                 _fill(variant["detail"], values)]
        if finding.notes:
            # A paragraph each, labelled: the sandbox and EHRs render a block quote as plain indented text,
            # which reads as part of the last numbered step.
            parts += [f"{words['section.note']} {self.say(finding.topic, note)}" for note in finding.notes]
        if finding.evidence:
            parts.append(words["section.from-record"] + "\n"
                         + "\n".join(f"- {self.evidence_line(e)}" for e in finding.evidence))
        if finding.score is not None:
            parts.append(self._score_section(finding))
        if finding.unknown:
            parts.append(words["section.bedside"] + "\n"
                         + "\n".join(f"- {self.say(finding.topic, u)}" for u in finding.unknown))
        return "\n\n".join(parts)

    def _score_section(self, finding: Finding) -> str:
        score = finding.score
        words = self.topics[finding.topic]["phrases"]
        items = self.catalogue.scores[score.name].items
        lines = [f"{items[s.item]['points']:+d} {items[s.item]['scored']}" for s in score.items]
        lines = lines or [words[f"{score.name}.none"]]
        heading = words[f"{score.name}.heading"].format(score=score.total, highest=score.highest_possible)
        return heading + "\n" + "\n".join(f"- {line}" for line in lines)


def _when_text(when: datetime | None, words: dict) -> str:
    if when is None:
        return words["evidence.date-not-recorded"]
    if when.hour or when.minute:
        return when.strftime("%Y-%m-%d %H:%M UTC")
    return when.strftime("%Y-%m-%d")


def links_of(template: dict, variant: str) -> list[dict]:
    """The topic's links a variant shows: those without 'variants', and those naming it (r34a W5)."""
    return [link for link in template["links"] if variant in link.get("variants", (variant,))]


def _check_against_catalogue(topics: dict[str, dict], catalogue: Catalogue) -> None:
    """The topic files and the catalogue name the same topics, with the same variants."""
    if set(topics) != set(catalogue.variants):
        raise ValueError(f"cards/topics/ and cards/catalogue.json differ in topics: "
                         f"{sorted(set(topics) ^ set(catalogue.variants))}")
    for key, variants in catalogue.variants.items():
        if set(topics[key]["variants"]) != set(variants):
            raise ValueError(f"cards/topics/{key}.json has variants {sorted(topics[key]['variants'])}, "
                             f"the catalogue {sorted(variants)}")
    for card in catalogue.hygiene["interimCautionCards"]:
        key, _, variant = card.partition(":")
        if variant not in catalogue.variants.get(key, ()):
            raise ValueError(f"cards/catalogue.json recordHygiene interimCautionCards names {card!r}: no such card")
    for name, score in catalogue.scores.items():
        for key in (f"{name}.heading", f"{name}.none"):
            if key not in topics[score.topic].get("phrases", {}):
                raise ValueError(f"cards/topics/{score.topic}.json lacks the phrase {key!r} of its score")


class _Values(dict):
    def __missing__(self, key: str) -> str:
        raise KeyError(f"card text needs {{{key}}}, which the rule did not provide")


def _fill(text: str, values: _Values) -> str:
    return string.Formatter().vformat(text, (), values)


def _check_references(name: str, template: dict, common: dict) -> None:
    if template["overrideReasons"] not in common["overrideReasons"]:
        raise ValueError(f"{name}: unknown overrideReasons set {template['overrideReasons']!r}")
    for link in template["links"]:
        if set(link.get("variants", ())) - set(template["variants"]):
            raise ValueError(f"{name}: link {link['label']!r} names unknown variants")
    for variant_name, variant in template["variants"].items():
        if not links_of(template, variant_name):
            raise ValueError(f"{name}: variant {variant_name} shows no link")
        for key, shape in variant.get("lists", {}).items():
            unknown = [p for p in shape.get("omit", ()) if p not in template.get("phrases", {})]
            if unknown or "{" + key + "}" not in variant["detail"] + variant["summary"]:
                raise ValueError(f"{name}: variant {variant_name} lists {key!r}: not in its text, or omits unknown phrases {unknown}")
        for key in variant.get("suggestions", []):
            if key not in template.get("orders", {}):
                raise ValueError(f"{name}: variant {variant_name} suggests unknown order {key!r}")
