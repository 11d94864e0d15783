"""A throwaway PostgreSQL cluster for the test session (the server binaries of the machine, nothing from PyPI).

Usage::

    from tests.pg_server import PostgresServer

    with PostgresServer() as server:          # initdb + pg_ctl start in a fresh temp dir, waits for connections
        url = server.create_database("t1")    # 'postgresql+psycopg://postgres@127.0.0.1:<port>/t1'
        ...
        server.reset_database("t1")           # empty again: other sessions ended, schema public recreated
        server.drop_database("t1")            # WITH (FORCE): leftover connections are closed
    # pg_ctl stop -m fast, then the temp dir is removed, also when the block raises

In pytest use ``postgres_url`` / ``database_url`` from ``tests/postgres/conftest.py``.
``postgres_server_for_tests()`` is what those fixtures call: it skips (or fails under ``CI``) without binaries.

How the cluster is run
----------------------
* Binaries: ``pg_config --bindir`` if it holds ``initdb``/``pg_ctl``/``postgres``, else the newest
  ``/usr/lib/postgresql/<version>/bin`` (Debian/Ubuntu: ``apt-get install postgresql`` puts them there, not on
  PATH), else ``initdb`` on PATH. ``PG_BINDIR``, when set, is tried first.
* initdb refuses to run as root: as root every server command runs as the ``postgres`` system user through
  ``runuser -u postgres --`` (or ``su postgres -s /bin/sh -c`` when runuser is missing), in a temp dir under
  ``/tmp`` (never $TMPDIR, which may sit in a private directory) chowned to that user (pytest's own tmp dirs
  are 0700 root and would be unreachable). Not root: run
  directly, as the current user.
* ``initdb -D <tmp>/data -U postgres -A trust -E UTF8 --no-locale --no-instructions``; the superuser is ``postgres`` either way.
* pg_hba.conf is replaced by one line, ``host all all 127.0.0.1/32 trust``: TCP from 127.0.0.1 only, no password,
  nothing else (not even the unix socket). The server listens on 127.0.0.1 on a free port and puts its unix
  socket in the temp dir (mode 0700), never in /var/run/postgresql, so it cannot collide with a system cluster.
* The settings go into ``<tmp>/data/postgresql.auto.conf`` (rewritten with a new port on a retry):
  listen_addresses, port, unix_socket_directories, max_connections, and the durability settings spelt out.
* Durability settings are PostgreSQL's defaults (fsync, synchronous_commit, full_page_writes on): the tests
  check what is committed, so the server must behave like a production one. max_connections is 200 because
  each app holds two connection pools.
* ``pg_ctl -D <tmp>/data -l <tmp>/server.log -w -t 60 start``; then we connect until a ``select 1`` works. If the
  port was taken meanwhile, start again on another one (3 tries).
* Stop: ``pg_ctl -D <tmp>/data -m fast -w -t 30 stop``; if that fails, SIGQUIT to the postmaster in
  postmaster.pid (immediate shutdown). Then the temp dir is removed. An atexit hook does the same if the
  fixture's teardown never ran.

Only the standard library and psycopg 3 (``psycopg[binary]``, in the test extras) are used.
"""
from __future__ import annotations

import atexit
import glob
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

