#!/usr/bin/env python3
"""Regenerate tests/data/synthetic/patients.jsonl.gz from third-party generators.

The patients in that file were written by two synthetic FHIR R4 generators from
PyPI that nobody on this project wrote -- ``clinosim`` and ``carebundle`` -- so
that the CDS service can be exercised on data whose shape we did not choose.
Resources are taken exactly as the generators emit them (no hand edits, no
repairs); this script only

* runs the generators with fixed seeds,
* groups each generator's Bulk-style ndjson output by ``subject.reference``,
* keeps the resource types the CDS Hooks prefetch asks for (Patient, Condition,
  Observation, MedicationRequest with status ``active``, Procedure), and
* wraps them in searchset Bundles exactly as a FHIR server answering the
  prefetch templates would.

Cohort (all seeds fixed, see the constants below):

1. clinosim ``simulate`` -- a one-year US hospital catchment run; every patient
   who had an encounter (inpatients, outpatients, ED, obstetric, oncology,
   newborns) is kept, as the tool produced them.
2. clinosim ``test-disease deep_vein_thrombosis`` -- forced DVT admissions,
   i.e. the generator's own way of biasing toward a condition.
3. clinosim ``test-disease pulmonary_embolism`` -- forced PE admissions.
   clinosim derives a forced patient's id from its index alone
   (``FORCED-0001`` -> the same ``Patient`` id in every forced run), so the PE
   run simulates ``DVT_COUNT + PE_COUNT`` patients and keeps only the last
   ``PE_COUNT`` (``FORCED-00xx`` indices the DVT run did not use). Nothing in
   any resource is changed.
4. carebundle ``generate_cohort`` -- its default mixed cohort (healthy /
   hypertension / type 2 diabetes / CKD 3), exported with its own ``to_ndjson``
   (which mints ids from the transaction bundle's fullUrls and rewrites
   ``urn:uuid:`` references to ``Patient/<id>``).

Usage (needs ``pip install carebundle==0.5.0 clinosim==0.6.5``)::

    python tests/data/synthetic/generate.py            # writes patients.jsonl.gz
    python tests/data/synthetic/generate.py --out X.jsonl.gz --keep-raw DIR

The output is byte-for-byte deterministic for the pinned generator versions
(gzip mtime is fixed to 0). It refuses to run with other versions unless
``--allow-other-versions`` is given, since either generator may change its
seeded output between releases.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

try:
    from tests.support.fhir_data import searchset
except ModuleNotFoundError:  # run as a script: this folder is on sys.path, the repository root is not
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
    from tests.support.fhir_data import searchset

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "patients.jsonl.gz"

PINNED = {"clinosim": "0.6.5", "carebundle": "0.5.0"}

SEED = 42
# clinosim simulate: catchment population and the simulated year. --end must be
# given explicitly: its default is "today", which would break determinism.
CLINOSIM_POPULATION = 360
CLINOSIM_START = "2025-01-01"
CLINOSIM_END = "2026-01-01"
# clinosim forced scenarios (its way of biasing toward a disease).
DVT_COUNT = 30
PE_COUNT = 20
# carebundle default mixed cohort.
CAREBUNDLE_COUNT = 30

# Base URL used for searchset entry fullUrls (the resources themselves carry
# only relative references). example.org is reserved and never resolves.
FHIR_BASE = "http://fhir.example.org/r4"

# Prefetch key -> (resource type, search query shown in Bundle.link, filter)
PREFETCH = {
    "conditions": ("Condition", "Condition?patient={pid}", None),
    "observations": ("Observation", "Observation?patient={pid}", None),
    "medications": (
        "MedicationRequest",
        "MedicationRequest?patient={pid}&status=active",
        lambda r: r.get("status") == "active",
    ),
    "procedures": ("Procedure", "Procedure?patient={pid}", None),
}
WANTED_TYPES = {"Patient"} | {t for t, _, _ in PREFETCH.values()}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def check_versions(allow_other: bool) -> dict[str, str]:
    found = {}
    for name, want in PINNED.items():
        try:
            have = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            sys.exit(f"{name} is not installed: pip install {name}=={want}")
        if have != want and not allow_other:
            sys.exit(
                f"{name} {have} is installed but this data was generated with {want}; "
                f"pip install {name}=={want} or pass --allow-other-versions"
            )
        found[name] = have
    return found


def clinosim_cmd() -> list[str]:
    """The clinosim console script of the running interpreter's environment."""
    exe = Path(sys.executable).with_name("clinosim")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("clinosim")
    if found:
        return [found]
    return [sys.executable, "-c", "import sys; from clinosim.simulator.cli import main; sys.exit(main())"]


