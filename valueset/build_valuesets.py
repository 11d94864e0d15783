"""Build valueset/<id>.json (FHIR R4 ValueSets) and valueset/README.md from valueset/spec/.

Usage (from the repository root)::

    python valueset/build_valuesets.py          # (re)write the generated files
    python valueset/build_valuesets.py --check  # exit 1 if a generated file differs or is missing

Inputs - read, never written:
* ``valueset/spec/<id>.json`` - one specification per value set; the format is described in
  ``spec/README.template.md`` (section "Editing a value set");
* ``valueset/verified-codes.json`` - the record of SNOMED CT, LOINC and RxNorm codes: a spec names
  only the code, display and source tags come from the record, and a code missing from it is an error;
* ``valueset/icd10cm-sources.json`` - which ICD-10-CM codes the KB names (tag KB-ICD) and which are in
  the VSAC VTE expansion (tag S-VSAC);
* ``valueset/spec/README.template.md`` - the review sheet's prose, with ``{{...}}`` slots filled here;
* simple-icd-10-cm 1.5.0 (ICD-10-CM April 2026) through ``build_icd10cm.py``: families are expanded
  to their billable leaves and every ICD-10-CM code must be a billable leaf of that release.

Output is deterministic (no dates), so ``--check`` can run in CI and in the tests.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import build_icd10cm as icd  # noqa: E402  (sibling module, not a package)

SPEC_DIR = HERE / "spec"
VERIFIED_CODES = HERE / "verified-codes.json"
ICD_SOURCES = HERE / "icd10cm-sources.json"
README_TEMPLATE = SPEC_DIR / "README.template.md"
README = HERE / "README.md"
INPUTS = {VERIFIED_CODES.name, ICD_SOURCES.name}

SCT = "http://snomed.info/sct"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
SYSTEM_ORDER = [SCT, ICD10CM, LOINC, RXNORM]
SPEC_SYSTEMS = {"snomed": SCT, "loinc": LOINC, "rxnorm": RXNORM}
SHORT = {SCT: "SCT", ICD10CM: "ICD", LOINC: "LOINC", RXNORM: "RxNorm"}

URL_BASE = "https://posterior-knee-pain.example/fhir/ValueSet/"
CODE_SOURCE_URL = "https://posterior-knee-pain.example/fhir/StructureDefinition/code-source"
CODE_NOTE_URL = "https://posterior-knee-pain.example/fhir/StructureDefinition/code-note"
GENERATED_TAG = "https://posterior-knee-pain.example/fhir/CodeSystem/file-origin"

SPEC_KEYS = {"id", "title", "description", "readme", "snomed", "loinc", "rxnorm", "icd10cm", "notes"}
README_KEYS = {"group", "meaning", "decisions"}
ITEM_KEYS = {"code", "family", "range", "seventh", "exclude", "added", "sibling", "note"}

# The ICD-10-CM source tags; the other systems' tags are the verified record's.
TAG_KB, TAG_ENUM, TAG_ADDED, TAG_VSAC, TAG_HEADER = "KB-ICD", "ICD-ENUM", "ICD-ADDED", "S-VSAC", "ICD-HEADER"

ICD_TAIL = (" ICD-10-CM codes are billable leaves of ICD-10-CM April 2026 via simple-icd-10-cm 1.5.0"
            " (families expanded by valueset/build_valuesets.py); per-code source tags: KB-ICD = named"
            " in the KB, ICD-ENUM = leaf of a KB-named family, ICD-ADDED = added beyond the KB"
            " (code-note says why), S-VSAC = also in the VSAC VTE expansion.")
HEADER_NOTE = ("Non-billable header: every billable code under it is in this value set, so a record coded "
               "at this level matches.")


class SpecError(ValueError):
    pass


def load_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def render(resource: dict) -> str:
    return json.dumps(resource, indent=2, ensure_ascii=False) + "\n"


def pascal(id_: str) -> str:
    return "".join(part.capitalize() for part in id_.split("-"))


def _check_keys(obj: dict, allowed: set[str], where: str) -> None:
    # A misspelt key ("exlude") would otherwise be ignored silently and change a value set.
    unknown = set(obj) - allowed
    if unknown:
        raise SpecError("%s: unknown key(s) %s" % (where, sorted(unknown)))


def icd_item(raw, where: str, kb_named: set[str]) -> dict:
    """A spec's ICD-10-CM item as a dict: "M66.0" is a KB-named code, "I82.4-" a family."""
    if isinstance(raw, str):
        raw = {"family": raw[:-1]} if raw.endswith("-") else {"code": raw}
    _check_keys(raw, ITEM_KEYS, where)
    kinds = [k for k in ("code", "family", "range") if k in raw]
    if len(kinds) != 1:
        raise SpecError("%s: an item needs exactly one of code / family / range: %s" % (where, raw))
    if ("seventh" in raw and "family" not in raw) or ("sibling" in raw and "code" not in raw):
        raise SpecError("%s: 'seventh' goes with a family, 'sibling' with a code: %s" % (where, raw))
    if "range" in raw and raw["range"] != "C00-C96":
        raise SpecError("%s: the only range is C00-C96 (malignant neoplasms)" % where)
    if "code" in raw:
        named = raw["code"] in kb_named
        reason = "added" in raw or "sibling" in raw
        if named and reason:
            raise SpecError("%s: %s is named by the KB, so it needs no reason" % (where, raw["code"]))
        if not named and not reason:
            raise SpecError("%s: the KB does not name %s (icd10cm-sources.json); say why it is added "
                            "with {\"code\": ..., \"added\": \"...\"}" % (where, raw["code"]))
    return raw


