"""Configuration: defaults, then a mapping passed to create_app, or CDS_<KEY> environment variables.

The key names are a contract other tools rely on (REQUIRE_JWT, TRUSTED_ISSUERS, PUBLIC_BASE_URL,
FEEDBACK_DATABASE); everything else has a safe default.
"""
from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEFAULTS: dict[str, Any] = {
    # Trust
    "REQUIRE_JWT": True,
    # [{"iss", "jku"} | {"iss", "jwks"} | {"iss", "jku", "jwks"} (keys pinned for that jku, no fetch; "refresh":
    # true fetches the jku for a kid not pinned)], each with optional "tenant" and "fhirServers"
    "TRUSTED_ISSUERS": [],
    # The URL EHRs call; the JWT's aud must be {PUBLIC_BASE_URL}/cds-services/... Required with REQUIRE_JWT:
    # taken from the request instead, aud would follow whatever Host (or X-Forwarded-*) header the caller sent.
    "PUBLIC_BASE_URL": None,
    "JWT_ALGORITHMS": ["ES384", "RS384", "ES256", "RS256"],
    "JWT_LEEWAY_SECONDS": 60,
    "JWT_MAX_LIFETIME_SECONDS": 3600,  # a client token living longer than the replay window is refused
    "JWT_MAX_BYTES": 8192,
    "JWKS_CACHE_SECONDS": 3600,
    "JWKS_MIN_REFRESH_SECONDS": 30,  # an unknown kid may not trigger key fetches faster than this
    "JWKS_TIMEOUT_SECONDS": 3.0,
    "JTI_STORE": "database",  # "database": shared by all workers and replicas; "memory": per process
    # Storage
    "FEEDBACK_DATABASE": None,  # None: sqlite file in the instance folder
    # Rows of issued cards (which tie feedback to its topic) are deleted after this many days; feedback is kept.
    "ISSUED_CARDS_RETENTION_DAYS": 400,
    # HTTP
    "MAX_CONTENT_LENGTH": 32 * 1024 * 1024,
    "CORS_ORIGINS": ["*"],
    # Peers whose X-Forwarded-Proto sets the request's scheme under `cds-service serve` (http/buffered.py).
    # Empty: nobody's (a server's usual default trusts
    # 127.0.0.1, which in a pod is any sidecar). Addresses or networks; "*" trusts every peer.
    "FORWARDED_ALLOW_IPS": [],
    "METRICS_ENABLED": True,  # Prometheus metrics collected
    # GET /metrics on the service's own port (create_app alone: tests, development). `cds-service serve` turns
    # it off and serves the page on its own port (--metrics-port), never on the port EHRs and browsers call.
    "METRICS_ROUTE": True,
    # Fetching from the EHR's FHIR server when prefetch is missing
    "FHIR_CONNECT_TIMEOUT_SECONDS": 2.0,
    "FHIR_READ_TIMEOUT_SECONDS": 5.0,
    "FHIR_FETCH_DEADLINE_SECONDS": 0.4,  # fetching's share of the hook deadline (never more than it allows)
    # Bulkhead: hook calls fetching from one FHIR server at once, per worker process. One more is answered at
    # once without fetching (its cards say the data could not be read), so a slow server cannot hold every
    # request thread and slow down the calls that bring their data in prefetch (`serve --threads`, default 4).
    "FHIR_SERVER_CONCURRENCY": 3,
    # One deadline for the whole hook (checking the token, fetching, reading the record, the rules): the EHR
    # waits ~0.5 s for cards. Past it, the answer is what the data read so far supports, marked as incomplete.
    "HOOK_DEADLINE_SECONDS": 0.45,
    "HOOK_RESERVE_SECONDS": 0.05,  # kept back from fetching for reading the record and the rules
    "FHIR_SERVERS": [],  # FHIR base URLs the service may call (plus each trusted issuer's "fhirServers")
    "FHIR_MAX_PAGES": 20,
    "FHIR_MAX_RESPONSE_BYTES": 16 * 1024 * 1024,
    "FHIR_PAGE_SIZE": 200,
    "FHIR_ALLOW_HTTP": False,  # plain http fhirServer only for local testing
    # Clinical content
    "VALUESET_DIR": None,  # None: valueset/ beside the package
    "CARDS_DIR": None,  # None: cards/ beside the package
    # Read-only HTML pages for the people who govern the cards (cds_service/governance): a gallery of every card
    # from the synthetic demo patients, and the feedback figures as aggregates. No JWT: they hold no patient
    # data; a site puts them behind its own sign-on or turns them off.
    "GOVERNANCE_PAGES": True,
    "CLOCK_NOW": None,  # ISO date-time to evaluate "recent" against (reproducing a case, tests); None: now
}

