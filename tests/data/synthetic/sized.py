"""Prefetch objects of a chosen size, for benchmarks.

``build_prefetch(n)`` returns one CDS Hooks prefetch (keys ``patient``,
``conditions``, ``observations``, ``medications``, ``procedures``) holding about
``n`` resources in its four searchset Bundles (the Patient is not counted),
made by combining and, past the pool's size, replicating the resources of the
generated patients in ``patients.jsonl.gz`` (see generate.py / README.md).

* The resource-type mix is the cohort's pooled mix (about 2% Condition,
  91% Observation, 6% MedicationRequest, 0.5% Procedure), split by largest
  remainder, with at least one Condition and one Observation when n >= 2.
* Resources are taken patient by patient (the seed-chosen base patient first,
  then the others in seed-shuffled order), so what one patient carries stays
  together -- a DVT patient's I80.20 comes with their rivaroxaban and D-dimer.
* Every resource is a copy. All of them get ``subject.reference`` =
  ``Patient/<base patient id>``; copies taken in replication round r >= 1 get
  the id ``<original id>-r<r>`` (original ids are unique across the file, so
  ids stay unique), and references between resources of the same round are
  rewritten to match. References to resources outside the prefetch
  (Encounter, Practitioner, ...) are left as they are.

Deterministic for a given ``(n_resources, seed)``. Sizes used by the
benchmark: 10, 300, 3000, 30000 (30000 still needs no replication; larger
sizes do).

    import importlib.util, pathlib
    spec = importlib.util.spec_from_file_location("sized", pathlib.Path("tests/data/synthetic/sized.py"))
    sized = importlib.util.module_from_spec(spec); spec.loader.exec_module(sized)
    prefetch = sized.build_prefetch(3000, seed=0)
"""

from __future__ import annotations

import copy
import functools
import gzip
import json
import random
import sys
import time
from pathlib import Path

try:
    from tests.support.fhir_data import searchset
except ModuleNotFoundError:  # run as a script: this folder is on sys.path, the repository root is not
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
    from tests.support.fhir_data import searchset

DATA = Path(__file__).resolve().parent / "patients.jsonl.gz"
FHIR_BASE = "http://fhir.example.org/r4"
BUNDLE_KEYS = {
    "conditions": ("Condition", "Condition?patient={pid}"),
    "observations": ("Observation", "Observation?patient={pid}"),
    "medications": ("MedicationRequest", "MedicationRequest?patient={pid}&status=active"),
    "procedures": ("Procedure", "Procedure?patient={pid}"),
}
LADDER = (10, 300, 3000, 30000)


@functools.lru_cache(maxsize=2)
def _load(path: str = str(DATA)) -> tuple[tuple[dict, dict[str, list[dict]]], ...]:
    """((patient, {prefetch key: [resources]}), ...) in file order. Not to be mutated."""
    out = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            pre = rec["prefetch"]
            out.append((
                pre["patient"],
                {k: [e["resource"] for e in pre[k].get("entry", [])] for k in BUNDLE_KEYS},
            ))
    return tuple(out)


def _quotas(n: int, pooled: dict[str, int]) -> dict[str, int]:
    total = sum(pooled.values())
    raw = {k: n * v / total for k, v in pooled.items()}
    quota = {k: int(x) for k, x in raw.items()}
    for k in sorted(raw, key=lambda k: (quota[k] - raw[k], k))[: n - sum(quota.values())]:
        quota[k] += 1
    if n >= 2:
        for need in ("conditions", "observations"):
            if quota[need] == 0:
                donor = max(quota, key=lambda k: quota[k])
                quota[donor] -= 1
                quota[need] += 1
    return quota


def _rewrite_refs(node, mapping: dict[str, str], patient: tuple[str, str]):
    """Rewrite `reference` strings in place: `mapping`, plus patient[0] -> patient[1]."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                if value == patient[0]:
                    node[key] = patient[1]
                elif value in mapping:
                    node[key] = mapping[value]
            else:
                _rewrite_refs(value, mapping, patient)
    elif isinstance(node, list):
        for item in node:
            _rewrite_refs(item, mapping, patient)


def build_prefetch(n_resources: int, seed: int = 0, *, path: Path | str = DATA) -> dict:
    """A prefetch with ``n_resources`` resources across its four Bundles (see module doc)."""
    if n_resources < 0:
        raise ValueError(f"n_resources must be >= 0, got {n_resources}")
    cohort = _load(str(path))
    rng = random.Random(seed)
    order = list(range(len(cohort)))
    rng.shuffle(order)  # order[0] is the base patient
    base_patient = copy.deepcopy(cohort[order[0]][0])
    pid = base_patient["id"]
    patient_ref = f"Patient/{pid}"

    pooled = {k: sum(len(res[k]) for _, res in cohort) for k in BUNDLE_KEYS}
    quota = _quotas(n_resources, pooled)

    # Pick (round, patient index, key, resource) in patient order, round by round.
    picked: dict[str, list[tuple[int, dict]]] = {k: [] for k in BUNDLE_KEYS}
    round_no = 0
    while any(len(picked[k]) < quota[k] for k in BUNDLE_KEYS):
        for idx in order:
            for key in BUNDLE_KEYS:
                room = quota[key] - len(picked[key])
                if room > 0:
                    picked[key].extend((round_no, r) for r in cohort[idx][1][key][:room])
            if all(len(picked[k]) >= quota[k] for k in BUNDLE_KEYS):
                break
        round_no += 1

    # Per round: old reference -> new reference, for everything picked in that round.
    mappings: dict[int, dict[str, str]] = {}
    for key in BUNDLE_KEYS:
        for rnd, res in picked[key]:
            old = f"{res['resourceType']}/{res['id']}"
            new_id = res["id"] if rnd == 0 else f"{res['id']}-r{rnd}"
            mappings.setdefault(rnd, {})[old] = f"{res['resourceType']}/{new_id}"

    prefetch: dict = {"patient": base_patient}
    for key, (_rtype, query) in BUNDLE_KEYS.items():
        out = []
        for rnd, res in picked[key]:
            new = json.loads(json.dumps(res))  # a deep copy, faster than copy.deepcopy
            orig_subject = (res.get("subject") or {}).get("reference") or patient_ref
            _rewrite_refs(new, mappings[rnd], (orig_subject, patient_ref))
            if rnd:
                new["id"] = f"{res['id']}-r{rnd}"
            new.setdefault("subject", {})["reference"] = patient_ref
            out.append(new)
        prefetch[key] = searchset(out, server=FHIR_BASE, query=query.format(pid=pid))
    return prefetch


def count_resources(prefetch: dict) -> dict[str, int]:
    return {k: prefetch[k]["total"] for k in BUNDLE_KEYS}


if __name__ == "__main__":  # quick look: python tests/data/synthetic/sized.py
    for n in (int(a) for a in sys.argv[1:]) if sys.argv[1:] else LADDER:
        t0 = time.perf_counter()
        pf = build_prefetch(n)
        size = len(json.dumps(pf, separators=(",", ":")))
        print(f"n={n:6d}  {count_resources(pf)}  json {size / 1e6:.2f} MB  "
              f"built in {time.perf_counter() - t0:.2f}s")
