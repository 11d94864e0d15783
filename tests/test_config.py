"""Configuration from CDS_<KEY> environment variables (the command line's source) and start-up checks."""
from __future__ import annotations

import json

import pytest

from cds_service import config, create_app

PUBLIC = "https://cds.example"


def test_environment_variables_are_read_and_typed(tmp_path):
    issuers = tmp_path / "issuers.json"
    issuers.write_text(json.dumps([{"iss": "https://ehr.example", "jku": "https://ehr.example/jwks"}]))
    read = config.from_environment({
        "CDS_REQUIRE_JWT": "false", "CDS_TRUSTED_ISSUERS": str(issuers), "CDS_PUBLIC_BASE_URL": "https://cds.example",
        "CDS_FEEDBACK_DATABASE": "sqlite:///x.db", "CDS_MAX_CONTENT_LENGTH": "1000",
        "CDS_CORS_ORIGINS": "https://a.example, https://b.example", "CDS_FHIR_FETCH_DEADLINE_SECONDS": "0.4",
        "CDS_UNRELATED": "ignored", "HOME": "/root"})
    assert read == {"REQUIRE_JWT": False, "TRUSTED_ISSUERS": [{"iss": "https://ehr.example",
                                                               "jku": "https://ehr.example/jwks"}],
                    "PUBLIC_BASE_URL": "https://cds.example", "FEEDBACK_DATABASE": "sqlite:///x.db",
                    "MAX_CONTENT_LENGTH": 1000, "CORS_ORIGINS": ["https://a.example", "https://b.example"],
                    "FHIR_FETCH_DEADLINE_SECONDS": 0.4}


def test_config_file_sits_below_environment_variables(tmp_path):
    path = tmp_path / "cds.json"
    path.write_text(json.dumps({"PUBLIC_BASE_URL": "https://file.example", "FHIR_MAX_PAGES": 5}))
    read = config.from_environment({"CDS_CONFIG_FILE": str(path), "CDS_PUBLIC_BASE_URL": "https://env.example"})
    assert read == {"PUBLIC_BASE_URL": "https://env.example", "FHIR_MAX_PAGES": 5}


def test_bad_boolean_is_an_error():
    with pytest.raises(ValueError):
        config.from_environment({"CDS_REQUIRE_JWT": "sometimes"})


@pytest.mark.parametrize("issuers", [
    [{"jku": "https://x"}],
    [{"iss": "https://x"}],
    [{"iss": "https://x", "jwks": {"keys": []}, "refresh": True}],  # refresh needs a jku to fetch
])
def test_unusable_trusted_issuers_fail_at_start_up(tmp_path, issuers):
    with pytest.raises(ValueError, match="TRUSTED_ISSUERS|trusted issuer"):
        create_app({"TRUSTED_ISSUERS": issuers, "FEEDBACK_DATABASE": "sqlite://", "PUBLIC_BASE_URL": PUBLIC})


def test_symmetric_algorithms_cannot_be_configured():
    with pytest.raises(ValueError, match="JWT_ALGORITHMS"):
        create_app({"JWT_ALGORITHMS": ["HS256"], "FEEDBACK_DATABASE": "sqlite://", "PUBLIC_BASE_URL": PUBLIC})


def test_default_feedback_database_is_a_file_in_the_instance_folder():
    app = create_app({"REQUIRE_JWT": False})
    assert app.config["FEEDBACK_DATABASE"].startswith("sqlite:///")
    assert app.config["FEEDBACK_DATABASE"].endswith("instance/feedback.sqlite3")


def test_require_jwt_without_public_base_url_refuses_to_start():
    """Without PUBLIC_BASE_URL the JWT's aud was checked against the URL the request arrived on, built from
    the Host header the caller writes: a token the same EHR signed for another service passed with that
    service's Host. Start-up refuses, naming the setting to give."""
    for settings in ({}, {"REQUIRE_JWT": True}, {"REQUIRE_JWT": True, "PUBLIC_BASE_URL": ""}):
        with pytest.raises(ValueError, match="CDS_PUBLIC_BASE_URL=https://") as refused:
            create_app({"FEEDBACK_DATABASE": "sqlite://", **settings})
        assert "CDS_REQUIRE_JWT=false" in str(refused.value)


@pytest.mark.parametrize("url", ["cds.example", "/cds", "ftp://cds.example", "https://cds.example/?x=1",
                                 "https://cds.example/#top", "https://user:pw@cds.example", "https://", 42])
def test_a_public_base_url_that_is_not_an_absolute_http_url_refuses_to_start(url):
    with pytest.raises(ValueError, match="PUBLIC_BASE_URL must be"):
        create_app({"FEEDBACK_DATABASE": "sqlite://", "PUBLIC_BASE_URL": url})


def test_public_base_url_is_not_needed_without_jwts():
    # Local development and the tools (check, demo) run with REQUIRE_JWT false and no public URL.
    assert create_app({"REQUIRE_JWT": False, "FEEDBACK_DATABASE": "sqlite://"}).config["PUBLIC_BASE_URL"] is None
    assert create_app({"FEEDBACK_DATABASE": "sqlite://", "PUBLIC_BASE_URL": "http://127.0.0.1:8080/prefix"})


def test_forwarded_allow_ips_is_off_by_default_and_read_from_the_environment():
    assert config.DEFAULTS["FORWARDED_ALLOW_IPS"] == []
    read = config.from_environment({"CDS_FORWARDED_ALLOW_IPS": "10.0.0.0/8, 192.0.2.7"})
    assert read == {"FORWARDED_ALLOW_IPS": ["10.0.0.0/8", "192.0.2.7"]}
    with pytest.raises(ValueError):
        create_app({"REQUIRE_JWT": False, "FEEDBACK_DATABASE": "sqlite://", "FORWARDED_ALLOW_IPS": ["proxy.local"]})