def item_codes(item: dict) -> list[str]:
    if "code" in item:
        codes = [item["code"]]
    elif "family" in item:
        codes = icd.family_leaves(item["family"], item.get("seventh"))
    else:
        codes = icd.malignant_neoplasm_leaves()
    return [c for c in codes if c not in item.get("exclude", ())]


def input_only_note(entry: dict) -> str | None:
    cur = entry.get("currency", "")
    if "unknown" in cur or "inactive" in cur or entry.get("verification") == "partial":
        return "INPUT-ONLY: match it on input, do not emit it (%s)." % (cur or "KB marks it partially verified (~)")
    return None


def concept(code: str, display: str, sources: list[str], notes: list[str]) -> dict:
    ext = [{"url": CODE_SOURCE_URL, "valueString": s} for s in sources]
    if notes:
        ext.append({"url": CODE_NOTE_URL, "valueString": " ".join(notes)})
    return {"extension": ext, "code": code, "display": display}


def build_one(spec: dict, verified: dict, icd_sources: dict) -> dict:
    """The ValueSet of one spec; ``verified`` is keyed by (system, code)."""
    vs_id = spec.get("id", "?")
    _check_keys(spec, SPEC_KEYS, vs_id)
    _check_keys(spec.get("readme", {}), README_KEYS, vs_id + " readme")
    kb_named, vsac = set(icd_sources["kb_named"]), set(icd_sources["vsac_vte"])
    notes = dict(spec.get("notes", {}))
    includes: dict[str, list[dict]] = {}

    for key, system in SPEC_SYSTEMS.items():
        for code in spec.get(key, []):
            entry = verified.get((system, code))
            if entry is None:
                raise SpecError("%s|%s (value set %s) is not in verified-codes.json" % (system, code, vs_id))
            extra = [n for n in (input_only_note(entry), notes.pop(code, None)) if n]
            includes.setdefault(system, []).append(concept(code, entry["display"], entry["sources"], extra))

    items = [icd_item(raw, "%s icd10cm[%d]" % (vs_id, i), kb_named) for i, raw in enumerate(spec.get("icd10cm", []))]
    seen: set[str] = set()
    for item in items:
        for code in item_codes(item):
            if code in seen:  # families may overlap a code named on its own
                continue
            seen.add(code)
            if not icd.is_billable(code):
                raise SpecError("%s (value set %s) is not a billable ICD-10-CM leaf" % (code, vs_id))
            tag = TAG_KB if code in kb_named else TAG_ADDED if "added" in item else TAG_ENUM
            extra = ["ADDED: " + item["added"]] if tag == TAG_ADDED else []
            if "sibling" in item:
                extra.append(item["sibling"])
            if item.get("note"):
                extra.append(item["note"])
            if notes.get(code):
                extra.append(notes.pop(code))
            tags = [tag, TAG_VSAC] if code in vsac else [tag]
            includes.setdefault(ICD10CM, []).append(concept(code, icd.description(code), tags, extra))

    # A record coded at a header level (I80.20) must match when the set holds every leaf under it.
    family_notes = {item["family"]: item["note"] for item in items if "family" in item and item.get("note")}
    for header in icd.complete_headers(seen):
        extra = [HEADER_NOTE] + ([family_notes[header]] if header in family_notes else [])
        includes.setdefault(ICD10CM, []).append(concept(header, icd.description(header), [TAG_HEADER], extra))

    if notes:
        raise SpecError("%s: notes for codes that are not in the set: %s" % (vs_id, sorted(notes)))
    if not includes:
        raise SpecError("value set %s is empty" % vs_id)
    return {
        "resourceType": "ValueSet",
        "id": vs_id,
        "meta": {"tag": [{
            "system": GENERATED_TAG, "code": "generated",
            "display": "Generated by valueset/build_valuesets.py from valueset/spec/%s.json: edit that file, not this one" % vs_id,
        }]},
        "url": URL_BASE + vs_id,
        "version": "0.1.0",
        "name": pascal(vs_id),
        "title": spec["title"],
        "status": "active",
        "experimental": False,
        "publisher": "posterior-knee-pain CDS project",
        "description": spec["description"] + (ICD_TAIL if ICD10CM in includes else ""),
        "compose": {"include": [{"system": s, "concept": includes[s]} for s in SYSTEM_ORDER if s in includes]},
    }


