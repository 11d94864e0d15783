"""The feedback store: SQLAlchemy Core, SQLite by default, any SQLAlchemy URL (PostgreSQL for scale-out).

Two tables: the cards the service issued (so feedback, which carries only the card uuid, can be traced
back to its hookInstance and topic) and the feedback itself, one row per feedback entry, never updated:
the same card may get feedback more than once.
"""
from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone

from sqlalchemy import (Column, DateTime, Integer, MetaData, String, Table, Text, create_engine, delete, event,
                        insert, select, text)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import StaticPool

from .guard import Guard, StoreUnavailable, sqlite_file
from .issued import IssuedCardsWriter

__all__ = ["FeedbackStore", "StoreUnavailable", "make_engine", "create_tables", "issued_cards", "feedback"]

log = logging.getLogger(__name__)

metadata = MetaData()

issued_cards = Table(
    "issued_cards",
    metadata,
    Column("card_uuid", String(64), primary_key=True),
    Column("hook_instance", String(64), nullable=False, index=True),
    Column("service_id", String(64), nullable=False),
    Column("topic", String(64)),
    Column("indicator", String(16), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
)

feedback = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service_id", String(64), nullable=False),
    Column("card_uuid", String(200), nullable=False, index=True),
    Column("hook_instance", String(64)),  # None when the card was not issued by this store's service
    Column("topic", String(64)),
    Column("outcome", String(16), nullable=False),
    Column("accepted_suggestions", Text),  # JSON array of suggestion ids
    Column("override_reason_system", Text),
    Column("override_reason_code", Text),
    Column("override_reason_display", Text),
    Column("override_user_comment", Text),
    Column("outcome_timestamp", Text, nullable=False),  # as the client sent it (RFC 3339)
    Column("client_iss", Text),
    Column("received_at", DateTime(timezone=True), nullable=False),
)


# How long a database call may wait, so that a stopped or stalled database gives a prompt 503 rather than a
# hung worker (issue "Hardening II"): for a pooled connection, for a lock, and (PostgreSQL) for the network.
DB_WAIT_SECONDS = 1.0


def make_engine(url: str, durable: bool = True) -> Engine:
    """durable: a committed row survives power loss (feedback). The replay store needs less: losing its
    last rows in a crash only re-opens a token's remaining minutes."""
    # hide_parameters: a failing statement's error (logged with its trace) would otherwise carry the bound
    # values, and a feedback row holds a clinician's free-text userComment.
    if url in ("sqlite://", "sqlite:///:memory:"):
        # One in-memory database shared by every thread (the issued-cards writer is another thread); the
        # default pool would give each thread a database of its own, without the tables.
        return create_engine(url, hide_parameters=True, poolclass=StaticPool,
                             connect_args={"check_same_thread": False})
    connect_args = {}
    if url.startswith(("postgresql", "postgres")):
        wait_ms = int(DB_WAIT_SECONDS * 1000)
        # libpq: connect_timeout (its minimum is 2 s); tcp_user_timeout fails a send the frozen server never
        # acknowledges; keepalives find a dead peer; statement_timeout bounds a query the server is slow on.
        connect_args = {"connect_timeout": 2, "tcp_user_timeout": wait_ms, "keepalives": 1, "keepalives_idle": 5,
                        "keepalives_interval": 1, "keepalives_count": 2,
                        "options": f"-c statement_timeout={2 * wait_ms} -c lock_timeout={wait_ms}"}
    engine = create_engine(url, pool_pre_ping=True, hide_parameters=True, pool_timeout=DB_WAIT_SECONDS,
                           connect_args=connect_args)
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
            cursor.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            cursor.execute(f"PRAGMA busy_timeout={int(DB_WAIT_SECONDS * 1000)}")  # several workers share the file
            cursor.close()
    return engine


def create_tables(metadata_: MetaData, engine: Engine, attempts: int = 5) -> None:
    """create_all checks, then creates: two workers starting on an empty database can both see no table
    and one then fails. Whoever loses the race simply finds the table on the next try."""
    for attempt in range(attempts):
        try:
            metadata_.create_all(engine)
            return
        except DBAPIError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


