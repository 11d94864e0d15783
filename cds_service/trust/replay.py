"""jti replay store: a token id is accepted once while it could still be valid (best practice: up to an hour).

In memory, per process. Under several gunicorn workers a replayed token could reach a different
worker: the shared store for scale-out is the job of the database-backed store (see README).
"""
from __future__ import annotations

import hashlib
import threading
import time

from sqlalchemy import Column, Float, MetaData, String, Table, delete, insert
from sqlalchemy.exc import IntegrityError

from ..feedback.store import create_tables


class ReplayStore:
    def __init__(self, max_entries: int = 1_000_000):
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()
        self._max_entries = max_entries
        self._next_prune = 0.0

    def first_use(self, key: str, expires_at: float) -> bool:
        """Record key until expires_at; False when it was already recorded and has not expired."""
        now = time.time()
        with self._lock:
            if now >= self._next_prune or len(self._seen) >= self._max_entries:
                self._prune(now)
            seen_until = self._seen.get(key)
            if seen_until is not None and seen_until > now:
                return False
            self._seen[key] = expires_at
            return True

    def _prune(self, now: float) -> None:
        self._seen = {k: v for k, v in self._seen.items() if v > now}
        self._next_prune = now + 60


class DatabaseReplayStore:
    """The replay store shared by every worker and replica: a row per jti in the feedback database.
    The primary key makes "first use" atomic across processes; expired rows are pruned as we go."""

    def __init__(self, engine, prune_every: int = 500):
        self._engine = engine
        self._table = Table("jwt_replay", MetaData(), Column("token_key", String(64), primary_key=True),
                            Column("expires_at", Float, nullable=False, index=True))
        create_tables(self._table.metadata, engine)
        self._prune_every = prune_every
        self._count = 0
        self._lock = threading.Lock()

    def first_use(self, key: str, expires_at: float) -> bool:
        # A fixed-length digest: PostgreSQL text cannot hold the NUL separator, and a jti may be long.
        key = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
        now = time.time()
        with self._lock:
            self._count += 1
            prune = self._count % self._prune_every == 0
        try:
            with self._engine.begin() as connection:
                if prune:
                    connection.execute(delete(self._table).where(self._table.c.expires_at <= now))
                # An expired row for the same key (a token replayed after its lifetime) is replaced.
                connection.execute(delete(self._table).where(
                    (self._table.c.token_key == key) & (self._table.c.expires_at <= now)))
                connection.execute(insert(self._table).values(token_key=key, expires_at=expires_at))
            return True
        except IntegrityError:
            return False
