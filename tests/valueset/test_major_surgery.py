"""major-surgery covers more than knee replacement (Wells item 3; KB §8.9), and only from its VSAC sources (plus the caesarean section, from HL7 BFDR)."""
import json
from pathlib import Path

VALUESET_DIR = Path(__file__).resolve().parents[2] / "valueset"
SCT = "http://snomed.info/sct"


def _load(name):
    return json.loads((VALUESET_DIR / name).read_text(encoding="utf-8"))


def test_major_surgery_covers_hip_abdominal_pelvic_cardiothoracic_and_neurosurgery():
    vs = _load("major-surgery.json")
    codes = {c["code"] for inc in vs["compose"]["include"] if inc["system"] == SCT for c in inc["concept"]}
    assert {
        "609588000",   # Total knee replacement
        "179326003",   # Primary uncemented hemiarthroplasty of hip
        "52734007",    # Total replacement of hip
        "17073005",    # Aortocoronary artery bypass graft with vein graft
        "307771009",   # Radical abdominal hysterectomy
        "315321001",   # Right hemicolectomy and anastomosis of ileum to colon
        "178373004",   # Exploratory open craniotomy
    } <= codes
    recorded = {e["code"]: e for e in _load("verified-codes.json")["codes"] if e["system"] == SCT}
    # The KB's two knee replacements; the caesareans of VSAC Cesarean Birth (11466000 also from HL7 BFDR);
    # every other code is VSAC Major Surgical Procedure's or the joint-replacement sets'.
    caesareans = {code for code in codes if "S-VSAC-DELIVERY" in recorded[code]["sources"]}
    assert {"11466000", "274130007", "177141003"} <= caesareans
    for code in codes - {"609588000", "443682009"} - caesareans:
        assert recorded[code]["sources"] == ["S8-VSAC"], code