_JSON_KEYS = {"TRUSTED_ISSUERS", "CORS_ORIGINS", "JWT_ALGORITHMS", "FHIR_SERVERS", "FORWARDED_ALLOW_IPS"}


def _coerce(key: str, raw: str) -> Any:
    default = DEFAULTS.get(key)
    if key == "TRUSTED_ISSUERS":
        # The environment names a JSON file holding the list (a secret-free file, mountable as a ConfigMap).
        return json.loads(Path(raw).read_text(encoding="utf-8"))
    if key in _JSON_KEYS:
        raw = raw.strip()
        return json.loads(raw) if raw.startswith("[") else [s.strip() for s in raw.split(",") if s.strip()]
    if isinstance(default, bool):
        if raw.strip().lower() in {"1", "true", "yes", "on"}:
            return True
        if raw.strip().lower() in {"0", "false", "no", "off"}:
            return False
        raise ValueError(f"CDS_{key} must be true or false, not {raw!r}")
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    return raw


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Read CDS_<KEY> variables, and CDS_CONFIG_FILE (a JSON object of the same keys) below them."""
    environ = os.environ if environ is None else environ
    config: dict[str, Any] = {}
    config_file = environ.get("CDS_CONFIG_FILE")
    if config_file:
        config.update(json.loads(Path(config_file).read_text(encoding="utf-8")))
    for name, raw in environ.items():
        if name.startswith("CDS_") and name != "CDS_CONFIG_FILE":
            key = name[4:]
            if key in DEFAULTS:
                config[key] = _coerce(key, raw)
    return config


def validate(config: Mapping[str, Any]) -> None:
    """Fail at start-up, not on the first request, when the configuration cannot work (or is unsafe)."""
    if config["REQUIRE_JWT"]:
        _check_public_base_url(config.get("PUBLIC_BASE_URL"))
    for entry in config["TRUSTED_ISSUERS"]:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("iss"), str):
            raise ValueError("each TRUSTED_ISSUERS entry needs an 'iss' string")
        if "jku" not in entry and "jwks" not in entry:
            raise ValueError(f"trusted issuer {entry['iss']!r} needs 'jku' (its JWK Set URL), 'jwks' (its keys), "
                             "or both (the keys published at that jku, pinned: no fetch)")
        if entry.get("refresh") and not ("jku" in entry and "jwks" in entry):
            raise ValueError(f"trusted issuer {entry['iss']!r}: 'refresh' applies to pinned keys ('jku' with 'jwks')")
        for server in entry.get("fhirServers", []):
            parse_allowed_server(server)
    for server in config["FHIR_SERVERS"]:
        parse_allowed_server(server)
    for peer in config["FORWARDED_ALLOW_IPS"]:
        if peer != "*":
            ipaddress.ip_network(peer)  # ValueError names the entry, at start-up
    if not isinstance(config["GOVERNANCE_PAGES"], bool):
        raise ValueError("GOVERNANCE_PAGES must be true or false")
    retention = config["ISSUED_CARDS_RETENTION_DAYS"]
    if not isinstance(retention, int) or isinstance(retention, bool) or retention < 1:
        raise ValueError("ISSUED_CARDS_RETENTION_DAYS must be a whole number of days, at least 1")
    bad = set(config["JWT_ALGORITHMS"]) - {"ES384", "RS384", "ES256", "RS256", "ES512", "RS512", "PS384"}
    if bad:
        raise ValueError(f"JWT_ALGORITHMS may not include {sorted(bad)} (never 'none' or HS*)")


def _check_public_base_url(url: object) -> None:
    if not url:
        raise ValueError(
            "REQUIRE_JWT is on (the default) but PUBLIC_BASE_URL is not set: set CDS_PUBLIC_BASE_URL to the "
            "URL EHRs call, e.g. CDS_PUBLIC_BASE_URL=https://cds.example.org (a JWT's aud must equal it "
            "followed by /cds-services/..., never a URL built from the request's Host header). For local "
            "development only: CDS_REQUIRE_JWT=false.")
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("https", "http") or not parts.hostname or parts.query \
            or parts.fragment or parts.username or parts.password:
        raise ValueError("PUBLIC_BASE_URL must be the absolute http(s) URL EHRs call (scheme, host, optional "
                         "port and path; no query, fragment or credentials), e.g. https://cds.example.org")


def parse_allowed_server(entry: str):
    """An allowlist entry: '*' (any server: local development only) or a base URL; a URL without a port
    allows any port on that host, and its path is a prefix."""
    if entry == "*":
        return entry
    parts = urlsplit(entry)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"FHIR server allowlist entry {entry!r} is not an http(s) URL")
    return parts
