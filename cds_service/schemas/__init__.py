"""JSON Schemas (Draft 2020-12) for CDS Hooks 2.0.1 requests, responses, discovery and feedback."""
from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource

_NAMES = ("common", "request", "response", "discovery", "feedback")
_PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


@lru_cache(maxsize=1)
def _registry() -> Registry:
    registry = Registry()
    for name in _NAMES:
        contents = json.loads(resources.files(__package__).joinpath(f"{name}.schema.json").read_text("utf-8"))
        registry = registry.with_resource(contents["$id"], Resource.from_contents(contents))
    return registry


@lru_cache(maxsize=None)
def validator(name: str) -> Draft202012Validator:
    """A compiled validator for one of: request, response, discovery, feedback."""
    schema = _registry().contents(f"https://posterior-knee-pain.example/schemas/{name}.schema.json")
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, registry=_registry())


def first_error(name: str, instance: object) -> ValidationError | None:
    """The most relevant validation error, or None when the instance is valid."""
    return best_match(validator(name).iter_errors(instance))


def error_path(error: ValidationError) -> str:
    """A FHIRPath-like location of the error, e.g. `context.patientId` or `feedback[0].outcome`."""
    path = ""
    for part in error.absolute_path:
        if not isinstance(part, int):
            # Member names come from the request: keep them short, and never echo one that looks like a token.
            part = str(part)
            part = part if len(part) <= 40 and _PLAIN_NAME.match(part) else "<member>"
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "$"


def safe_message(error: ValidationError) -> str:
    """Why the instance failed, without echoing any of its values (they may hold a token)."""
    keyword = error.validator
    if keyword == "required":
        missing = [name for name in error.validator_value if isinstance(error.instance, dict)
                   and name not in error.instance]
        return f"missing required member(s): {', '.join(missing)}"
    if keyword == "dependentRequired":
        return f"members present require: {error.validator_value}"
    if keyword == "type":
        return f"must be of type {error.validator_value}"
    if keyword in ("enum", "const"):
        return f"must be {'one of ' if keyword == 'enum' else ''}{error.validator_value}"
    if keyword == "pattern":
        return "does not have the required format"
    if keyword in ("minItems", "minLength", "minProperties"):
        return "must not be empty"
    if keyword == "maxLength":
        return f"longer than {error.validator_value} characters"
    if keyword == "not" and error.instance is None:
        return "must not be null"
    if keyword == "additionalProperties":
        return "has members that are not allowed here"
    return f"fails the '{keyword}' rule"
