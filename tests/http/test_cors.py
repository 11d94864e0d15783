"""CORS for browser-based clients such as the public CDS Hooks sandbox (its recorded preflights)."""
from __future__ import annotations

import pytest

from cds_service import create_app
from tests.conftest import make_config


@pytest.mark.parametrize("path, method, asked", [
    ("/cds-services", "GET", "authorization"),
    ("/cds-services/posterior-knee-pain", "POST", "authorization,content-type"),
    ("/cds-services/posterior-knee-pain/feedback", "POST", "authorization,content-type"),
])
def test_preflight_is_answered_without_a_jwt(app, path, method, asked):
    response = app.test_client().options(path, headers={
        "Origin": "http://127.0.0.1:8093", "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": asked})
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed
    assert method in response.headers["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_actual_responses_carry_the_origin_header(client):
    response = client.get("/cds-services", headers={"Origin": "http://127.0.0.1:8093"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_401_is_readable_by_the_browser_too(app):
    response = app.test_client().get("/cds-services", headers={"Origin": "http://127.0.0.1:8093"})
    assert response.status_code == 401
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_configured_origins_only(tmp_path, client_key):
    app = create_app(make_config(tmp_path, client_key, CORS_ORIGINS=["https://ehr.example"]))
    preflight = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}
    ok = app.test_client().options("/cds-services", headers={"Origin": "https://ehr.example", **preflight})
    assert ok.headers["Access-Control-Allow-Origin"] == "https://ehr.example"
    other = app.test_client().options("/cds-services", headers={"Origin": "https://evil.example", **preflight})
    assert "Access-Control-Allow-Origin" not in other.headers
