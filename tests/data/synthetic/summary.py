#!/usr/bin/env python3
"""Summarise tests/data/synthetic/patients.jsonl.gz.

Prints: patients per source, resources per type, top condition / observation /
medication / procedure codes (``system|code|display``), the codes relevant to a
posterior-knee-pain / DVT service, and -- unless ``--no-validate`` or
fhir.resources is missing -- how many resources fail to parse with the
``fhir.resources`` R4B models (8.x, pydantic v2: ``Model.model_validate(dict)``).

Failures are reported, never fixed: invalid resources are part of the point of
this data set. Note the models are R4B (4.3.0) while the generators write R4
(4.0.1); the two differ little for these five types, but a failure can be an
R4/R4B difference rather than a generator defect -- the error list says which
field failed.

    python tests/data/synthetic/summary.py [PATH] [--top N] [--no-validate]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_PATH = HERE / "patients.jsonl.gz"

BUNDLE_KEYS = {
    "conditions": "Condition",
    "observations": "Observation",
    "medications": "MedicationRequest",
    "procedures": "Procedure",
}
TYPES = ["Patient", *BUNDLE_KEYS.values()]

SYSTEM_NAMES = {
    "http://snomed.info/sct": "SNOMED CT",
    "http://loinc.org": "LOINC",
    "http://hl7.org/fhir/sid/icd-10-cm": "ICD-10-CM",
    "http://hl7.org/fhir/sid/icd-10": "ICD-10 (WHO)",
    "http://www.nlm.nih.gov/research/umls/rxnorm": "RxNorm",
    "http://www.ama-assn.org/go/cpt": "CPT",
}

# What a knee-pain / DVT service cares about. Matched against system|code|display.
RELEVANT = {
    "DVT / VTE": r"\|I80\.|\|I82\.|\|128053003\||\|404223003\||deep vein|venous thromb|thrombophlebitis",
    "PE": r"\|I26\.|\|59282003\||pulmonary embol",
    "knee": r"\|M17\.|\|M22\.|\|M23\.|\|M25\.[0-9]6|\|S8[0-9]\.|knee|popliteal|patell|menisc",
    "pregnancy / postpartum": r"\|O[0-9]|\|Z3[2-9]\.|\|Z3[2-9]\||pregnan|postpartum|puerper|deliver|gestation",
    "cancer": r"\|C[0-9][0-9]|\|D0[0-9]\.|malignan|neoplasm|cancer|carcinoma|lymphoma|leukemia|chemotherap",
    "anticoagulant / antiplatelet": (
        r"\|(11289|1364430|1114195|1037042|1599538|67108|5224|321208|67109|1191|32968|1116632)\|"
        r"|warfarin|apixaban|rivaroxaban|dabigatran|edoxaban|heparin|enoxaparin|fondaparinux|dalteparin"
    ),
    "coagulation labs": r"\|48065-7\||\|48066-5\||\|6301-6\||\|5902-2\||\|3173-2\||\|14979-9\||dimer|\bINR\b|prothrombin|thromboplastin",
    "trauma / immobility / surgery": r"fractur|injur|immobil|surgery|arthroplasty|\|S7[0-9]\.|\|S9[0-9]\.",
}


def load(path: Path):
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            yield json.loads(line)


def short_system(system: str | None) -> str:
    return system or "(no system)"


def codings(resource: dict) -> list[str]:
    """'system|code|display' per coding of the resource's main code (deduped)."""
    rtype = resource.get("resourceType")
    cc = resource.get("medicationCodeableConcept") if rtype == "MedicationRequest" else resource.get("code")
    if rtype == "MedicationRequest" and cc is None and "medicationReference" in resource:
        ref = resource["medicationReference"]
        return [f"(medicationReference)|{ref.get('reference', '')}|{ref.get('display', '')}"]
    if not cc:
        return ["(no code)||"]
    out = []
    for c in cc.get("coding") or []:
        out.append(f"{short_system(c.get('system'))}|{c.get('code', '')}|{c.get('display', '')}")
    if not out:
        out.append(f"(text only)||{cc.get('text', '')}")
    return list(dict.fromkeys(out))


def print_top(title: str, counter: Counter, n: int | None) -> None:
    items = counter.most_common(n)
    shown = f"top {len(items)} of {len(counter)}" if n and len(counter) > n else f"all {len(counter)}"
    print(f"\n## {title} ({shown}; count = resources carrying the coding)")
    for key, count in items:
        print(f"{count:7d}  {key}")


