"""cards/: valid against its schema at start-up, every code verified, the review sheet current."""
from __future__ import annotations

import json
import re
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from cds_service.content import catalogue as names
from cds_service.clinical.cards import CATEGORIES, CardTemplates
from cds_service.content.catalogue import Catalogue
from cds_service.clinical.engine import REPO_ROOT, ClinicalEngine
from cds_service.clinical.review_sheet import render
from cds_service.clinical.rules.finding import Finding

CARDS = REPO_ROOT / "cards"
VERIFIED = {(c["system"], c["code"]): c for c in
            json.loads((REPO_ROOT / "valueset" / "verified-codes.json").read_text())["codes"]}


def all_codings(template: dict):
    for order in template.get("orders", {}).values():
        yield from order["code"].get("coding", [])


@pytest.mark.parametrize("path", sorted(CARDS.glob("topics/*.json")), ids=lambda p: p.stem)
def test_every_order_code_is_verified_with_its_display(path):
    template = json.loads(path.read_text(encoding="utf-8"))
    for coding in all_codings(template):
        record = VERIFIED.get((coding["system"], coding["code"]))
        assert record is not None, f"{coding['code']} is not in valueset/verified-codes.json"
        assert record["display"] == coding["display"]
        assert record["verification"] == "verified", f"{coding['code']} is only {record['verification']}"


def test_override_reasons_are_verified_codes():
    common = json.loads((CARDS / "common.json").read_text(encoding="utf-8"))
    for reasons in common["overrideReasons"].values():
        for reason in reasons:
            record = VERIFIED[("http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes", reason["code"])]
            assert record["display"] == reason["display"]


def test_categories_are_verified_codes():
    for coding in CATEGORIES.values():
        assert VERIFIED[(coding["system"], coding["code"])]["display"] == coding["display"]


def templates() -> CardTemplates:
    return CardTemplates.load(CARDS, Catalogue.load(CARDS))


def test_every_catalogue_topic_has_its_card_and_every_card_is_in_the_catalogue():
    catalogue = Catalogue.load(CARDS)
    loaded = templates()
    assert set(loaded.topics) == set(catalogue.variants)
    for topic, variants in catalogue.variants.items():
        assert set(loaded.topics[topic]["variants"]) == set(variants)


def test_summaries_stay_under_140_characters_with_long_values():
    longest = {"wells_score": "9", "wells_highest": "9",
               "wells_from_record": "Wells not yet scored", "cutoff": "1000", "ottawa_reason": "age 100 (≥ 55)",
               "cutoff_basis": "age-adjusted, age × 10", "admission_reasons": "x", "d_dimer_reading": "x",
               "repeat_from": "2026-12-31", "repeat_to": "2026-12-31", "ctpa_date": "2026-12-31",
               "unread": "Conditions, Medication orders, Observations, Procedures",
               "partial": "Conditions, Medication orders, Observations, Procedures",
               "entries": "999 problem-list entries and 999 observations", "min_age": "18", "acute_days": "99",
               "died": "as deceased on 2026-12-31"}
    for template in templates().topics.values():
        for variant in template["variants"].values():
            assert len(variant["summary"].format(**longest)) < 140


def test_the_review_sheet_is_current():
    assert (CARDS / "README.md").read_text(encoding="utf-8") == render(templates()), (
        "cards/README.md is stale: python -m cds_service.clinical.review_sheet > cards/README.md")


@pytest.mark.parametrize("breakage, message", [
    (lambda t: t.pop("source"), "source"),
    (lambda t: t["variants"]["likely"].update(summary="x" * 130), "summary"),
    (lambda t: t["variants"]["likely"].update(suggestions=["no-such-order"]), "no-such-order"),
    (lambda t: t["orders"]["d-dimer"].update(category="wishful"), "category"),
])
def test_a_broken_card_file_stops_start_up(tmp_path, breakage, message):
    folder = tmp_path / "cards"
    shutil.copytree(CARDS, folder)
    path = folder / "topics" / "suspected-dvt.json"
    template = json.loads(path.read_text(encoding="utf-8"))
    breakage(template)
    path.write_text(json.dumps(template), encoding="utf-8")
    with pytest.raises(ValueError):
        ClinicalEngine(cards_dir=folder)


def test_a_missing_value_set_stops_start_up(tmp_path):
    folder = tmp_path / "valueset"
    shutil.copytree(REPO_ROOT / "valueset", folder)
    (folder / "dvt-lower-limb.json").unlink()
    with pytest.raises(ValueError, match="dvt-lower-limb"):
        ClinicalEngine(valueset_dir=folder)


# -- drift: every name a rule declares must exist, or the service does not start ---------------------------

DECLARED = sorted(names.declared())


def _without(folder: Path, kind: str, scope: str, key: str) -> None:
    """Remove one declared name from a copy of the clinical content."""
    if kind == "value-set":
        (folder / "valueset" / f"{key}.json").unlink()
        return
    path = folder / "cards" / "catalogue.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    if kind == "window":
        del data["windows"][key]
        data["measurements"] = {vs: w for vs, w in data["measurements"].items() if w != key}
    elif kind == "measurement":
        del data["measurements"][key]
    elif kind == "threshold":
        del data["thresholds"][key]
    elif kind == "score-item":
        del data["scores"][scope]["items"][key]
        data["scores"][scope]["bedside"] = [b for b in data["scores"][scope]["bedside"] if b != key]
    elif kind == "topic":
        data["topics"] = [t for t in data["topics"] if t["topic"] != key]
        (folder / "cards" / "topics" / f"{key}.json").unlink()
    elif kind == "phrase":
        # the words of every card are cards/common.json; a topic's are cards/topics/<topic>.json
        topic_path = folder / "cards" / ("common.json" if scope == "common" else f"topics/{scope}.json")
        topic = json.loads(topic_path.read_text(encoding="utf-8"))
        del topic["phrases"][key]
        topic_path.write_text(json.dumps(topic), encoding="utf-8")
    path.write_text(json.dumps(data), encoding="utf-8")