SUPERUSER = "postgres"
SYSTEM_USER = "postgres"  # the account the server runs as when we are root
_NEEDED = ("initdb", "pg_ctl", "postgres")


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine (or no account to run them as)."""


def find_bindir() -> Path | None:
    """The directory holding initdb, pg_ctl and postgres, or None."""
    candidates: list[str] = []
    if os.environ.get("PG_BINDIR"):
        candidates.append(os.environ["PG_BINDIR"])
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True)
            candidates.append(out.stdout.strip())
        except (OSError, subprocess.SubprocessError):
            pass

    def version(path: str) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", Path(path).parent.name)) or (0,)

    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(str(Path(initdb).resolve().parent))
    for candidate in candidates:
        if candidate and all(os.access(Path(candidate) / name, os.X_OK) for name in _NEEDED):
            return Path(candidate)
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    def __init__(self, bindir: Path | None = None, start_timeout: float = 60.0):
        self.bindir = bindir or find_bindir()
        if self.bindir is None:
            raise PostgresUnavailable("PostgreSQL server binaries (initdb, pg_ctl, postgres) not found")
        self.as_root = os.geteuid() == 0
        self._owner: tuple[int, int] | None = None
        if self.as_root:
            try:
                account = pwd.getpwnam(SYSTEM_USER)
            except KeyError:
                raise PostgresUnavailable(
                    f"running as root, and initdb refuses root: no {SYSTEM_USER!r} system user to run it as "
                    "(apt-get install postgresql creates it)") from None
            self._owner = (account.pw_uid, account.pw_gid)
        self.start_timeout = start_timeout
        self.workdir: Path | None = None
        self.port: int | None = None
        self.startup_seconds: float | None = None
        self._running = False

    # -- paths and URLs --------------------------------------------------------------------------------------
    @property
    def datadir(self) -> Path:
        return self.workdir / "data"

    @property
    def log_path(self) -> Path:
        return self.workdir / "server.log"

    def url(self, database: str = "postgres") -> str:
        """A SQLAlchemy URL (psycopg 3 driver) for a database of this cluster."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def conninfo(self, database: str = "postgres") -> str:
        """A libpq connection string, for psycopg.connect()."""
        return f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname={database} connect_timeout=5"

    # -- lifecycle ----------------------------------------------------------------------------------------------
    def start(self) -> PostgresServer:
        began = time.monotonic()
        # As root: /tmp, which the postgres user can reach. Either way short: a socket path has ~100 bytes.
        base = "/tmp" if self.as_root or len(tempfile.gettempdir()) > 60 else None
        self.workdir = Path(tempfile.mkdtemp(prefix="pgtest-", dir=base))
        atexit.register(self.stop)
        try:
            if self._owner:
                os.chown(self.workdir, *self._owner)
            os.chmod(self.workdir, 0o700)
            self._run(["initdb", "-D", str(self.datadir), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8",
                       "--no-locale", "--no-instructions"], timeout=120)
            self._write(self.datadir / "pg_hba.conf",
                        "# written by tests/pg_server.py: TCP from 127.0.0.1 only, trusted\n"
                        "host all all 127.0.0.1/32 trust\n")
            for attempt in range(3):
                self.port = _free_port()
                self._write(self.datadir / "postgresql.auto.conf", self._settings())
                try:
                    self._run(["pg_ctl", "-D", str(self.datadir), "-l", str(self.log_path), "-w",
                               "-t", str(int(self.start_timeout)), "start"], timeout=self.start_timeout + 10)
                    self._running = True
                    self._wait_until_accepting()
                    break
                except RuntimeError:
                    self._running = self._postmaster_pid() is not None
                    if attempt == 2 or "could not bind" not in self.log_tail():
                        raise
            self.startup_seconds = time.monotonic() - began
            return self
        except BaseException:
            self.stop()
            raise

    def _settings(self) -> str:
        return "\n".join([
            "# written by tests/pg_server.py",
            "listen_addresses = '127.0.0.1'",
            f"port = {self.port}",
            f"unix_socket_directories = '{self.workdir}'",
            "unix_socket_permissions = 0700",
            "max_connections = 200",
            "fsync = on",
            "synchronous_commit = on",
            "full_page_writes = on",
            "log_min_messages = warning",
            "log_min_error_statement = error",
            "",
        ])

    def _wait_until_accepting(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while True:
            try:
                with psycopg.connect(self.conninfo(), autocommit=True) as connection:
                    connection.execute("select 1")
                return
            except psycopg.OperationalError as error:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"PostgreSQL did not accept connections: {error}\n{self.log_tail()}")
                time.sleep(0.05)

    def stop(self) -> None:
        """pg_ctl stop -m fast (immediate shutdown if that fails), then remove the temp dir. Idempotent."""
        if self.workdir is None:
            return
        try:
            if self._running or self._postmaster_pid() is not None:
                try:
                    self._run(["pg_ctl", "-D", str(self.datadir), "-m", "fast", "-w", "-t", "30", "stop"],
                              timeout=40)
                except (RuntimeError, subprocess.SubprocessError):
                    pid = self._postmaster_pid()
                    if pid is not None:
                        try:
                            os.kill(pid, signal.SIGQUIT)  # the postmaster we started: immediate shutdown
                        except ProcessLookupError:
                            pass
                        time.sleep(0.5)
        finally:
            self._running = False
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None
            atexit.unregister(self.stop)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- databases ----------------------------------------------------------------------------------------------
    def create_database(self, name: str) -> str:
        """CREATE DATABASE name; returns its SQLAlchemy URL."""
        self.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def reset_database(self, name: str) -> str:
        """Empty a database, cheaply: end every other session on it (a test's leftover pool cannot hold a lock),
        then DROP SCHEMA public CASCADE and create it again. Returns its SQLAlchemy URL."""
        with psycopg.connect(self.conninfo(name), autocommit=True) as connection:
            connection.execute("select pg_terminate_backend(pid) from pg_stat_activity "
                               "where datname = current_database() and pid <> pg_backend_pid()")
            connection.execute("drop schema public cascade")
            connection.execute("create schema public")
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def execute(self, sql: str, database: str = "postgres") -> None:
        with psycopg.connect(self.conninfo(database), autocommit=True) as connection:
            connection.execute(sql)

    # -- helpers ------------------------------------------------------------------------------------------------
    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def _postmaster_pid(self) -> int | None:
        try:
            return int((self.datadir / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError, TypeError):
            return None

    def _write(self, path: Path, text: str) -> None:
        path.write_text(text)
        if self._owner:
            os.chown(path, *self._owner)
        os.chmod(path, 0o600)

    def _command(self, argv: list[str]) -> list[str]:
        argv = [str(self.bindir / argv[0]), *argv[1:]]
        if not self.as_root:
            return argv
        if shutil.which("runuser"):
            return ["runuser", "-u", SYSTEM_USER, "--", *argv]
        return ["su", SYSTEM_USER, "-s", "/bin/sh", "-c", shlex.join(argv)]

    def _run(self, argv: list[str], timeout: float) -> None:
        # No inherited PG* variables (PGDATA, PGPORT, PGHOST...): they would point the tools elsewhere.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(LC_ALL="C", LANG="C")
        result = subprocess.run(self._command(argv), cwd=self.workdir, env=env, capture_output=True, text=True,
                                timeout=timeout, stdin=subprocess.DEVNULL)
        if result.returncode != 0:
            raise RuntimeError(f"{shlex.join(argv)} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
                               f"\n--- server log ---\n{self.log_tail()}")


def postgres_server_for_tests() -> PostgresServer:
    """A started server; without PostgreSQL binaries: pytest.fail under CI (CI must have them), else skip."""
    import pytest  # here, not at the top: PostgresServer itself is usable without pytest (see Usage)

    try:
        server = PostgresServer()
    except PostgresUnavailable as error:
        message = (f"{error}. Install the server to run these tests: apt-get install postgresql "
                   "(or set PG_BINDIR to the directory holding initdb and pg_ctl)")
        if os.environ.get("CI"):
            pytest.fail(f"CI is set, so PostgreSQL must be available: {message}", pytrace=False)
        pytest.skip(message)
    return server.start()
