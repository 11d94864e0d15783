"""The JWT matrix, malformed half: a token whose header or claims have the wrong JSON type is a bare 401,
never a 500, whoever signed it. Each token here carries a real ES384 or RS256 signature by a trusted key
(ClientKey.sign_raw), so it is the type check that refuses it, not the signature; the refusal is logged as
one INFO line naming the check, with no trace and never the token."""
from __future__ import annotations

import logging
import time
import uuid

import pytest

from cds_service import create_app
from tests.conftest import BASE_URL, ISSUER, SECRETS, make_config
from tests.support.jwt_keys import ClientKey
from tests.trust.test_verify import DISCOVERY, assert_bare_401

AUD = BASE_URL + DISCOVERY
KEYS = {alg: ClientKey(alg) for alg in ("ES384", "RS256")}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    issuers = [{"iss": ISSUER, "jwks": {"keys": [key.public_jwk for key in KEYS.values()]}}]
    return create_app(make_config(tmp_path_factory.mktemp("malformed"), KEYS["ES384"], TRUSTED_ISSUERS=issuers))


def header(key: ClientKey, **changes) -> dict:
    return {"alg": key.alg, "typ": "JWT", "kid": key.kid, **changes}


def claims(**changes) -> dict:
    now = int(time.time())
    return {"iss": ISSUER, "aud": AUD, "iat": now, "exp": now + 300, "jti": str(uuid.uuid4()), **changes}


def call(app, token: str):
    SECRETS.add(token)  # the suite-wide guard checks that no log line holds it
    return app.test_client().get(DISCOVERY, headers={"Authorization": f"Bearer {token}"})


def refused_quietly(app, token: str, caplog, reason: str | None = None) -> None:
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        assert_bare_401(call(app, token))
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "a malformed token is not a bug"
    assert not [r for r in caplog.records if r.exc_info or r.exc_text], "no trace for a malformed token"
    rejections = [r.getMessage() for r in caplog.records if r.getMessage().startswith("rejected client credentials")]
    assert len(rejections) == 1 and rejections[0].split(": ", 1)[1], rejections
    if reason is not None:
        assert reason in rejections[0]
    assert token not in caplog.text


@pytest.mark.parametrize("alg", KEYS)
def test_the_raw_signer_makes_tokens_the_service_accepts(app, alg):
    # The control: without it every 401 below could be a bad signature rather than the check under test.
    key = KEYS[alg]
    assert call(app, key.sign_raw(header(key), claims())).status_code == 200


WRONG_TYPES = {"list": ["ES384"], "object": {"alg": "ES384"}, "number": 384, "null": None, "true": True}


@pytest.mark.parametrize("alg", KEYS)
@pytest.mark.parametrize("kind", WRONG_TYPES)
@pytest.mark.parametrize("name", ["alg", "kid", "jku", "typ"])
def test_header_parameter_of_the_wrong_type_is_a_401(app, caplog, alg, name, kind):
    """alg as a list or an object was a TypeError (unhashable) in trust/verify.py: a 500 with a trace at
    ERROR on every such request. kid, jku and typ of the wrong type are refused the same way."""
    key = KEYS[alg]
    value = WRONG_TYPES[kind]
    if name != "alg" and isinstance(value, list):
        value = [key.kid]  # the right value, wrapped
    refused_quietly(app, key.sign_raw(header(key, **{name: value}), claims()), caplog)


@pytest.mark.parametrize("alg", KEYS)
def test_missing_alg_and_empty_kid_are_401(app, caplog, alg):
    key = KEYS[alg]
    no_alg = header(key)
    del no_alg["alg"]
    refused_quietly(app, key.sign_raw(no_alg, claims()), caplog, "alg")
    refused_quietly(app, key.sign_raw(header(key, kid=""), claims()), caplog, "kid")


def _now_plus(seconds: int) -> str:
    return str(int(time.time()) + seconds)


# exp, iat and nbf are NumericDates (RFC 7519 §2: a JSON number). A string exp passed PyJWT (it calls int())
# and then broke `exp - iat` here: a 500. A string nbf was accepted.
NOT_NUMBERS = {
    "numeric string": lambda claim: _now_plus(300 if claim == "exp" else 0),
    "word": lambda claim: "soon",
    "list": lambda claim: [int(time.time())],
    "object": lambda claim: {"seconds": int(time.time())},
    "true": lambda claim: True,
    "null": lambda claim: None,
    "NaN": lambda claim: float("nan"),
    "Infinity": lambda claim: float("inf"),
}


@pytest.mark.parametrize("alg", KEYS)
@pytest.mark.parametrize("kind", NOT_NUMBERS)
@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
def test_time_claim_that_is_not_a_number_is_a_401(app, caplog, alg, claim, kind):
    key = KEYS[alg]
    token = key.sign_raw(header(key), claims(**{claim: NOT_NUMBERS[kind](claim)}))
    refused_quietly(app, token, caplog, claim)


@pytest.mark.parametrize("alg", KEYS)
def test_fractional_numeric_dates_are_numbers(app, alg):
    # RFC 7519 allows non-integer NumericDates: they are not malformed.
    key = KEYS[alg]
    now = time.time()
    assert call(app, key.sign_raw(header(key), claims(iat=now - 0.5, exp=now + 299.5, nbf=now - 1.25))).status_code == 200


NOT_OBJECTS = {"array": [1], "string": "header", "number": 1, "null": None, "true": True}


@pytest.mark.parametrize("alg", KEYS)
@pytest.mark.parametrize("kind", NOT_OBJECTS)
def test_header_that_is_json_but_not_an_object_is_a_401(app, caplog, alg, kind):
    key = KEYS[alg]
    refused_quietly(app, key.sign_raw(NOT_OBJECTS[kind], claims()), caplog)


@pytest.mark.parametrize("alg", KEYS)
@pytest.mark.parametrize("kind", NOT_OBJECTS)
def test_payload_that_is_json_but_not_an_object_is_a_401(app, caplog, alg, kind):
    key = KEYS[alg]
    refused_quietly(app, key.sign_raw(header(key), NOT_OBJECTS[kind]), caplog)