def test_the_rules_declare_what_they_read():
    kinds = {kind for kind, _, _ in DECLARED}
    assert kinds == {"value-set", "measurement", "window", "threshold", "score-item", "topic", "phrase"}
    assert len([d for d in DECLARED if d[0] in ("value-set", "measurement")]) >= 50


@pytest.mark.parametrize("kind, scope, key", DECLARED, ids=[f"{k}:{s}:{n}" if s else f"{k}:{n}" for k, s, n in DECLARED])
def test_removing_anything_a_rule_reads_stops_start_up(tmp_path, kind, scope, key):
    shutil.copytree(CARDS, tmp_path / "cards")
    shutil.copytree(REPO_ROOT / "valueset", tmp_path / "valueset")
    ClinicalEngine(valueset_dir=tmp_path / "valueset", cards_dir=tmp_path / "cards")  # whole: it starts
    _without(tmp_path, kind, scope, key)
    with pytest.raises(ValueError, match=key):
        ClinicalEngine(valueset_dir=tmp_path / "valueset", cards_dir=tmp_path / "cards")


def test_a_rule_cannot_read_a_bare_string():
    engine = ClinicalEngine()
    record = engine.record({"resourceType": "Patient", "id": "p"}, {}, datetime(2026, 1, 1, tzinfo=timezone.utc))
    with pytest.raises(TypeError):
        record.current("leg-swelling")
    with pytest.raises(TypeError):
        record.threshold("tachycardia")


def test_links_follow_the_variant():
    """r34a W5: the aneurysm guideline only on the aneurysm variants of the limb card, the age-adjusted D-dimer
    paper only where a D-dimer decides (not on the Wells-likely card), and no developer page on a clinical card."""
    from cds_service.clinical.cards import links_of
    topics = templates().topics
    labels = lambda topic, variant: [link["label"] for link in links_of(topics[topic], variant)]
    assert not any("SVS" in label for label in labels("acute-limb-ischaemia", "default"))
    assert any("SVS" in label for label in labels("acute-limb-ischaemia", "aneurysm"))
    assert not any("Age-adjusted" in label for label in labels("suspected-dvt", "likely"))
    assert any("Age-adjusted" in label for label in labels("suspected-dvt", "unlikely"))
    catalogue = Catalogue.load(CARDS)
    for entry in catalogue.topics:
        if entry.get("clinical", True):
            assert not any("build.fhir.org" in link["url"] for link in topics[entry["topic"]]["links"]), entry["topic"]


def test_a_link_naming_an_unknown_variant_stops_start_up(tmp_path):
    folder = tmp_path / "cards"
    shutil.copytree(CARDS, folder)
    path = folder / "topics" / "suspected-dvt.json"
    template = json.loads(path.read_text(encoding="utf-8"))
    template["links"][0]["variants"] = ["no-such-variant"]
    path.write_text(json.dumps(template), encoding="utf-8")
    with pytest.raises(ValueError, match="unknown variants"):
        ClinicalEngine(cards_dir=folder)


def test_no_card_text_cites_the_internal_knowledge_base():
    """A clinician cannot look up "KB §8.2": card text cites the guideline itself (r38a W2). The rule and
    stop texts are for the reviewer and may name the KB."""
    cards = Path(__file__).resolve().parents[2] / "cards"
    found = []

    def walk(node, where):
        if isinstance(node, dict):
            for key, value in node.items():
                if key not in ("rule", "stops"):
                    walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for value in node:
                walk(value, where)
        elif isinstance(node, str) and re.search(r"\bKB\b", node):
            found.append((where, node[:80]))

    for path in [*sorted((cards / "topics").glob("*.json")), cards / "common.json"]:
        walk(json.loads(path.read_text(encoding="utf-8")), path.name)
    assert not found, found


def test_a_child_card_names_a_source_that_covers_children():
    """NICE NG158 covers adults only: the child cards name the paediatric guideline as their source, the
    adult cards NG158 (r38a W2)."""
    cards = Path(__file__).resolve().parents[2] / "cards"
    templates = CardTemplates.load(cards, Catalogue.load(cards))
    child = templates.render(Finding(names.topic("suspected-dvt"), "warning", variant="child"), "p")["source"]
    adult = templates.render(Finding(names.topic("suspected-dvt"), "warning", variant="coded-unconfirmed",
                                     values={"wells_score": 0, "wells_highest": 7, "anticoagulant_choice": "usually a DOAC"}),
                             "p")["source"]
    assert "ASH/ISTH 2024" in child["label"] and "NG158" not in child["label"]
    assert "NG158" in adult["label"]
    for topic in ("suspected-dvt", "suspected-pe"):
        for name, variant in templates.topics[topic]["variants"].items():
            assert ("child" in name.split("-")) == ("source" in variant), (topic, name)
