"""Every venous-thromboembolism code a third-party synthetic population writes is matched by a VTE value set.

The cohort is tests/data/synthetic/patients.jsonl.gz (300 patients from clinosim 0.6.5 and carebundle 0.5.0,
see its README). A Synthea population could not be generated here (Synthea needs Java and jar downloads this
machine cannot fetch), so the codes Synthea's own modules write are checked from the module source instead
(SYNTHEA_MODULE_CODES).

A Condition coding counts as VTE if its display matches /thrombo|embol/ (or it is an ICD-10-CM code of a VTE
family), unless it is clearly not venous thromboembolism (arterial, superficial, septic, fat/air/amniotic,
cerebral, portal/hepatic/mesenteric, thrombocytopenia, ...). Each VTE coding must be in dvt-lower-limb,
pulmonary-embolism or vte-history, or in EXCLUDED with the reason.
"""
from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COHORT = ROOT / "tests" / "data" / "synthetic" / "patients.jsonl.gz"
VALUESET_DIR = ROOT / "valueset"
VTE_SETS = ("dvt-lower-limb", "pulmonary-embolism", "vte-history")
SCT = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"

VTE_TEXT = re.compile(r"thrombo|embol", re.I)
# ICD-10-CM families whose codes are VTE whatever the display says (clinosim writes "(display unavailable)").
VTE_ICD_PREFIXES = ("I26", "I80.1", "I80.2", "I82", "O22.3", "O87.1", "O88.2", "Z86.71")
NOT_VTE = re.compile(
    r"arter|aort|coronary|cerebr|stroke|retina|superficial|thrombocyt|thrombophilia|thromboplastin|septic|"
    r"\bfat\b|\bair\b|amniotic|cement|portal|hepatic|mesenteric|renal vein|hemorrhoid|haemorrhoid|"
    r"cardiac|atrial|mural|graft|device|catheter", re.I)

# VTE codes deliberately in none of the three sets, with the reason.
EXCLUDED = {
    (ICD10CM, "I82.90"): "Acute embolism and thrombosis of unspecified vein: the site is unknown (arm, "
                         "abdomen or leg), so it must not be read as a leg clot; clinosim writes it next to "
                         "I80.20, which dvt-lower-limb matches",
    (ICD10CM, "I82.91"): "Chronic embolism and thrombosis of unspecified vein: site and depth unknown",
    (ICD10CM, "I82.9"): "header of I82.90/I82.91",
    (SCT, "128054009"): "Deep venous thrombosis of upper extremity: not a leg DVT (KB §8.8)",
}
UPPER_LIMB_ICD = ("I82.6", "I82.7", "I82.A", "I82.B", "I82.C")  # KB §8.8: upper-limb DVT is not leg DVT

# Codes Synthea modules write for VTE (synthetichealth/synthea@145eac78,
# src/main/resources/modules/covid19/diagnose_blood_clot.json, ConditionOnset states).
SYNTHEA_MODULE_CODES = {
    (SCT, "132281000119108"): "Acute deep venous thrombosis (disorder)",
    (SCT, "706870000"): "Acute pulmonary embolism (disorder)",
}

# KB §8.3: heparin flush / lock products are not anticoagulation; RxNorm codes the KB names for them.
HEPARIN_FLUSH_OR_DILUTE = {"1442414", "1658690", "1658692"}


def _members() -> dict[tuple[str, str], str]:
    members = {}
    for vs_id in VTE_SETS:
        vs = json.loads((VALUESET_DIR / f"{vs_id}.json").read_text(encoding="utf-8"))
        for inc in vs["compose"]["include"]:
            for concept in inc.get("concept", []):
                members[(inc["system"], concept["code"])] = vs_id
    return members


def _is_vte(system: str, code: str, display: str) -> bool:
    by_code = system == ICD10CM and code.startswith(VTE_ICD_PREFIXES)
    return (by_code or bool(VTE_TEXT.search(display or ""))) and not NOT_VTE.search(display or "")


@pytest.fixture(scope="module")
def cohort_codings() -> dict[tuple[str, str], tuple[str, int]]:
    seen: dict[tuple[str, str], tuple[str, int]] = {}
    with gzip.open(COHORT, "rt", encoding="utf-8") as fh:
        for line in fh:
            prefetch = json.loads(line)["prefetch"]
            for entry in prefetch.get("conditions", {}).get("entry", []):
                for coding in entry["resource"].get("code", {}).get("coding", []):
                    key = (coding.get("system"), coding.get("code"))
                    display, n = seen.get(key, (coding.get("display") or "", 0))
                    seen[key] = (display, n + 1)
    return seen


def _unmatched(codings, members):
    return sorted(
        (key, display) for key, display in codings
        if _is_vte(key[0], key[1], display) and key not in members and key not in EXCLUDED
        and not (key[0] == ICD10CM and key[1].startswith(UPPER_LIMB_ICD)))


def test_the_cohort_holds_vte_codes(cohort_codings):
    vte = {k for k, (d, _) in cohort_codings.items() if _is_vte(k[0], k[1], d)}
    # What the cohort holds (README): I80.20 + I82.90 (30 DVT patients), I26.99 (20 PE patients).
    assert {(ICD10CM, "I80.20"), (ICD10CM, "I82.90"), (ICD10CM, "I26.99")} <= vte


def test_every_vte_coding_in_the_cohort_is_matched_or_excluded(cohort_codings):
    members = _members()
    codings = [(k, d) for k, (d, _) in cohort_codings.items()]
    assert _unmatched(codings, members) == []


def test_every_vte_code_synthea_modules_write_is_matched():
    members = _members()
    assert _unmatched(list(SYNTHEA_MODULE_CODES.items()), members) == []
    assert members[(SCT, "132281000119108")] == "dvt-lower-limb"
    assert members[(SCT, "706870000")] == "pulmonary-embolism"


def test_exclusions_are_not_members():
    members = _members()
    assert not set(EXCLUDED) & set(members)
    assert not [k for k in members if k[0] == ICD10CM and k[1].startswith(UPPER_LIMB_ICD)]


def test_the_classifier_keeps_non_venous_codes_out():
    assert not _is_vte(ICD10CM, "I74.3", "Embolism and thrombosis of arteries of the lower extremities")
    assert not _is_vte(ICD10CM, "I80.00", "Phlebitis and thrombophlebitis of superficial vessels of "
                                          "unspecified lower extremity")
    assert not _is_vte(ICD10CM, "I26.90", "Septic pulmonary embolism without acute cor pulmonale")
    assert _is_vte(ICD10CM, "I26.99", "(display unavailable)")


def test_no_heparin_flush_or_lock_product_is_an_anticoagulant():
    vs = json.loads((VALUESET_DIR / "anticoagulants.json").read_text(encoding="utf-8"))
    codes = {c["code"] for inc in vs["compose"]["include"] if inc["system"] == RXNORM for c in inc["concept"]}
    assert not codes & HEPARIN_FLUSH_OR_DILUTE
    displays = " ".join(c.get("display", "") for inc in vs["compose"]["include"] for c in inc["concept"])
    assert not re.search(r"flush|lock", displays, re.I)
