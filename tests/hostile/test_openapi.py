"""cds_service/openapi.json: a valid OpenAPI 3.1 document, generated from the service's own JSON Schemas (never
drifting from them), describing every route the app has and nothing it lacks."""
from __future__ import annotations

import json

import jsonschema
import pytest
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from cds_service.errors import operation_outcome
from tests.hostile.openapi_build import build, render
from tests.hostile.support import OPENAPI_PATH, SERVICE, empty_prefetch, envelope, make_app

DOCUMENT = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
DOC_URI = "urn:cds-service:openapi"


def component_validator(name: str) -> jsonschema.Draft202012Validator:
    """A validator for one component schema, its $refs resolved inside the document."""
    registry = Registry().with_resource(DOC_URI, Resource(contents=DOCUMENT, specification=DRAFT202012))
    return jsonschema.Draft202012Validator({"$ref": f"{DOC_URI}#/components/schemas/{name}"}, registry=registry)


def test_the_document_is_valid_openapi_3_1():
    assert DOCUMENT["openapi"].startswith("3.1")
    validate(DOCUMENT)


def test_the_document_is_generated_from_the_service_schemas():
    """Regenerate with `python -m tests.hostile.openapi_build > cds_service/openapi.json` after changing
    cds_service/schemas/*.json."""
    assert DOCUMENT == build(), "cds_service/openapi.json is stale: regenerate it (see this test's docstring)"
    assert OPENAPI_PATH.read_text(encoding="utf-8") == render()


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return make_app(tmp_path_factory.mktemp("openapi"))


def _openapi_path(rule: str) -> str:
    return rule.replace("<service_id>", "{service_id}").replace("<path:filename>", "{filename}")


def test_every_route_of_the_app_is_documented_and_nothing_else(app):
    routes = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        routes[_openapi_path(rule.rule)] = {m.lower() for m in rule.methods} - {"head", "options"}
    documented = {path: set(item) for path, item in DOCUMENT["paths"].items()}
    assert documented == routes


def test_every_documented_error_is_an_operation_outcome_the_service_really_makes():
    validator = component_validator("OperationOutcome")
    for status in (400, 404, 405, 412, 413):
        validator.validate(operation_outcome(status, "why", "prefetch.patient"))
        validator.validate(operation_outcome(status, "why"))
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            codes = set(operation["responses"])
            assert "200" in codes and "405" in codes, (method, path)
            if path not in ("/healthz", "/readyz", "/metrics", "/openapi.json") \
                    and not path.startswith("/governance/"):  # pages for people, no JWT (GOVERNANCE_PAGES)
                assert "401" in codes, (method, path)
            if method == "post":
                assert {"400", "401", "404", "413"} <= codes, (method, path)


def test_real_answers_validate_against_the_documented_schemas(app):
    client = app.test_client()
    component_validator("DiscoveryResponse").validate(client.get("/cds-services").get_json())
    component_validator("Health").validate(client.get("/healthz").get_json())
    component_validator("Readiness").validate(client.get("/readyz").get_json())
    body = envelope(empty_prefetch())
    component_validator("HookRequest").validate(body)
    component_validator("CdsHooksResponse").validate(client.post(SERVICE, json=body).get_json())
    feedback = {"feedback": [{"card": "c", "outcome": "overridden", "outcomeTimestamp": "2026-11-22T12:00:00Z"}]}
    component_validator("FeedbackRequest").validate(feedback)
    component_validator("FeedbackAccepted").validate(client.post(SERVICE + "/feedback", json=feedback).get_json())


def test_security_is_a_bearer_jwt_everywhere_but_healthz():
    scheme = DOCUMENT["components"]["securitySchemes"]["cdsClientJwt"]
    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "JWT")
    assert DOCUMENT["security"] == [{"cdsClientJwt": []}]
    assert DOCUMENT["paths"]["/healthz"]["get"]["security"] == []
    assert DOCUMENT["paths"]["/metrics"]["get"]["security"] == []
    assert DOCUMENT["paths"]["/openapi.json"]["get"]["security"] == []
