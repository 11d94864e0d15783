"""Builds cds_service/openapi.json (OpenAPI 3.1) from the service's own JSON Schemas, so the document cannot
drift from what the views validate: tests/hostile/test_openapi.py fails when the file differs from build().

Regenerate after changing cds_service/schemas/*.json:

    python -m tests.hostile.openapi_build > cds_service/openapi.json
"""
from __future__ import annotations

import copy
import json
import sys
from importlib import resources

SCHEMA_NAMES = ("common", "request", "response", "discovery", "feedback")
# Each top-level JSON Schema becomes one component; each $defs entry becomes <Prefix>_<name>.
COMPONENT_NAMES = {
    "request": "CdsHooksRequest",
    "response": "CdsHooksResponse",
    "discovery": "DiscoveryResponse",
    "feedback": "FeedbackRequest",
}
DEF_PREFIX = {"common": "Common", "response": "Response", "request": "Request", "discovery": "Discovery",
              "feedback": "Feedback"}
SERVICE_IDS = ["posterior-knee-pain"]
HOOK = "patient-view"


def load_schema(name: str) -> dict:
    text = resources.files("cds_service.schemas").joinpath(f"{name}.schema.json").read_text("utf-8")
    return json.loads(text)


def _rewrite_refs(node, own: str):
    """`common.schema.json#/$defs/x` and `#/$defs/x` become `#/components/schemas/<Prefix>_x`."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                target, _, pointer = value.partition("#")
                source = target.removesuffix(".schema.json") if target else own
                if not pointer.startswith("/$defs/") or source not in DEF_PREFIX:
                    raise ValueError(f"unexpected $ref {value!r} in {own}.schema.json")
                out[key] = f"#/components/schemas/{DEF_PREFIX[source]}_{pointer[len('/$defs/'):]}"
            else:
                out[key] = _rewrite_refs(value, own)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(item, own) for item in node]
    return node


def component_schemas() -> dict:
    components: dict[str, dict] = {}
    for name in SCHEMA_NAMES:
        schema = copy.deepcopy(load_schema(name))
        defs = schema.pop("$defs", {})
        schema.pop("$schema", None)
        schema.pop("$id", None)
        for def_name, definition in defs.items():
            components[f"{DEF_PREFIX[name]}_{def_name}"] = _rewrite_refs(definition, name)
        if name in COMPONENT_NAMES:
            components[COMPONENT_NAMES[name]] = _rewrite_refs(schema, name)
    components["OperationOutcome"] = {
        "title": "FHIR R4 OperationOutcome, as every error except 401 carries it",
        "type": "object",
        "properties": {
            "resourceType": {"const": "OperationOutcome"},
            "issue": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "properties": {
                        "severity": {"enum": ["fatal", "error", "warning", "information"]},
                        "code": {"type": "string", "minLength": 1},
                        "diagnostics": {"type": "string"},
                        "expression": {"type": "array", "minItems": 1, "items": {"type": "string"}},
                    },
                    "required": ["severity", "code"],
                },
            },
        },
        "required": ["resourceType", "issue"],
    }
    components["HookRequest"] = {
        "title": f"A CDS Hooks request for the {HOOK} hook",
        "allOf": [
            {"$ref": "#/components/schemas/CdsHooksRequest"},
            {"properties": {"hook": {"const": HOOK}}},
        ],
    }
    components["FeedbackAccepted"] = {
        "title": "Feedback stored (an empty object)",
        "type": "object",
        "maxProperties": 0,
    }
    components["Health"] = {
        "type": "object",
        "properties": {"status": {"const": "ok"}},
        "required": ["status"],
        "additionalProperties": False,
    }
    components["Readiness"] = {
        "type": "object",
        "properties": {"status": {"enum": ["ready", "degraded", "unavailable"]},
                       "checks": {"type": "object", "additionalProperties": {"type": "string"}}},
        "required": ["status", "checks"],
        "additionalProperties": False,
    }
    return components


def _error(description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OperationOutcome"}}}}


def _json(description: str, schema: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


RESPONSES = {
    "BadRequest": _error("Malformed JSON, a body that fails its schema, or the wrong hook; the OperationOutcome "
                         "names the failing path."),
    "Unauthorized": {
        "description": "The caller's JWT is missing or not trusted. No body.",
        "headers": {"WWW-Authenticate": {"description": 'Always `Bearer realm="cds-services"`.',
                                         "schema": {"type": "string"}}},
    },
    "NotFound": _error("No CDS service with this id."),
    "MethodNotAllowed": {
        **_error("The path exists but not for this method (the `Allow` header lists the methods it takes)."),
        "headers": {"Allow": {"description": "The methods the path takes.", "schema": {"type": "string"}}},
    },
    "PreconditionFailed": _error("The data the rules need could not be obtained (prefetch missing or failed and "
                                 "fhirServer absent, refused or failing); the OperationOutcome names the key."),
    "PayloadTooLarge": _error("Request body larger than MAX_CONTENT_LENGTH."),
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/responses/{name}"}


def _html(description: str) -> dict:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


def governance_paths() -> dict:
    """The read-only pages for the people who govern the cards (cds_service/governance; GOVERNANCE_PAGES)."""
    def page(operation_id: str, summary: str, extra: dict | None = None) -> dict:
        return {"get": {"operationId": operation_id, "tags": ["governance"], "summary": summary, "security": [],
                        "responses": {"200": _html("The page."), **(extra or {}),
                                      "405": _ref("MethodNotAllowed")}}}
    return {
        "/governance/": page("governanceIndex", "The governance pages: what each shows"),
        "/governance/gallery": page(
            "governanceGallery", "Every card topic and variant as an EHR shows it, from the synthetic demo patients"),
        "/governance/feedback": page(
            "governanceFeedback", "Cards issued, accepted and overridden per topic and week, and override reasons "
                                  "(aggregates of the feedback store)",
            {"503": {**_html("The feedback store cannot be read now."),
                     "headers": {"Retry-After": {"description": "Seconds.", "schema": {"type": "string"}}}}}),
        "/governance/static/{filename}": {"get": {
            "operationId": "governanceStatic", "tags": ["governance"], "summary": "The pages' style sheet",
            "security": [],
            "parameters": [{"name": "filename", "in": "path", "required": True,
                            "schema": {"type": "string", "enum": ["governance.css"]}}],
            "responses": {"200": {"description": "The style sheet.",
                                  "content": {"text/css": {"schema": {"type": "string"}}}},
                          "304": {"description": "Not modified (conditional request)."},
                          "404": _error("No such file."),
                          "405": _ref("MethodNotAllowed")}}},
    }


def build() -> dict:
    service_id = {
        "name": "service_id",
        "in": "path",
        "required": True,
        "description": "The CDS service id, as discovery lists it.",
        "schema": {"type": "string", "enum": SERVICE_IDS},
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "posterior-knee-pain CDS Hooks service",
            "version": "0.1.0",
            "summary": "CDS Hooks 2.0.1 service (patient-view): posterior knee pain, DVT red flag first.",
            "description": (
                "Discovery, the patient-view hook and card feedback, as in CDS Hooks 2.0.1. Every CDS endpoint "
                "requires the CDS client's JWT (ES384/RS384/ES256/RS256, `aud` = the exact URL called) and "
                "answers a rejected one with a bare 401. Every other error is a FHIR OperationOutcome. "
                "CORS preflight (OPTIONS) is answered with 204 without a JWT and is not described here. "
                "Generated from cds_service/schemas/*.json by tests/hostile/openapi_build.py."),
            "license": {"name": "Proprietary", "identifier": "LicenseRef-Proprietary"},
        },
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "tags": [{"name": "cds-hooks"}, {"name": "operations"}, {"name": "governance"}],
        "security": [{"cdsClientJwt": []}],
        "paths": {
            "/cds-services": {
                "get": {
                    "operationId": "discovery",
                    "tags": ["cds-hooks"],
                    "summary": "Discovery: the services offered, their prefetch templates and usage requirements",
                    "responses": {
                        "200": _json("The services.", "DiscoveryResponse"),
                        "401": _ref("Unauthorized"),
                        "405": _ref("MethodNotAllowed"),
                    },
                },
            },
            "/cds-services/{service_id}": {
                "post": {
                    "operationId": "invokeService",
                    "tags": ["cds-hooks"],
                    "summary": f"Call a service (the {HOOK} hook): answers with cards",
                    "parameters": [service_id],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HookRequest"}}},
                    },
                    "responses": {
                        "200": _json("The cards (possibly none).", "CdsHooksResponse"),
                        "400": _ref("BadRequest"),
                        "401": _ref("Unauthorized"),
                        "404": _ref("NotFound"),
                        "405": _ref("MethodNotAllowed"),
                        "412": _ref("PreconditionFailed"),
                        "413": _ref("PayloadTooLarge"),
                    },
                },
            },
            "/cds-services/{service_id}/feedback": {
                "post": {
                    "operationId": "cardFeedback",
                    "tags": ["cds-hooks"],
                    "summary": "Feedback on cards (accepted or overridden); stored before the 200",
                    "parameters": [service_id],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/FeedbackRequest"}}},
                    },
                    "responses": {
                        "200": _json("Stored.", "FeedbackAccepted"),
                        "400": _ref("BadRequest"),
                        "401": _ref("Unauthorized"),
                        "404": _ref("NotFound"),
                        "405": _ref("MethodNotAllowed"),
                        "413": _ref("PayloadTooLarge"),
                    },
                },
            },
            "/metrics": {
                "get": {
                    "operationId": "metrics",
                    "tags": ["operations"],
                    "summary": "Prometheus metrics (requests, latency, cards, JWT rejections, fetch errors)",
                    "description": ("Served while METRICS_ENABLED (the default); no JWT, so keep it off the public "
                                    "ingress. Summed across the worker processes."),
                    "security": [],
                    "responses": {
                        "200": {"description": "Prometheus text exposition format.",
                                "content": {"text/plain": {"schema": {"type": "string"}}}},
                        "405": _ref("MethodNotAllowed"),
                    },
                },
            },
            "/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "tags": ["operations"],
                    "summary": "This OpenAPI 3.1 document",
                    "security": [],
                    "responses": {
                        "200": {"description": "The service's OpenAPI document.",
                                "content": {"application/json": {"schema": {"type": "object"}}}},
                        "405": _ref("MethodNotAllowed"),
                    },
                },
            },
            "/healthz": {
                "get": {
                    "operationId": "healthz",
                    "tags": ["operations"],
                    "summary": "Liveness for load balancers",
                    "security": [],
                    "responses": {
                        "200": _json("Alive.", "Health"),
                        "405": _ref("MethodNotAllowed"),
                    },
                },
            },
            **governance_paths(),
            "/readyz": {
                "get": {
                    "operationId": "readyz",
                    "tags": ["operations"],
                    "summary": "Readiness, with the state of the feedback and jti databases",
                    "description": ("ready: every store answers. degraded (200): a shared database is down; hooks "
                                    "are still answered, feedback gets 503, the jti check uses this process's "
                                    "memory. unavailable (503): this pod's own SQLite store is gone or "
                                    "unwritable."),
                    "security": [],
                    "responses": {
                        "200": _json("Ready or degraded.", "Readiness"),
                        "503": _json("This pod's own store cannot be used.", "Readiness"),
                        "405": _ref("MethodNotAllowed"),
                    },
                },
            },
        },
        "components": {
            "securitySchemes": {
                "cdsClientJwt": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": ("The CDS client's signed JWT (CDS Hooks 2.0 'Trusting CDS Clients'): `iss` "
                                    "allowlisted, key found by `kid` in the issuer's JWK Set, `aud` the exact "
                                    "URL called, `exp`/`iat`/`jti` required."),
                },
            },
            "schemas": component_schemas(),
            "responses": RESPONSES,
        },
    }


def render() -> str:
    return json.dumps(build(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
