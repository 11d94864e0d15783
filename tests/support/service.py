"""Looking inside the service during a test."""
from __future__ import annotations

from contextlib import contextmanager


@contextmanager
def capturing_records(app):
    """Yields a list that receives every parsed record `app` evaluates while the block runs (through the
    app's observers, as `cds-service check` reads the findings behind its cards)."""
    records: list = []
    observers = app.extensions["cds"].observers

    def capture(record, issued):
        records.append(record)

    observers.append(capture)
    try:
        yield records
    finally:
        observers.remove(capture)
