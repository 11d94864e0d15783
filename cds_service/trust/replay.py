"""jti replay store: a token id is accepted once while it could still be valid (best practice: up to an hour).

In memory, per process. Under several worker processes a replayed token could reach a different
worker: the shared store for scale-out is the job of the database-backed store (see README).

When the database cannot be reached, the clinical answer does not wait for it and replay protection does not
switch off: the database store falls back to this process's memory for the outage (logged once as an error,
counted in cds_replay_store_fallback_total, shown by /readyz). A token seen during the outage stays refused by
this process after the database is back. What is lost meanwhile: a token replayed to *another* worker or
replica inside its lifetime is not caught.
"""
from __future__ import annotations

import hashlib
import threading
import time

from sqlalchemy import Column, Float, MetaData, String, Table, delete, insert
from sqlalchemy.exc import IntegrityError

from ..feedback.guard import Guard, StoreUnavailable
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

    def seen(self, key: str) -> bool:
        with self._lock:
            until = self._seen.get(key)
        return until is not None and until > time.time()

    def _prune(self, now: float) -> None:
        self._seen = {k: v for k, v in self._seen.items() if v > now}
        self._next_prune = now + 60


class DatabaseReplayStore:
    """The replay store shared by every worker and replica: a row per jti in the feedback database.
    The primary key makes "first use" atomic across processes; expired rows are pruned as we go."""

    def __init__(self, engine, prune_every: int = 500, on_fallback=None):
        self._engine = engine
        self._fallback = ReplayStore()
        self._on_fallback = on_fallback or (lambda: None)
        self.degraded = False
        self._table = Table("jwt_replay", MetaData(), Column("token_key", String(64), primary_key=True),
                            Column("expires_at", Float, nullable=False, index=True))
        create_tables(self._table.metadata, engine)
        # Every hook with a JWT waits for this check: a stalled database costs it at most 0.3 s, once per cooldown.
        self.guard = Guard(engine, "jti replay store", timeout=0.3)
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
        if self._fallback.seen(key):
            return False  # used while the database was down
        try:
            first = self.guard.run(lambda: self._record(key, expires_at, now, prune))
        except StoreUnavailable:
            self.degraded = True
            self._on_fallback()
            return self._fallback.first_use(key, expires_at)
        self.degraded = False
        return first

    def _record(self, key: str, expires_at: float, now: float, prune: bool) -> bool:
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
