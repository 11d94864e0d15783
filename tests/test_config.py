"""Configuration from CDS_<KEY> environment variables (the command line's source) and start-up checks."""
from __future__ import annotations

import json

import pytest

from cds_service import config, create_app


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
    [{"iss": "https://x", "jku": "https://x/jwks", "jwks": {"keys": []}}],
])
def test_unusable_trusted_issuers_fail_at_start_up(tmp_path, issuers):
    with pytest.raises(ValueError):
        create_app({"TRUSTED_ISSUERS": issuers, "FEEDBACK_DATABASE": "sqlite://"})


def test_symmetric_algorithms_cannot_be_configured():
    with pytest.raises(ValueError):
        create_app({"JWT_ALGORITHMS": ["HS256"], "FEEDBACK_DATABASE": "sqlite://"})


def test_default_feedback_database_is_a_file_in_the_instance_folder():
    app = create_app({"REQUIRE_JWT": False})
    assert app.config["FEEDBACK_DATABASE"].startswith("sqlite:///")
    assert app.config["FEEDBACK_DATABASE"].endswith("instance/feedback.sqlite3")
