"""Looking inside the service during a test."""
from __future__ import annotations

import dataclasses
from contextlib import contextmanager

from cds_service.services import SERVICES


@contextmanager
def capturing_records(service_id: str = "posterior-knee-pain"):
    """Yields a list that receives every parsed record the service evaluates while the block runs."""
    records: list = []
    original = SERVICES[service_id]

    def capture(record, body, engine, now):
        records.append(record)
        return original.evaluate(record, body, engine, now)

    SERVICES[service_id] = dataclasses.replace(original, evaluate=capture)
    try:
        yield records
    finally:
        SERVICES[service_id] = original
