"""Benchmarks for the patient-view service. Prints numbers; asserts nothing.

    python -m benchmarks                 # everything (about 3 minutes on 2 cores)
    python -m benchmarks inprocess http fallback memory    # a subset
    python -m benchmarks soak            # issue 4's load test: >= 50,000 requests, >= 60 s, RSS drift

- inprocess: latency (p50/p99) of POST /cds-services/posterior-knee-pain through the Flask test client
  for prefetches of 10, 300, 3,000 and 30,000 resources (built from the synthetic cohort), next to a
  baseline Flask endpoint that only parses the same JSON body and returns {"cards": []}.
- http: throughput and latency under hypercorn (2 workers) with wrk (Debian package `wrk`), same baseline.
- fallback: no prefetch; a real FHIR server (sekmet) behind a proxy adding 100 ms to every request:
  total time against the slowest query and against the sum.
- long_records: no prefetch; a PE presentation behind 3,000, 20,000 and 100,000 resources of routine history
  in sekmet, production deadlines: whole-hook time, first card, resources fetched.
- long_records_indexed: the same against benchmarks/hapi_like.py (HAPI-style paging, indexed and concurrent
  searches, 400 for an unknown parameter), in its own process.
- memory: RSS per worker process after start-up and after load; start-up time to the first /healthz.
"""
from __future__ import annotations

import sys

from .machine import describe
from .suites import EXTRA_SUITES, SUITES


def main(argv: list[str]) -> int:
    available = SUITES | EXTRA_SUITES
    names = argv or list(SUITES)
    unknown = [n for n in names if n not in available]
    if unknown:
        print(f"unknown suite(s) {unknown}; choose from {list(available)}", file=sys.stderr)
        return 2
    print(describe())
    for name in names:
        available[name]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
