"""Prometheus metrics, correct under several worker processes.

Under `cds-service serve` each worker is a process: prometheus-client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR,
set by `cds-service serve` before any worker starts) keeps each worker's values in files that /metrics
adds up. This module is imported only inside create_app, after that variable is set: prometheus-client
chooses its storage when it is first imported.
"""
from __future__ import annotations

import os

from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram,
                               generate_latest)

REQUESTS = Counter("cds_requests_total", "HTTP requests answered", ["endpoint", "method", "status"])
LATENCY = Histogram("cds_request_duration_seconds", "Time to answer, by endpoint", ["endpoint"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0))
CARDS = Counter("cds_cards_total", "Cards returned, by topic and indicator", ["topic", "indicator"])
FETCH_ERRORS = Counter("cds_fhir_fetch_errors_total", "Prefetch keys that could not be fetched from fhirServer",
                       ["key"])
ISSUED_DROPPED = Counter("cds_issued_cards_dropped_total",
                         "Issued-card rows not recorded (queue full or database unwritable); the cards were answered")
REPLAY_FALLBACK = Counter("cds_replay_store_fallback_total",
                          "jti checks made in this process's memory because the replay database was unavailable")
JWT_REJECTIONS = Counter("cds_jwt_rejections_total", "Requests refused with 401, by reason", ["reason"])


def serve_separately(host: str, port: int):
    """The metrics page on its own listener (a thread of the process that calls it): every worker's values,
    no CORS, nothing else served. Returns the server, for a test to stop."""
    from prometheus_client import multiprocess, start_http_server

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    server, _ = start_http_server(port, addr=host, registry=registry)
    return server


def exposition() -> tuple[bytes, str]:
    """The metrics page: every worker's values added up in multiprocess mode, this process's otherwise."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    from prometheus_client import REGISTRY

    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