def run_clinosim(args: list[str], logfile: Path) -> None:
    cmd = clinosim_cmd() + args
    log("$ clinosim " + " ".join(args))
    env = dict(os.environ, CLINOSIM_LOG_LEVEL=os.environ.get("CLINOSIM_LOG_LEVEL", "WARNING"))
    with open(logfile, "w", encoding="utf-8") as fh:
        proc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env, check=False)
    if proc.returncode != 0:
        sys.exit(f"clinosim failed (exit {proc.returncode}); see {logfile}")


def read_ndjson_dir(directory: Path) -> dict[str, list[dict]]:
    """{resourceType: [resource, ...]} for the wanted types, in file order."""
    out: dict[str, list[dict]] = {}
    for rtype in sorted(WANTED_TYPES):
        path = directory / f"{rtype}.ndjson"
        if not path.exists():
            out[rtype] = []
            continue
        with open(path, encoding="utf-8") as fh:
            out[rtype] = [json.loads(line) for line in fh if line.strip()]
    return out


def ndjson_text_to_resources(streams: dict[str, str]) -> dict[str, list[dict]]:
    return {
        rtype: [json.loads(line) for line in streams.get(rtype, "").splitlines() if line.strip()]
        for rtype in sorted(WANTED_TYPES)
    }


def build_records(
    by_type: dict[str, list[dict]],
    source: str,
    stats: Counter,
    keep_patient=lambda p: True,
) -> list[dict]:
    """One prefetch record per Patient, in the generator's Patient order."""
    all_pids = {p["id"] for p in by_type["Patient"]}
    patients = [p for p in by_type["Patient"] if keep_patient(p)]
    pids = {p["id"] for p in patients}
    grouped: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for key, (rtype, _query, _flt) in PREFETCH.items():
        for r in by_type.get(rtype, []):
            ref = (r.get("subject") or {}).get("reference", "")
            pid = ref[len("Patient/"):] if ref.startswith("Patient/") else None
            if pid in pids:
                grouped[pid][key].append(r)
            elif pid not in all_pids:
                stats[f"orphan {rtype} (subject is no Patient of its run)"] += 1
    records = []
    for patient in patients:
        pid = patient["id"]
        prefetch = {"patient": patient}
        for key, (rtype, query, flt) in PREFETCH.items():
            items = grouped[pid][key]
            kept = [r for r in items if flt is None or flt(r)]
            if flt is not None:
                stats[f"dropped {rtype} (status != active)"] += len(items) - len(kept)
            prefetch[key] = searchset(kept, server=FHIR_BASE, query=query.format(pid=pid))  # no `entry` if empty
        records.append({"source": source, "patientId": pid, "prefetch": prefetch})
    return records


def forced_index(patient: dict) -> int | None:
    """N of clinosim's FORCED-000N population slug, if present."""
    for ident in patient.get("identifier", []):
        value = str(ident.get("value", ""))
        if value.startswith("FORCED-"):
            return int(value.split("-", 1)[1])
    return None


