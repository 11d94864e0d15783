"""PostgreSQL fixtures: one throwaway cluster for the session (tests/pg_server.py), an empty database for each test.

``postgres_server``  the started :class:`tests.pg_server.PostgresServer` (session); skipped without PostgreSQL
                     binaries, failed instead when the CI environment variable is set.
``postgres_url``     SQLAlchemy URL of the database the tests use, created once for the session.
``database_url``     the same URL, emptied for this test (function scope): every other session on it is ended and
                     schema public is dropped and created again, so each test starts on an empty database, as a
                     fresh deployment does. (A fresh CREATE DATABASE per test works too, but 30 of them leave
                     ~250 MB of dirty pages that the final fast shutdown must flush: 4-6 s more per run.)
``make_app``         create_app(...) on ``database_url`` with the suite's make_config; the engines of every app
                     it made are disposed after the test, so no connection outlives its test.
"""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine

from cds_service import create_app
from tests.conftest import make_config
from tests.pg_server import postgres_server_for_tests

SESSION_DATABASE = "cds_tests"


@pytest.fixture(scope="session")
def postgres_server():
    server = postgres_server_for_tests()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_server) -> str:
    return postgres_server.create_database(SESSION_DATABASE)


@pytest.fixture
def database_url(postgres_server, postgres_url) -> str:
    return postgres_server.reset_database(SESSION_DATABASE)


@pytest.fixture
def engine(database_url):
    """A SQLAlchemy engine of our own on the test's database: a connection separate from every app's."""
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def make_app(tmp_path, client_key, database_url):
    apps = []

    def make(**overrides):
        app = create_app(make_config(tmp_path, client_key, FEEDBACK_DATABASE=database_url, **overrides))
        apps.append(app)
        return app

    yield make
    for app in apps:
        state = app.extensions["cds"]
        state.feedback_store.close()
        replay = getattr(state.verifier, "replay", None)
        replay_engine = getattr(replay, "_engine", None)
        if replay_engine is not None:
            replay_engine.dispose()
