"""JWK Sets of trusted issuers: inline, or fetched from an allowlisted jku and cached.

An unknown kid refreshes the set once, and never faster than JWKS_MIN_REFRESH_SECONDS, so a stream of
tokens with made-up kids cannot turn the service into a key-fetching amplifier.

No valid call waits on a key server it does not need (a bulkhead; issue "Hardening II": a 2.5 s key server
held every call of that issuer for 2.5 s behind one lock). A token whose kid is cached is verified at once;
a stale set is refreshed in the background. Only a kid not yet known waits for the one fetch in flight.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field

import jwt
import requests

log = logging.getLogger(__name__)

MAX_JWKS_BYTES = 256 * 1024


class KeyNotFound(Exception):
    pass


@dataclass
class _CachedSet:
    keys: dict[str, jwt.PyJWK] = field(default_factory=dict)
    fetched_at: float = 0.0
    attempted_at: float = float("-inf")
    fetching: threading.Event | None = None  # set when the fetch in flight ends


def parse_jwk_set(data: object) -> dict[str, jwt.PyJWK]:
    """kid -> key for every usable signing key; keys without kid or of unsupported types are skipped."""
    keys: dict[str, jwt.PyJWK] = {}
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise ValueError("not a JWK Set")
    for entry in data["keys"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
            continue
        if entry.get("use", "sig") != "sig" or entry.get("kty") not in {"EC", "RSA"}:
            continue
        if "d" in entry:  # a private key published by mistake is never used
            continue
        try:
            keys[entry["kid"]] = jwt.PyJWK(entry)
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError):
            log.warning("skipping an unusable key in a JWK Set")
    return keys


class KeySets:
    def __init__(self, cache_seconds: float, min_refresh_seconds: float, timeout: float,
                 session: requests.Session | None = None):
        self._cache_seconds = cache_seconds
        self._min_refresh = min_refresh_seconds
        self._timeout = timeout
        self._session = session or requests.Session()
        self._sets: dict[str, _CachedSet] = {}
        self._lock = threading.Lock()

    def key_for(self, jku: str, kid: str) -> jwt.PyJWK:
        with self._lock:
            cached = self._sets.setdefault(jku, _CachedSet())
            now = time.monotonic()
            stale = now - cached.fetched_at > self._cache_seconds
            due = now - cached.attempted_at >= self._min_refresh and cached.fetching is None
            key = cached.keys.get(kid)
            if key is not None:
                if stale and due:  # serve the cached key; refresh behind it
                    threading.Thread(target=self._fetch, args=(jku, cached, self._start(cached, now)),
                                     name="jwks-refresh", daemon=True).start()
                return key
            done = self._start(cached, now) if due else cached.fetching
            mine = due
        if mine:
            self._fetch(jku, cached, done)
        elif done is not None:
            done.wait(self._timeout + 1)  # the fetch in flight may bring this kid
        try:
            return cached.keys[kid]
        except KeyError:
            raise KeyNotFound(f"kid not in the JWK Set at {jku}") from None

    @staticmethod
    def _start(cached: _CachedSet, now: float) -> threading.Event:
        cached.attempted_at = now
        cached.fetching = threading.Event()
        return cached.fetching

    def _fetch(self, jku: str, cached: _CachedSet, done: threading.Event) -> None:
        try:
            self._refresh(jku, cached)
        finally:
            with self._lock:
                cached.fetching = None
            done.set()

    def _refresh(self, jku: str, cached: _CachedSet) -> None:
        try:
            response = self._session.get(jku, timeout=self._timeout, allow_redirects=False,
                                         headers={"Accept": "application/json"}, stream=True)
            response.raise_for_status()
            body = response.raw.read(MAX_JWKS_BYTES + 1, decode_content=True)
            if len(body) > MAX_JWKS_BYTES:
                raise ValueError("JWK Set too large")
            cached.keys = parse_jwk_set(json.loads(body))
            cached.fetched_at = time.monotonic()
        except (requests.RequestException, ValueError) as error:
            # Keep the keys we had: a key server blip must not lock every client out.
            log.warning("could not refresh the JWK Set at %s: %s", jku, type(error).__name__)