class FeedbackStore:
    def __init__(self, engine: Engine, issued_retention_days: int | None = None, on_issued_dropped=None):
        self.engine = engine
        path = sqlite_file(engine)
        new_file = path is not None and not os.path.exists(path)
        create_tables(metadata, engine)
        if new_file:
            log.warning("feedback store: no database file was there; created a new, empty one at %s", path)
        self.guard = Guard(engine, "feedback store")
        self.issued = IssuedCardsWriter(
            self._write_issued, self._prune_issued, on_drop=on_issued_dropped,
            retention=timedelta(days=issued_retention_days) if issued_retention_days else None)

    def record_issued_cards(self, service_id: str, hook_instance: str,
                            issued: Iterable[tuple[str, str, str]]) -> None:
        """(card uuid, topic, indicator) of each card answered: taken from the findings, not the card's text.
        Queued, written by another thread (feedback/issued.py): the hook never waits for the database."""
        now = datetime.now(timezone.utc)
        self.issued.submit([{"card_uuid": card_uuid, "hook_instance": hook_instance, "service_id": service_id,
                             "topic": topic, "indicator": indicator, "issued_at": now}
                            for card_uuid, topic, indicator in issued])

    def _write_issued(self, rows: list[dict]) -> None:
        def write():
            with self.engine.begin() as connection:
                connection.execute(insert(issued_cards), rows)
        self.guard.run(write)

    def _prune_issued(self, before: datetime) -> int:
        def prune():
            with self.engine.begin() as connection:
                return connection.execute(delete(issued_cards).where(issued_cards.c.issued_at < before)).rowcount
        return self.guard.run(prune)

    def close(self, timeout: float = 5.0) -> None:
        """Write the queued issued cards, then close every connection (the writer thread would otherwise open
        one again, and recreate an SQLite file's journal after its folder is gone)."""
        self.issued.flush(timeout)
        self.engine.dispose()

    def ping(self) -> None:
        """Raises StoreUnavailable when the store cannot answer (readiness)."""
        def select_one():
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        self.guard.run(select_one)

    def add_feedback(self, service_id: str, entries: Iterable[Mapping], client_iss: str | None) -> int:
        """Store every entry in one transaction; returns how many. Raises StoreUnavailable if the commit
        fails or the store cannot be reached (within the engine's time limits)."""
        entries = list(entries)
        # A card this process issued moments ago may still be queued: write it first, briefly, so the entry
        # finds its topic. (Another worker's queue is not waited for; it drains within milliseconds.)
        self.issued.flush(0.5)
        return self.guard.run(lambda: self._add_feedback(service_id, entries, client_iss))

    def _add_feedback(self, service_id: str, entries: list[Mapping], client_iss: str | None) -> int:
        now = datetime.now(timezone.utc)
        with self.engine.begin() as connection:
            uuids = {entry["card"] for entry in entries}
            known = {row.card_uuid: row for row in connection.execute(
                select(issued_cards.c.card_uuid, issued_cards.c.hook_instance, issued_cards.c.topic)
                .where(issued_cards.c.card_uuid.in_(uuids)))}
            rows = []
            for entry in entries:
                issued = known.get(entry["card"])
                reason = entry.get("overrideReason") or {}
                coding = reason.get("reason") or {}
                accepted = entry.get("acceptedSuggestions")
                rows.append({
                    "service_id": service_id,
                    "card_uuid": entry["card"],
                    "hook_instance": issued.hook_instance if issued else None,
                    "topic": issued.topic if issued else None,
                    "outcome": entry["outcome"],
                    "accepted_suggestions": json.dumps([s["id"] for s in accepted]) if accepted else None,
                    "override_reason_system": coding.get("system"),
                    "override_reason_code": coding.get("code"),
                    "override_reason_display": coding.get("display"),
                    "override_user_comment": reason.get("userComment"),
                    "outcome_timestamp": entry["outcomeTimestamp"],
                    "client_iss": client_iss,
                    "received_at": now,
                })
            connection.execute(insert(feedback), rows)
        return len(rows)

    def all_feedback(self) -> list[dict]:
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(select(feedback).order_by(feedback.c.id))]
