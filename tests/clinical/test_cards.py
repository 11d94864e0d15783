"""cards/: valid against its schema at start-up, every code verified, the review sheet current."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cds_service.clinical.cards import CardTemplates
from cds_service.clinical.engine import REPO_ROOT, RULE_OUTPUTS, ClinicalEngine
from cds_service.clinical.review_sheet import render

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
    from cds_service.clinical.cards import CATEGORIES

    for coding in CATEGORIES.values():
        assert VERIFIED[(coding["system"], coding["code"])]["display"] == coding["display"]


def test_every_rule_output_has_its_card_and_every_card_a_rule():
    templates = CardTemplates.load(CARDS)
    assert set(templates.topics) == set(RULE_OUTPUTS)
    for topic, variants in RULE_OUTPUTS.items():
        assert set(templates.topics[topic]["variants"]) == variants


def test_summaries_stay_under_140_characters_with_long_values():
    templates = CardTemplates.load(CARDS)
    longest = {"wells_score": "9", "wells_highest": "9", "cutoff": "1000 ng/mL FEU", "ottawa_reason": "age 100 (≥ 55)",
               "cutoff_basis": "age-adjusted, age × 10", "admission_reasons": "x", "d_dimer_reading": "x"}
    for template in templates.topics.values():
        for variant in template["variants"].values():
            assert len(variant["summary"].format(**longest)) < 140


def test_the_review_sheet_is_current():
    assert (CARDS / "README.md").read_text(encoding="utf-8") == render(CardTemplates.load(CARDS)), (
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
