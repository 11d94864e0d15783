"""Verify the CDS client's JWT: allowlisted iss (and jku), key by kid, asymmetric alg only, exact aud,
exp/iat/nbf with a small leeway, a bounded lifetime, a jti used once, and the tenant if configured.
"""
from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import jwt

from ..errors import Unauthorized
from .jwks import KeyNotFound, KeySets, parse_jwk_set
from .replay import ReplayStore

_KEY_TYPE_FOR_ALG = {"ES256": "EC", "ES384": "EC", "ES512": "EC", "RS256": "RSA", "RS384": "RSA",
                     "RS512": "RSA", "PS384": "RSA"}


@dataclass(frozen=True)
class VerifiedClient:
    iss: str
    fhir_servers: tuple[str, ...] = ()  # FHIR servers this issuer's EHR may send us to


@dataclass(frozen=True)
class _Issuer:
    iss: str
    jku: str | None
    inline_keys: Mapping[str, jwt.PyJWK] | None
    tenant: str | None
    fhir_servers: tuple[str, ...]
    refresh: bool = False  # pinned keys (jku + jwks): fetch the jku for a kid not pinned


class ClientVerifier:
    def __init__(self, trusted_issuers: Iterable[Mapping], algorithms: Iterable[str], leeway: int,
                 max_lifetime: int, max_bytes: int, key_sets: KeySets, replay: ReplayStore):
        self._issuers: dict[str, _Issuer] = {}
        for entry in trusted_issuers:
            inline = parse_jwk_set(entry["jwks"]) if "jwks" in entry else None
            self._issuers[entry["iss"]] = _Issuer(entry["iss"], entry.get("jku"), inline, entry.get("tenant"),
                                                  tuple(entry.get("fhirServers", ())), bool(entry.get("refresh")))
        self._algorithms = frozenset(algorithms)
        self._leeway = leeway
        self._max_lifetime = max_lifetime
        self._max_bytes = max_bytes
        self._key_sets = key_sets
        self.replay = replay

    def verify(self, authorization: str | None, audience: str) -> VerifiedClient:
        token = _bearer_token(authorization)
        if len(token) > self._max_bytes:
            raise Unauthorized("token too large")
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise Unauthorized("token is not a JWT") from None
        # Everything below compares, hashes or subtracts these values: a list where a string belongs (an
        # unhashable `alg`) or a string where a number belongs (exp - iat) must be a 401, not a TypeError.
        _check_types(header, unverified)

        alg = header["alg"]
        if alg not in self._algorithms:
            raise Unauthorized("algorithm not allowed")
        kid = header.get("kid")
        if not kid:
            raise Unauthorized("no kid in the JWT header")
        issuer = self._issuers.get(unverified.get("iss")) if isinstance(unverified.get("iss"), str) else None
        if issuer is None:
            raise Unauthorized("issuer not trusted")

        key = self._key(issuer, header.get("jku"), kid)
        if _KEY_TYPE_FOR_ALG[alg] != key.key_type:
            raise Unauthorized("algorithm does not match the key type")
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=[alg],
                audience=audience,
                issuer=issuer.iss,
                leeway=self._leeway,
                options={"require": ["iss", "aud", "exp", "iat", "jti"], "strict_aud": True},
            )
        except jwt.InvalidAudienceError:
            raise Unauthorized("JWT rejected: InvalidAudienceError", f"expected aud {audience}") from None
        except jwt.PyJWTError as error:
            raise Unauthorized(f"JWT rejected: {type(error).__name__}") from None

        now = time.time()
        if claims["iat"] > now + self._leeway:
            raise Unauthorized("iat in the future")
        if claims["exp"] - claims["iat"] > self._max_lifetime:
            raise Unauthorized("token lifetime too long")
        if not isinstance(claims["jti"], str) or not claims["jti"]:
            raise Unauthorized("jti missing")
        if issuer.tenant is not None and claims.get("tenant") != issuer.tenant:
            raise Unauthorized("tenant not trusted")
        if not self.replay.first_use(f"{issuer.iss}\x00{claims['jti']}", claims["exp"] + self._leeway):
            raise Unauthorized("jti replayed")
        return VerifiedClient(iss=issuer.iss, fhir_servers=issuer.fhir_servers)

    def _key(self, issuer: _Issuer, jku: object, kid: str) -> jwt.PyJWK:
        if jku is not None and jku != issuer.jku:
            # The spec's allowlist is of iss *and* jku: a token may not point us at keys of its choosing.
            raise Unauthorized("jku not on the allowlist", f"configured jku for this issuer: {issuer.jku}")
        if issuer.inline_keys is not None:
            # Inline keys, or the keys published at the jku pinned here (no network needed, e.g. the public
            # CDS Hooks sandbox, which always sends its jku).
            key = issuer.inline_keys.get(kid)
            if key is not None:
                return key
            if not (issuer.refresh and issuer.jku):
                raise Unauthorized("unknown kid", "not among the pinned keys")
        try:
            return self._key_sets.key_for(issuer.jku, kid)
        except KeyNotFound:
            raise Unauthorized("unknown kid") from None


_HEADER_STRINGS = ("alg", "kid", "jku", "typ")  # alg is required; the others, when present, are strings
_NUMERIC_DATES = ("exp", "iat", "nbf")  # RFC 7519 §2 NumericDate: a JSON number


def _check_types(header: Mapping, claims: Mapping) -> None:
    """The JSON type of each header parameter and time claim we use, before any of them is used. The
    reasons are fixed phrases (they are logged and become metric labels); the values never appear."""
    for name in _HEADER_STRINGS:
        if (name == "alg" or name in header) and not isinstance(header.get(name), str):
            raise Unauthorized(f"JWT header {name} is not a string")
    for name in _NUMERIC_DATES:
        if name in claims and not _is_numeric_date(claims[name]):
            raise Unauthorized(f"JWT claim {name} is not a number")


def _is_numeric_date(value: object) -> bool:
    # bool is an int in Python but not a JSON number; NaN and Infinity (which json.loads accepts) are no time.
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def _bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise Unauthorized("no Authorization header")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization is not a Bearer token")
    return token.strip()