def validate(records: list[dict], top_errors: int) -> None:
    try:  # optional here: the script also runs where the service is not installed, and then skips validation
        import fhir.resources
        from fhir.resources.R4B.bundle import Bundle
        from fhir.resources.R4B.condition import Condition
        from fhir.resources.R4B.medicationrequest import MedicationRequest
        from fhir.resources.R4B.observation import Observation
        from fhir.resources.R4B.patient import Patient
        from fhir.resources.R4B.procedure import Procedure
        from pydantic import ValidationError  # installed with fhir.resources
    except ImportError as exc:  # pragma: no cover - optional dependency
        print(f"\n## Validation skipped: {exc}")
        return

    models = {
        "Patient": Patient,
        "Condition": Condition,
        "Observation": Observation,
        "MedicationRequest": MedicationRequest,
        "Procedure": Procedure,
    }
    total, failed = Counter(), Counter()
    errors: dict[str, Counter] = defaultdict(Counter)
    by_source: dict[str, Counter] = defaultdict(Counter)
    for rec in records:
        src = rec["source"].split(" seed")[0]
        resources = [rec["prefetch"]["patient"]]
        for key in BUNDLE_KEYS:
            resources += [e["resource"] for e in rec["prefetch"][key].get("entry", [])]
        for res in resources:
            rtype = res["resourceType"]
            total[rtype] += 1
            try:
                models[rtype].model_validate(res)
            except ValidationError as exc:
                failed[rtype] += 1
                by_source[src][rtype] += 1
                for err in exc.errors():
                    loc = ".".join(str(p) for p in err["loc"] if not isinstance(p, int))
                    errors[rtype][f"{loc}: {err['type']}: {err['msg'][:90]}"] += 1
    # The searchset wrappers themselves (built by generate.py), as R4B Bundles.
    bundles = bad_bundles = 0
    for rec in records:
        for key in BUNDLE_KEYS:
            bundles += 1
            try:
                Bundle.model_validate(rec["prefetch"][key])
            except ValidationError:
                bad_bundles += 1

    print(f"\n## fhir.resources {fhir.resources.__version__} R4B validation (Model.model_validate)")
    print(f"{'type':20s} {'resources':>9s} {'failed':>7s} {'fraction':>9s}")
    for rtype in TYPES:
        n, f = total[rtype], failed[rtype]
        print(f"{rtype:20s} {n:9d} {f:7d} {f / n if n else 0:9.1%}")
    print(f"{'searchset Bundle':20s} {bundles:9d} {bad_bundles:7d} {bad_bundles / bundles:9.1%}")
    if by_source:
        print("\nfailures by generator:")
        for src, counter in sorted(by_source.items()):
            print(f"  {src}: " + ", ".join(f"{t} {c}" for t, c in sorted(counter.items())))
    for rtype in TYPES:
        if errors[rtype]:
            print(f"\nmost common {rtype} errors (count = error occurrences):")
            for msg, count in errors[rtype].most_common(top_errors):
                print(f"{count:7d}  {msg}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Summarise the synthetic prefetch data.")
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--top", type=int, default=30, help="rows per top-N table")
    parser.add_argument("--no-validate", action="store_true")
    args = parser.parse_args(argv)

    records = list(load(args.path))
    sources = Counter(r["source"] for r in records)
    per_type: dict[str, list[int]] = {t: [] for t in BUNDLE_KEYS.values()}
    code_counts: dict[str, Counter] = {t: Counter() for t in TYPES}
    systems: dict[str, Counter] = {t: Counter() for t in TYPES}
    relevant: dict[str, Counter] = defaultdict(Counter)
    relevant_patients: dict[str, set] = defaultdict(set)
    obs_category = Counter()
    mr_status = Counter()
    empty_bundles = Counter()

    for rec in records:
        pre = rec["prefetch"]
        for key, rtype in BUNDLE_KEYS.items():
            bundle = pre[key]
            entries = bundle.get("entry", [])
            per_type[rtype].append(len(entries))
            if not entries:
                empty_bundles[rtype] += 1
            for entry in entries:
                res = entry["resource"]
                if rtype == "Observation":
                    cats = sorted({c.get("code") for cat in res.get("category", []) for c in cat.get("coding", [])})
                    obs_category["/".join(str(c) for c in cats) or "(none)"] += 1
                if rtype == "MedicationRequest":
                    mr_status[res.get("status")] += 1
                for key_str in codings(res):
                    code_counts[rtype][key_str] += 1
                    systems[rtype][key_str.split("|")[0]] += 1
                    probe = "|" + key_str.split("|", 1)[1] + "|"
                    for label, pattern in RELEVANT.items():
                        if re.search(pattern, probe, re.IGNORECASE):
                            relevant[label][f"{rtype}  {key_str}"] += 1
                            relevant_patients[label].add(rec["patientId"])

    print(f"# {args.path.name}")
    print(f"\n## Patients: {len(records)}")
    for src, n in sources.items():
        print(f"{n:7d}  {src}")
    print("\n## Resources per type (per patient: min / median / max; empty = patients whose bundle has total 0)")
    print(f"{'Patient':20s} {len(records):7d}")
    for rtype, counts in per_type.items():
        print(f"{rtype:20s} {sum(counts):7d}   per patient {min(counts)} / "
              f"{statistics.median(counts):g} / {max(counts)}   empty {empty_bundles[rtype]}")
    print("\n## Code systems per type (codings)")
    for rtype in BUNDLE_KEYS.values():
        print(f"{rtype:20s} " + ", ".join(
            f"{SYSTEM_NAMES.get(s, s)} {n}" for s, n in systems[rtype].most_common()))
    print("\n## Observation categories")
    for cat, n in obs_category.most_common():
        print(f"{n:7d}  {cat}")
    print("\n## MedicationRequest status (only active are in the prefetch)")
    for st, n in mr_status.most_common():
        print(f"{n:7d}  {st}")

    print_top("Condition codes", code_counts["Condition"], args.top)
    print_top("Observation codes", code_counts["Observation"], args.top)
    print_top("Medication codes (active MedicationRequests)", code_counts["MedicationRequest"], None)
    print_top("Procedure codes", code_counts["Procedure"], args.top)

    print("\n## Codes relevant to knee pain / DVT (pattern match on system|code|display)")
    for label in RELEVANT:
        print(f"\n### {label}: {len(relevant_patients[label])} patients")
        for key, n in relevant[label].most_common():
            print(f"{n:7d}  {key}")
        if not relevant[label]:
            print("      (none)")

    if not args.no_validate:
        validate(records, top_errors=8)
    return 0


if __name__ == "__main__":
    sys.exit(main())
