"""Database calls that fail fast, and a store that knows whether it is still the one it opened.

A stopped, stalled or read-only database must give a prompt 503 (feedback) or a counted loss (issued cards),
never a hung worker. A stopped server refuses at once; a stalled one (its processes hung while its host's
kernel still acknowledges every packet) answers nothing, and no driver or TCP timeout notices: so each call
runs on one of a few daemon threads and the caller waits at most `timeout`. A call still stuck keeps its
thread (at most `slots` of them; with none free the guard refuses at once: a bulkhead). After a failure the
guard refuses for `cooldown` seconds without trying, so a burst of calls during an outage is answered in
microseconds instead of each waiting for the limit. An SQLite file deleted or replaced while the service runs
is detected on the next call (its inode): writing on would put acknowledged feedback into a file nobody can
open again.
"""
from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)

T = TypeVar("T")


class StoreUnavailable(Exception):
    """The store cannot be reached or written now; the message is a fixed phrase (no identifiers)."""


class Guard:
    def __init__(self, engine: Engine, name: str, cooldown: float = 5.0, timeout: float = 1.0, slots: int = 8):
        self.engine, self.name, self.cooldown, self.timeout = engine, name, cooldown, timeout
        self._down_until = 0.0
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(slots)
        self._file = sqlite_file(engine)
        self._identity = _identity(self._file) if self._file else None

    @property
    def local(self) -> bool:
        """The store is a file of this pod (SQLite), not a database shared by every replica."""
        return self._file is not None or self.engine.dialect.name == "sqlite"

    def run(self, call: Callable[[], T]) -> T:
        if time.monotonic() < self._down_until:
            raise StoreUnavailable(f"{self.name} unavailable (failed moments ago)")
        self._check_file()
        if not self._slots.acquire(blocking=False):
            self._trip("every database thread is waiting on an earlier call")
            raise StoreUnavailable(f"{self.name} unavailable (busy)")
        done: queue.Queue = queue.Queue(maxsize=1)

        def work() -> None:
            try:
                done.put((True, call()))
            except BaseException as error:  # noqa: BLE001  handed to the caller
                done.put((False, error))
            finally:
                self._slots.release()
        threading.Thread(target=work, name=f"db-{self.name}", daemon=True).start()
        try:
            ok, value = done.get(timeout=self.timeout)
        except queue.Empty:
            self._trip(f"no answer within {self.timeout:.1f} s")
            raise StoreUnavailable(f"{self.name} unavailable (no answer)") from None
        if ok:
            return value
        if isinstance(value, SQLAlchemyError):
            # The database's own first line only: a PostgreSQL DETAIL line can quote the row (a comment).
            reason = str(getattr(value, "orig", None) or "").splitlines()[:1]
            self._trip(f"{type(value).__name__}: {reason[0][:200] if reason else ''}")
            raise StoreUnavailable(f"{self.name} unavailable") from None
        raise value

    def _trip(self, reason: str) -> None:
        with self._lock:
            first = time.monotonic() >= self._down_until
            self._down_until = time.monotonic() + self.cooldown
        if first:
            log.error("%s unavailable (%s); refusing for %.0f s before trying again", self.name, reason,
                      self.cooldown)

    def _check_file(self) -> None:
        if self._file is None:
            return
        now = _identity(self._file)
        if now != self._identity:
            with self._lock:
                self._down_until = time.monotonic() + self.cooldown
            log.error("%s: the SQLite file %s was deleted or replaced while the service ran; refusing to write "
                      "to it (restart the service to open a new one deliberately)", self.name, self._file)
            raise StoreUnavailable(f"{self.name} file vanished")


def sqlite_file(engine: Engine) -> str | None:
    """The absolute path of an engine's SQLite file; None for another database or an in-memory one."""
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    return os.path.abspath(database) if database and database != ":memory:" else None


def _identity(path: str) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return stat.st_dev, stat.st_ino