def generate(work: Path, versions: dict[str, str]) -> tuple[list[dict], Counter]:
    stats: Counter = Counter()
    records: list[dict] = []
    cv = versions["clinosim"]

    # 1. clinosim population simulation
    out = work / "clinosim-simulate"
    run_clinosim(
        ["simulate", "--country", "US", "--population", str(CLINOSIM_POPULATION),
         "--seed", str(SEED), "--start", CLINOSIM_START, "--end", CLINOSIM_END,
         "--format", "fhir-r4", "--output", str(out)],
        work / "clinosim-simulate.log",
    )
    src = (f"clinosim {cv} seed {SEED} (simulate --country US --population "
           f"{CLINOSIM_POPULATION} --start {CLINOSIM_START} --end {CLINOSIM_END})")
    records += build_records(read_ndjson_dir(out / "fhir_r4"), src, stats)

    # 2. clinosim forced DVT
    out = work / "clinosim-dvt"
    run_clinosim(
        ["test-disease", "deep_vein_thrombosis", "-n", str(DVT_COUNT), "-s", str(SEED),
         "--country", "US", "--format", "fhir-r4", "-o", str(out)],
        work / "clinosim-dvt.log",
    )
    src = f"clinosim {cv} seed {SEED} (test-disease deep_vein_thrombosis -n {DVT_COUNT})"
    records += build_records(read_ndjson_dir(out / "fhir_r4"), src, stats)

    # 3. clinosim forced PE; keep FORCED-(DVT_COUNT+1).. so Patient ids differ from the DVT run
    out = work / "clinosim-pe"
    total = DVT_COUNT + PE_COUNT
    run_clinosim(
        ["test-disease", "pulmonary_embolism", "-n", str(total), "-s", str(SEED),
         "--country", "US", "--format", "fhir-r4", "-o", str(out)],
        work / "clinosim-pe.log",
    )
    src = (f"clinosim {cv} seed {SEED} (test-disease pulmonary_embolism -n {total}; "
           f"patients FORCED-{DVT_COUNT + 1:04d}..FORCED-{total:04d})")
    records += build_records(
        read_ndjson_dir(out / "fhir_r4"), src, stats,
        keep_patient=lambda p: (forced_index(p) or 0) > DVT_COUNT,
    )

    # 4. carebundle default mixed cohort
    from carebundle import generate_cohort, to_ndjson  # not a project dependency: needed only to regenerate

    log(f"carebundle generate_cohort(count={CAREBUNDLE_COUNT}, seed={SEED})")
    streams = to_ndjson(generate_cohort(count=CAREBUNDLE_COUNT, seed=SEED))
    cb_dir = work / "carebundle"
    cb_dir.mkdir(parents=True, exist_ok=True)
    for rtype, text in streams.items():
        (cb_dir / f"{rtype}.ndjson").write_text(text, encoding="utf-8")
    src = (f"carebundle {versions['carebundle']} seed {SEED} "
           f"(generate_cohort count={CAREBUNDLE_COUNT}, to_ndjson)")
    records += build_records(ndjson_text_to_resources(streams), src, stats)

    ids = Counter(r["patientId"] for r in records)
    dupes = [pid for pid, n in ids.items() if n > 1]
    if dupes:
        sys.exit(f"duplicate patient ids across sources: {dupes[:5]}")
    return records, stats


def write_jsonl_gz(records: list[dict], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "wb") as raw:
        # filename="" and mtime=0 keep the gzip header free of run-specific bytes
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz:
            for rec in records:
                line = json.dumps(rec, ensure_ascii=False, separators=(",", ":"))
                gz.write(line.encode("utf-8") + b"\n")
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--keep-raw", type=Path, metavar="DIR",
                        help="keep the generators' raw output (ndjson, logs) in DIR")
    parser.add_argument("--allow-other-versions", action="store_true")
    args = parser.parse_args(argv)

    versions = check_versions(args.allow_other_versions)
    if args.keep_raw:
        args.keep_raw.mkdir(parents=True, exist_ok=True)
        records, stats = generate(args.keep_raw, versions)
    else:
        with tempfile.TemporaryDirectory(prefix="synthetic-fhir-") as tmp:
            records, stats = generate(Path(tmp), versions)

    write_jsonl_gz(records, args.out)

    per_source = Counter(r["source"] for r in records)
    counts = Counter()
    for r in records:
        counts["Patient"] += 1
        for key, (rtype, _q, _f) in PREFETCH.items():
            counts[rtype] += r["prefetch"][key]["total"]
    log(f"wrote {len(records)} patients to {args.out} ({args.out.stat().st_size:,} bytes)")
    for k, v in per_source.items():
        log(f"  {v:5d}  {k}")
    for k, v in counts.items():
        log(f"  {k}: {v}")
    for k, v in sorted(stats.items()):
        log(f"  {k}: {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
