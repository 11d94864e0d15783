"""jti replay store: a token id is accepted once while it could still be valid (best practice: up to an hour).

In memory, per process. Under several gunicorn workers a replayed token could reach a different
worker: the shared store for scale-out is the job of the database-backed store (see README).
"""
from __future__ import annotations

import threading
import time


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
