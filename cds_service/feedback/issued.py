"""Which cards the service issued, written off the hook's path.

A feedback entry names only a card's uuid; this record is what ties it back to its hookInstance and topic.
It is bookkeeping, not the clinical answer: the hook hands its rows to a queue (microseconds) and answers,
and one thread per process writes them in batches. So a slow, stalled or stopped database never delays or
fails a card (measured in the README: the commit cost about 1 ms per hook on the path; a stalled PostgreSQL
held every hook for the pool timeout). What can be lost instead: rows queued when the process dies, and rows
that do not fit or cannot be written while the database is down; both are counted
(`cds_issued_cards_dropped_total`) and logged without identifiers. Feedback for such a card is still stored,
without its topic. Feedback itself stays synchronous (acknowledged feedback is on disk).

Rows older than the retention period are deleted by the same thread, at most once an hour. The thread
ends after a few idle seconds and starts again with the next rows, so an app that is dropped (tests build
thousands) leaves no thread behind.
"""
from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone

log = logging.getLogger(__name__)

Rows = Sequence[dict]


class IssuedCardsWriter:
    def __init__(self, write: Callable[[list[dict]], None], prune: Callable[[datetime], int] | None = None, *,
                 retention: timedelta | None = None, capacity: int = 10_000, batch: int = 500,
                 prune_every_seconds: float = 3600.0, idle_seconds: float = 2.0,
                 on_drop: Callable[[int], None] | None = None):
        self._write, self._prune, self._retention = write, prune, retention
        self._batch, self._prune_every, self._idle = batch, prune_every_seconds, idle_seconds
        self._on_drop = on_drop or (lambda n: None)
        self._queue: queue.Queue[list[dict]] = queue.Queue(maxsize=capacity)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._last_prune = 0.0
        self._failing = False
        self._last_full_warning = float("-inf")
        _WRITERS.add(self)

    def submit(self, rows: list[dict]) -> None:
        """Queue one hook's rows; never blocks, never raises."""
        if not rows:
            return
        try:
            self._queue.put_nowait(rows)
        except queue.Full:
            self._dropped(len(rows), "the queue is full")
            return
        self._ensure_thread()  # after the put: a thread that has just seen the queue empty has ended

    def flush(self, timeout: float = 1.0) -> bool:
        """Wait until every queued row is written (or given up); False if that took longer than timeout."""
        deadline = time.monotonic() + timeout
        with self._queue.all_tasks_done:
            while self._queue.unfinished_tasks:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._alive():
                    return False
                self._queue.all_tasks_done.wait(remaining)
        return True

    def _alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and self._pid == os.getpid()

    def _ensure_thread(self) -> None:
        # Started on first use, not at construction: a thread does not survive fork, and a server may fork its workers.
        if self._alive():
            return
        with self._lock:
            if self._alive():
                return
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="issued-cards", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=self._idle)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._thread = None
                        return
                continue
            batches = [first]
            while len(batches) < self._batch:
                try:
                    batches.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            rows = [row for batch in batches for row in batch]
            try:
                self._write(rows)
                if self._failing:
                    log.warning("issued-cards store writable again")
                self._failing = False
            except Exception as error:  # the database is down or refuses: count, log once, go on
                if not self._failing:
                    log.warning("issued-cards rows could not be written (%s); counting what is dropped",
                                type(error).__name__)
                self._failing = True
                self._dropped(len(rows), None)
            finally:
                self._maybe_prune()
                for _ in batches:
                    self._queue.task_done()

    def _maybe_prune(self) -> None:
        if self._prune is None or self._retention is None:
            return
        if time.monotonic() - self._last_prune < self._prune_every:
            return
        self._last_prune = time.monotonic()
        try:
            deleted = self._prune(datetime.now(timezone.utc) - self._retention)
            if deleted:
                log.info("issued-cards rows older than %d days pruned: %d", self._retention.days, deleted)
        except Exception as error:
            log.warning("issued-cards pruning failed (%s)", type(error).__name__)

    def _dropped(self, count: int, why: str | None) -> None:
        self._on_drop(count)
        if why and time.monotonic() - self._last_full_warning > 60:
            self._last_full_warning = time.monotonic()
            log.warning("issued-cards rows dropped: %s (logged at most once a minute)", why)


_WRITERS: weakref.WeakSet[IssuedCardsWriter] = weakref.WeakSet()


@atexit.register
def _flush_all() -> None:
    for writer in list(_WRITERS):
        writer.flush(2.0)