# --------------------------------------------------------------------------- README
def _concepts(vs: dict):
    for inc in vs["compose"]["include"]:
        for c in inc["concept"]:
            yield inc["system"], c


def _values(c: dict, url: str) -> list[str]:
    return [e["valueString"] for e in c["extension"] if e["url"] == url]


def _is_input_only(c: dict) -> bool:
    return any(n.startswith("INPUT-ONLY") for n in _values(c, CODE_NOTE_URL))


def _row(spec: dict, vs: dict) -> str:
    concepts = list(_concepts(vs))
    parts = []
    for inc in vs["compose"]["include"]:
        n = len(inc["concept"])
        headers = sum(1 for c in inc["concept"] if _values(c, CODE_SOURCE_URL) == [TAG_HEADER])
        parts.append("%s %d" % (SHORT[inc["system"]], n)
                     + (" incl. %d header%s" % (headers, "s" if headers > 1 else "") if headers else ""))
    codes = "%d (%s)" % (len(concepts), ", ".join(parts))
    if len(concepts) <= 6:  # small sets: show the codes themselves
        codes += ": " + ", ".join(c["code"] + (" (input-only)" if _is_input_only(c) else "") for _, c in concepts)
    sources = list(dict.fromkeys(t for _, c in concepts for t in _values(c, CODE_SOURCE_URL)))
    readme = spec.get("readme", {})
    cells = ["`%s`" % spec["id"], readme.get("meaning", spec["title"]), codes, ", ".join(sources),
             readme.get("decisions", "")]
    return "| " + " | ".join(cells) + " |"


