"""Request bodies of a chosen size, built from the synthetic cohort (tests/data/synthetic)."""
from __future__ import annotations

import importlib.util
import json
import uuid
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Evaluate "recent" inside the cohort's busiest stretch, so windows select what a live record would.
CLOCK_NOW = "2025-06-20T00:00:00Z"


@lru_cache(maxsize=1)
def _sized():
    spec = importlib.util.spec_from_file_location("sized", ROOT / "tests" / "data" / "synthetic" / "sized.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def prefetch(n_resources: int) -> dict:
    return _sized().build_prefetch(n_resources, seed=0)


def hook_body(n_resources: int) -> bytes:
    data = prefetch(n_resources)
    return json.dumps({
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/bench", "patientId": data["patient"]["id"]},
        "prefetch": data,
    }).encode()
