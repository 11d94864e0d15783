"""JWT trust (CDS Hooks 2.0 §Trusting CDS Clients): real ES384 keys; every failure is a bare 401."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from cds_service import create_app
from tests.conftest import BASE_URL, ISSUER, make_config
from tests.support.http_stub import StubServer
from tests.support.jwt_keys import ClientKey

SERVICE = "/cds-services/posterior-knee-pain"
DISCOVERY = "/cds-services"


def call(app, token: str | None, path: str = DISCOVERY):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return app.test_client().get(path, headers=headers)


def assert_bare_401(response):
    assert response.status_code == 401
    assert response.data == b""
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_valid_es384_token_is_accepted(app, client_key):
    assert call(app, client_key.token(ISSUER, BASE_URL + DISCOVERY)).status_code == 200


def test_replayed_token_is_refused(app, client_key):
    token = client_key.token(ISSUER, BASE_URL + DISCOVERY)
    assert call(app, token).status_code == 200
    assert_bare_401(call(app, token))


def test_token_for_another_endpoint_is_refused(app, client_key):
    # aud must be the exact URL invoked: a discovery token cannot call the service.
    assert_bare_401(call(app, client_key.token(ISSUER, BASE_URL + SERVICE), DISCOVERY))
    assert_bare_401(call(app, client_key.token(ISSUER, "https://other.example" + DISCOVERY)))


def test_aud_as_list_is_refused(app, client_key):
    assert_bare_401(call(app, client_key.token(ISSUER, [BASE_URL + DISCOVERY, "https://x.example"])))


def test_expired_token_is_refused(app, client_key):
    assert_bare_401(call(app, client_key.token(ISSUER, BASE_URL + DISCOVERY, now=time.time() - 1000)))


def test_small_clock_skew_is_tolerated(app, client_key):
    # Expired 30 s ago: inside the 60 s leeway a real EHR's clock drift needs.
    token = client_key.token(ISSUER, BASE_URL + DISCOVERY, now=time.time() - 330)
    assert call(app, token).status_code == 200


def test_token_issued_in_the_future_is_refused(app, client_key):
    assert_bare_401(call(app, client_key.token(ISSUER, BASE_URL + DISCOVERY, now=time.time() + 600)))


def test_not_yet_valid_token_is_refused(app, client_key):
    assert_bare_401(call(app, client_key.token(ISSUER, BASE_URL + DISCOVERY, nbf=int(time.time()) + 600)))


def test_overlong_lifetime_is_refused(app, client_key):
    assert_bare_401(call(app, client_key.token(ISSUER, BASE_URL + DISCOVERY, lifetime=86400)))


def test_unknown_issuer_is_refused(app, client_key):
    assert_bare_401(call(app, client_key.token("https://evil.example", BASE_URL + DISCOVERY)))


def test_unknown_key_is_refused(app):
    stranger = ClientKey("ES384")  # signs as the trusted issuer, with a key the issuer never published
    assert_bare_401(call(app, stranger.token(ISSUER, BASE_URL + DISCOVERY)))


def test_known_kid_but_other_key_is_refused(app, client_key):
    impostor = ClientKey("ES384", kid=client_key.kid)
    assert_bare_401(call(app, impostor.token(ISSUER, BASE_URL + DISCOVERY)))


def _unsigned(header: dict, claims: dict) -> str:
    def part(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()
    return f"{part(header)}.{part(claims)}."


def test_alg_none_is_refused(app, client_key):
    now = int(time.time())
    token = _unsigned({"alg": "none", "typ": "JWT", "kid": client_key.kid},
                      {"iss": ISSUER, "aud": BASE_URL + DISCOVERY, "iat": now, "exp": now + 300, "jti": "a"})
    assert_bare_401(call(app, token))


def test_hs256_signed_with_the_public_key_is_refused(app, client_key):
    # The classic key-confusion attack: the public key (which anyone has) used as an HMAC secret.
    public_pem = client_key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": BASE_URL + DISCOVERY, "iat": now, "exp": now + 300, "jti": "hs-1"}
    header = {"kid": client_key.kid, "typ": "JWT"}
    token = _hs256(claims, header, public_pem)
    assert_bare_401(call(app, token))


def _hs256(claims: dict, header: dict, secret: bytes) -> str:
    def part(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()
    signing_input = f"{part({**header, 'alg': 'HS256'})}.{part(claims)}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()


@pytest.mark.parametrize("claim", ["jti", "iat", "exp", "iss", "aud"])
def test_missing_required_claim_is_refused(app, client_key, claim):
    assert_bare_401(call(app, client_key.token(ISSUER, BASE_URL + DISCOVERY, drop=(claim,))))


def test_missing_kid_is_refused(app, client_key):
    token = jwt.encode({"iss": ISSUER, "aud": BASE_URL + DISCOVERY, "iat": int(time.time()),
                        "exp": int(time.time()) + 300, "jti": "no-kid"}, client_key.private_key, algorithm="ES384")
    assert_bare_401(call(app, token))


@pytest.mark.parametrize("authorization", [None, "", "Basic dXNlcjpwYXNz", "Bearer", "Bearer not-a-jwt"])
def test_missing_or_malformed_authorization_is_refused(app, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    assert_bare_401(app.test_client().get(DISCOVERY, headers=headers))


def test_oversized_token_is_refused(app, client_key):
    assert_bare_401(call(app, client_key.token(ISSUER, BASE_URL + DISCOVERY, padding="x" * 10000)))


def test_every_endpoint_requires_the_jwt(app):
    client = app.test_client()
    assert_bare_401(client.get("/cds-services"))
    assert_bare_401(client.post(SERVICE, json={}))
    assert_bare_401(client.post(SERVICE + "/feedback", json={}))
    assert client.get("/healthz").status_code == 200  # the orchestrator's probe carries no JWT


def test_rs384_and_es256_are_accepted_but_only_from_matching_keys(tmp_path):
    rsa_key, es256_key = ClientKey("RS384"), ClientKey("ES256")
    app = create_app(make_config(tmp_path, rsa_key, TRUSTED_ISSUERS=[
        {"iss": ISSUER, "jwks": {"keys": [rsa_key.public_jwk, es256_key.public_jwk]}}]))
    assert call(app, rsa_key.token(ISSUER, BASE_URL + DISCOVERY)).status_code == 200
    assert call(app, es256_key.token(ISSUER, BASE_URL + DISCOVERY)).status_code == 200
    # An RSA key cannot verify an EC algorithm: the header says ES384 but the kid names the RSA key.
    forged = es256_key.token(ISSUER, BASE_URL + DISCOVERY, headers={"kid": rsa_key.kid})
    assert_bare_401(call(app, forged))


def test_tenant_is_enforced_when_configured(tmp_path, client_key):
    app = create_app(make_config(tmp_path, client_key, TRUSTED_ISSUERS=[
        {"iss": ISSUER, "jwks": client_key.jwks(), "tenant": "hospital-a"}]))
    assert call(app, client_key.token(ISSUER, BASE_URL + DISCOVERY, tenant="hospital-a")).status_code == 200
    assert_bare_401(call(app, client_key.token(ISSUER, BASE_URL + DISCOVERY, tenant="hospital-b")))
    assert_bare_401(call(app, client_key.token(ISSUER, BASE_URL + DISCOVERY)))


def test_jku_keys_are_fetched_cached_and_refreshed_once_for_an_unknown_kid(tmp_path):
    first, second = ClientKey("ES384"), ClientKey("ES384")
    with StubServer() as stub:
        jku = stub.url + "/.well-known/jwks.json"
        stub.routes["/.well-known/jwks.json"] = (200, first.jwks())
        app = create_app(make_config(tmp_path, first, TRUSTED_ISSUERS=[{"iss": ISSUER, "jku": jku}],
                                     JWKS_MIN_REFRESH_SECONDS=0))
        for _ in range(3):
            assert call(app, first.token(ISSUER, BASE_URL + DISCOVERY, headers={"jku": jku})).status_code == 200
        assert len(stub.requests) == 1  # cached
        stub.routes["/.well-known/jwks.json"] = (200, {"keys": [first.public_jwk, second.public_jwk]})
        assert call(app, second.token(ISSUER, BASE_URL + DISCOVERY)).status_code == 200  # rotated key found
        assert len(stub.requests) == 2


def test_unknown_kids_cannot_drive_repeated_key_fetches(tmp_path):
    key = ClientKey("ES384")
    with StubServer() as stub:
        jku = stub.url + "/jwks"
        stub.routes["/jwks"] = (200, key.jwks())
        app = create_app(make_config(tmp_path, key, TRUSTED_ISSUERS=[{"iss": ISSUER, "jku": jku}]))
        for _ in range(20):
            assert_bare_401(call(app, ClientKey("ES384").token(ISSUER, BASE_URL + DISCOVERY)))
        assert len(stub.requests) == 1


def test_jku_not_on_the_allowlist_is_refused_without_fetching(tmp_path):
    key = ClientKey("ES384")
    with StubServer() as stub:
        stub.routes["/evil-jwks"] = (200, key.jwks())
        app = create_app(make_config(tmp_path, key, TRUSTED_ISSUERS=[{"iss": ISSUER, "jku": stub.url + "/jwks"}]))
        assert_bare_401(call(app, key.token(ISSUER, BASE_URL + DISCOVERY, headers={"jku": stub.url + "/evil-jwks"})))
        assert stub.requests == []


def test_no_jwt_mode_logs_a_loud_warning(tmp_path, client_key, caplog):
    with caplog.at_level("WARNING"):
        app = create_app(make_config(tmp_path, client_key, REQUIRE_JWT=False))
    assert "REQUIRE_JWT is false" in caplog.text
    assert app.test_client().get(DISCOVERY).status_code == 200


def test_replay_is_caught_across_workers_sharing_the_database(tmp_path, client_key):
    # Two apps on one database file stand for two gunicorn workers (or two replicas).
    first = create_app(make_config(tmp_path, client_key))
    second = create_app(make_config(tmp_path, client_key))
    token = client_key.token(ISSUER, BASE_URL + DISCOVERY)
    assert call(first, token).status_code == 200
    assert_bare_401(call(second, token))


def test_memory_replay_store_is_per_process(tmp_path, client_key):
    first = create_app(make_config(tmp_path, client_key, JTI_STORE="memory"))
    second = create_app(make_config(tmp_path, client_key, JTI_STORE="memory"))
    token = client_key.token(ISSUER, BASE_URL + DISCOVERY)
    assert call(first, token).status_code == 200
    assert call(second, token).status_code == 200  # the documented limit of the in-memory store
    assert_bare_401(call(first, token))


def test_clock_skew_edges(app, client_key):
    leeway = 60
    now = time.time()
    # exp just inside / just outside the leeway
    assert call(app, client_key.token(ISSUER, BASE_URL + DISCOVERY, now=now - 300 - leeway + 5)).status_code == 200
    assert_bare_401(call(app, client_key.token(ISSUER, BASE_URL + DISCOVERY, now=now - 300 - leeway - 5)))
    # iat just inside / just outside the leeway in the future
    assert call(app, client_key.token(ISSUER, BASE_URL + DISCOVERY, now=now + leeway - 5)).status_code == 200
    assert_bare_401(call(app, client_key.token(ISSUER, BASE_URL + DISCOVERY, now=now + leeway + 5)))


def test_a_slow_key_server_holds_only_the_tokens_that_need_it(tmp_path):
    """A stale set is refreshed behind the cached keys: a token whose kid is known is answered at once while
    the key server takes 2 s; a token with a new kid waits for that one fetch and finds its key."""
    import threading
    import time as clock
    first, second = ClientKey("ES384"), ClientKey("ES384")
    with StubServer() as stub:
        jku = stub.url + "/jwks"
        stub.routes["/jwks"] = (200, first.jwks())
        app = create_app(make_config(tmp_path, first, TRUSTED_ISSUERS=[{"iss": ISSUER, "jku": jku}],
                                     JWKS_CACHE_SECONDS=0, JWKS_MIN_REFRESH_SECONDS=0))
        assert call(app, first.token(ISSUER, BASE_URL + DISCOVERY)).status_code == 200  # keys fetched
        stub.delay = 2.0
        stub.routes["/jwks"] = (200, {"keys": [first.public_jwk, second.public_jwk]})
        started = clock.perf_counter()
        assert call(app, first.token(ISSUER, BASE_URL + DISCOVERY)).status_code == 200  # stale: refreshed behind
        assert clock.perf_counter() - started < 1.0
        results = {}

        def new_kid():
            results["new"] = call(app, second.token(ISSUER, BASE_URL + DISCOVERY)).status_code
        waiting = threading.Thread(target=new_kid)
        waiting.start()
        started = clock.perf_counter()
        for _ in range(3):  # while the refresh is in flight
            assert call(app, first.token(ISSUER, BASE_URL + DISCOVERY)).status_code == 200
        assert clock.perf_counter() - started < 1.0
        waiting.join(10)
        assert results["new"] == 200  # it waited for the fetch in flight and found the rotated key


def test_pinned_keys_for_a_jku_need_no_fetch_and_refuse_another_jku(tmp_path, caplog):
    """The public CDS Hooks sandbox always sends its jku. A site pins the keys published there (jku and
    jwks together): its tokens verify with no network (the key server here would answer 500 and counts
    every request), another jku or a kid not pinned is refused, and the log says what was expected."""
    key = ClientKey("ES384")
    with StubServer() as stub:
        jku = stub.url + "/.well-known/jwks.json"
        stub.routes["/.well-known/jwks.json"] = (500, {})
        app = create_app(make_config(tmp_path, key, TRUSTED_ISSUERS=[{"iss": ISSUER, "jku": jku,
                                                                       "jwks": key.jwks()}]))
        for _ in range(3):
            assert call(app, key.token(ISSUER, BASE_URL + DISCOVERY, headers={"jku": jku})).status_code == 200
        with caplog.at_level("INFO", logger="cds_service.errors"):
            assert_bare_401(call(app, key.token(ISSUER, BASE_URL + DISCOVERY, headers={"jku": stub.url + "/x"})))
            assert_bare_401(call(app, ClientKey("ES384").token(ISSUER, BASE_URL + DISCOVERY, headers={"jku": jku})))
            assert_bare_401(call(app, key.token(ISSUER, "https://other.example/cds-services", headers={"jku": jku})))
        assert stub.requests == []  # never fetched
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert f"jku not on the allowlist (configured jku for this issuer: {jku})" in logged
    assert "unknown kid (not among the pinned keys)" in logged
    assert f"InvalidAudienceError (expected aud {BASE_URL}{DISCOVERY})" in logged


def test_pinned_keys_with_refresh_fetch_the_jku_for_a_kid_not_pinned(tmp_path):
    pinned, rotated = ClientKey("ES384"), ClientKey("ES384")
    with StubServer() as stub:
        jku = stub.url + "/jwks"
        stub.routes["/jwks"] = (200, {"keys": [pinned.public_jwk, rotated.public_jwk]})
        app = create_app(make_config(tmp_path, pinned, TRUSTED_ISSUERS=[
            {"iss": ISSUER, "jku": jku, "jwks": pinned.jwks(), "refresh": True}]))
        assert call(app, pinned.token(ISSUER, BASE_URL + DISCOVERY, headers={"jku": jku})).status_code == 200
        assert stub.requests == []
        assert call(app, rotated.token(ISSUER, BASE_URL + DISCOVERY, headers={"jku": jku})).status_code == 200
        assert len(stub.requests) == 1


def test_a_start_up_warning_says_when_jwts_are_required_and_no_issuer_is_trusted(tmp_path, caplog, client_key):
    with caplog.at_level("WARNING", logger="cds_service.app"):
        create_app(make_config(tmp_path, client_key, TRUSTED_ISSUERS=[]))
    assert any("no issuer is trusted: every call will be refused with 401" in r.getMessage() for r in caplog.records)