def build_readme(specs: list[dict], sets: dict[str, dict], verified_codes: list[dict]) -> str:
    text = README_TEMPLATE.read_text(encoding="utf-8")
    table_head = "| id | meaning | codes | sources | gaps / decisions |\n|---|---|---|---|---|\n"

    def table(match: re.Match) -> str:
        rows = [_row(s, sets[s["id"]]) for s in specs if s.get("readme", {}).get("group") == match.group(1)]
        if not rows:
            raise SpecError("README template: no value set in group %r" % match.group(1))
        return table_head + "\n".join(rows)

    groups = set(re.findall(r"\{\{table:([a-z-]+)\}\}", text))
    lost = [s["id"] for s in specs if s.get("readme", {}).get("group") not in groups]
    if lost:
        raise SpecError("value sets in no README table (readme.group): %s" % lost)
    text = re.sub(r"\{\{table:([a-z-]+)\}\}", table, text)

    used_by: dict[tuple[str, str], list[str]] = {}
    for vs_id, vs in sets.items():
        for system, c in _concepts(vs):
            used_by.setdefault((system, c["code"]), []).append(vs_id)

    systems = ["| system | value sets | concepts | distinct codes |", "|---|---|---|---|"]
    for system in SYSTEM_ORDER:
        keys = [k for k in used_by if k[0] == system]
        in_sets = {v for k in keys for v in used_by[k]}
        systems.append("| %s `%s` | %d | %d | %d |" % (SHORT[system], system, len(in_sets),
                                                      sum(len(used_by[k]) for k in keys), len(keys)))
    systems.append("| all | %d | %d | %d |" % (len(sets), sum(map(len, used_by.values())), len(used_by)))

    input_only = sorted({(c["code"], vs_id) for vs_id, vs in sets.items() for _, c in _concepts(vs) if _is_input_only(c)})
    input_only_text = ", ".join("%s (`%s`)" % pair for pair in input_only)

    uses = ["| system | code | display | value sets |", "|---|---|---|---|"]
    for e in verified_codes:
        if (e["system"], e["code"]) in used_by:
            uses.append("| %s | %s | %s | %s |" % (SHORT[e["system"]], e["code"], e["display"].replace("|", "\\|"),
                                                 ", ".join("`%s`" % v for v in used_by[(e["system"], e["code"])])))

    for slot, value in (("system-counts", "\n".join(systems)), ("input-only", input_only_text),
                        ("code-uses", "\n".join(uses))):
        if "{{%s}}" % slot not in text:
            raise SpecError("README template has no {{%s}}" % slot)
        text = text.replace("{{%s}}" % slot, value)
    return ("<!-- Generated by valueset/build_valuesets.py from valueset/spec/ (prose: spec/README.template.md)."
            " Edit those and re-run it; do not edit this file. -->\n" + text)


# --------------------------------------------------------------------------- files
def build_all() -> dict[Path, str]:
    """{path: text} of every generated file. Inputs are never among them."""
    icd.check_release()
    verified = load_json(VERIFIED_CODES)["codes"]
    index = {(e["system"], e["code"]): e for e in verified}
    icd_sources = load_json(ICD_SOURCES)
    specs = []
    for path in sorted(SPEC_DIR.glob("*.json"), key=lambda p: p.stem):
        spec = load_json(path)
        if spec.get("id") != path.stem:
            raise SpecError("%s: id must be the file name (%r)" % (path.name, spec.get("id")))
        specs.append(spec)
    sets = {s["id"]: build_one(s, index, icd_sources) for s in specs}
    files = {HERE / (vs_id + ".json"): render(vs) for vs_id, vs in sets.items()}
    files[README] = build_readme(specs, sets, verified)
    return files


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare, write nothing")
    args = parser.parse_args(argv)
    files = build_all()
    stale = [p for p, text in files.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
    # A ValueSet whose spec was deleted would otherwise stay in valueset/ and still be served.
    extra = sorted(p.name for p in HERE.glob("*.json") if p not in files and p.name not in INPUTS)
    if args.check:
        for p in stale:
            print("out of date: %s" % p.relative_to(HERE.parent))
        for name in extra:
            print("not produced by the build: valueset/%s" % name)
        return 1 if stale or extra else 0
    for p in stale:
        p.write_text(files[p], encoding="utf-8")
        print("wrote %s" % p.relative_to(HERE.parent))
    for name in extra:
        print("warning: valueset/%s has no spec; delete it or add valueset/spec/%s" % (name, name))
    print("%d value sets" % (len(files) - 1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
