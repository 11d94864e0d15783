"""The application factory: configuration, trust, fetching, the clinical engine, the store, the endpoints."""
from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import requests
from flask import Flask, jsonify
from requests.adapters import HTTPAdapter

from . import config as config_module
from . import governance
from .clinical.engine import ClinicalEngine
from .errors import register_error_handlers
from .fhir_dates import parse_moment
from .feedback.store import FeedbackStore, make_engine
from .http import cors
from .feedback.guard import StoreUnavailable
from .observability.instrument import count_issued_dropped, count_replay_fallback, install_metrics
from .http.views import bp as cds_blueprint
from .logging_setup import install_redaction
from .runtime import freeze_start_up_objects, tune_garbage_collector
from .prefetch.fetch import FetchLimits
from .prefetch.resolve import FetchSettings
from .trust import ClientVerifier
from .trust.jwks import KeySets
from .trust.replay import DatabaseReplayStore, ReplayStore

log = logging.getLogger(__name__)

OPENAPI_DOCUMENT = (Path(__file__).parent / "openapi.json").read_bytes()


@dataclass
class ServiceState:
    """What the views need, built once per app."""
    verifier: ClientVerifier | None
    fetch_settings: FetchSettings
    feedback_store: FeedbackStore
    engine: ClinicalEngine
    clock_now: datetime | None = None  # fixed "now" for reproducing a case; None in production
    # Called with (parsed record, issued cards) after each hook: the check command reads the findings
    # behind the cards this way, and tests look inside the service.
    observers: list[Callable[[Any, list], None]] = field(default_factory=list)

    def now(self) -> datetime:
        return self.clock_now or datetime.now(timezone.utc)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.config.update(config_module.DEFAULTS)
    app.config["VALIDATE_RESPONSES"] = False
    app.config.update(config if config is not None else config_module.from_environment())
    config_module.validate(app.config)
    install_redaction()
    tune_garbage_collector()

    if not app.config["FEEDBACK_DATABASE"]:
        os.makedirs(app.instance_path, exist_ok=True)
        app.config["FEEDBACK_DATABASE"] = default_feedback_database(app.instance_path)

    session = requests.Session()
    session.trust_env = False  # never route a patient's data through a proxy picked up from the environment
    session.mount("https://", HTTPAdapter(pool_connections=8, pool_maxsize=32, max_retries=0))
    session.mount("http://", HTTPAdapter(pool_connections=8, pool_maxsize=32, max_retries=0))

    verifier = None
    if app.config["REQUIRE_JWT"]:
        verifier = ClientVerifier(
            trusted_issuers=app.config["TRUSTED_ISSUERS"],
            algorithms=app.config["JWT_ALGORITHMS"],
            leeway=app.config["JWT_LEEWAY_SECONDS"],
            max_lifetime=app.config["JWT_MAX_LIFETIME_SECONDS"],
            max_bytes=app.config["JWT_MAX_BYTES"],
            key_sets=KeySets(app.config["JWKS_CACHE_SECONDS"], app.config["JWKS_MIN_REFRESH_SECONDS"],
                             app.config["JWKS_TIMEOUT_SECONDS"], session=session),
            replay=_replay_store(app.config),
        )
        if not app.config["TRUSTED_ISSUERS"]:
            log.warning("REQUIRE_JWT is on and no issuer is trusted: every call will be refused with 401. Add "
                        "the EHR's issuer to CDS_TRUSTED_ISSUERS (README, Trust; `cds-service dev-issuer` makes "
                        "one for local testing).")
    else:
        log.warning("!!! REQUIRE_JWT is false: any caller is trusted. For local development only, "
                    "never in production. !!!")

    if "*" in app.config["FHIR_SERVERS"]:
        log.warning("!!! FHIR_SERVERS allows any server: patient data may be fetched from anywhere a request "
                    "names. For local development only. !!!")

    engine = ClinicalEngine(app.config["VALUESET_DIR"], app.config["CARDS_DIR"])
    app.extensions["cds"] = ServiceState(
        verifier=verifier,
        fetch_settings=FetchSettings(
            session=session,
            executor=ThreadPoolExecutor(max_workers=16, thread_name_prefix="fhir-fetch"),
            limits=FetchLimits(
                connect_timeout=app.config["FHIR_CONNECT_TIMEOUT_SECONDS"],
                read_timeout=app.config["FHIR_READ_TIMEOUT_SECONDS"],
                max_pages=app.config["FHIR_MAX_PAGES"],
                max_response_bytes=app.config["FHIR_MAX_RESPONSE_BYTES"],
                page_size=app.config["FHIR_PAGE_SIZE"],
            ),
            deadline_seconds=app.config["FHIR_FETCH_DEADLINE_SECONDS"],
            allow_http=app.config["FHIR_ALLOW_HTTP"],
            windows=engine.catalogue.windows,
            server_concurrency=app.config["FHIR_SERVER_CONCURRENCY"],
        ),
        feedback_store=FeedbackStore(
            make_engine(app.config["FEEDBACK_DATABASE"]), app.config["ISSUED_CARDS_RETENTION_DAYS"],
            on_issued_dropped=count_issued_dropped if app.config["METRICS_ENABLED"] else None),
        engine=engine,
        clock_now=_parse_clock(app.config["CLOCK_NOW"]),
    )

    register_error_handlers(app)
    cors.install(app)
    app.register_blueprint(cds_blueprint)
    governance.init_app(app)

    @app.get("/healthz")
    def healthz():
        # Liveness: the process answers. Nothing else, so a database outage never gets pods restarted.
        return jsonify({"status": "ok"})

    @app.get("/readyz")
    def readyz():
        """Readiness, with what the databases are doing. 503 only for a fault of this pod's own store (an SQLite
        file deleted, read-only or locked): replacing the pod helps. A shared database (PostgreSQL) that is down
        leaves every pod "degraded" but ready: hooks are still answered (issued cards are counted as lost,
        the jti check falls back to memory), feedback gets 503; taking every pod out would stop the cards."""
        state = app.extensions["cds"]
        checks, status = {}, 200
        try:
            state.feedback_store.ping()
            checks["feedbackStore"] = "ok"
        except StoreUnavailable:
            checks["feedbackStore"] = "unavailable"
            if state.feedback_store.guard.local:
                status = 503
        replay = state.verifier.replay if state.verifier is not None else None
        if isinstance(replay, DatabaseReplayStore):
            checks["replayStore"] = "fallback to this process's memory" if replay.degraded else "ok"
        healthy = all(value == "ok" for value in checks.values())
        return jsonify({"status": "ready" if healthy else "unavailable" if status == 503 else "degraded",
                        "checks": checks}), status

    @app.get("/openapi.json")
    def openapi():
        # The service's OpenAPI 3.1 description (no JWT: it holds no data).
        return app.response_class(OPENAPI_DOCUMENT, mimetype="application/json")

    if app.config["METRICS_ENABLED"]:
        install_metrics(app, route=app.config["METRICS_ROUTE"])
    freeze_start_up_objects()
    return app


def default_feedback_database(instance_path: str) -> str:
    """The feedback store when none is configured: an SQLite file in the instance folder."""
    return f"sqlite:///{os.path.join(instance_path, 'feedback.sqlite3')}"


def _parse_clock(value: str | None) -> datetime | None:
    if not value:
        return None
    return parse_moment(value)


def _replay_store(config):
    """The jti store: in the database (shared by all workers and replicas) unless configured "memory"."""
    if config["JTI_STORE"] == "memory":
        return ReplayStore()
    return DatabaseReplayStore(make_engine(config["FEEDBACK_DATABASE"], durable=False),
                               on_fallback=count_replay_fallback if config["METRICS_ENABLED"] else None)
