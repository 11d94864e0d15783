"""JSON Schemas (Draft 2020-12) for CDS Hooks 2.0.1 requests, responses, discovery and feedback.

Two validators read the same schemas. jsonschema-rs (Rust) answers "valid?" in microseconds, where the
Python jsonschema took 0.7 ms per hook; only when it says no (or cannot read the instance) does the Python
validator run, to find the most relevant error and word it. Where the Rust one refuses what the Python
one lets through, the Rust verdict stands: it follows the spec's ECMA-262 patterns, in which `$` is the end of
the text, where Python's `$` also matches before a final newline (`patientId: "abc\\n"`). The other way round
(Rust accepts what Python refuses) must never happen: the test suite sets CROSS_CHECK, so every body it sends
is judged by both.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources

import jsonschema_rs
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


@lru_cache(maxsize=None)
def fast_validator(name: str):
    registry = _registry()
    rs_registry = jsonschema_rs.Registry([(uri, registry.contents(uri)) for uri in registry])
    schema = registry.contents(f"https://posterior-knee-pain.example/schemas/{name}.schema.json")
    return jsonschema_rs.Draft202012Validator(schema, registry=rs_registry)


# Set by the test suite: every instance is then judged by both validators, and a disagreement in the unsafe
# direction (Rust says valid, Python finds an error) raises.
CROSS_CHECK = False


class ValidatorsDisagree(AssertionError):
    pass


def first_error(name: str, instance: object) -> ValidationError | None:
    """The most relevant validation error, or None when the instance is valid."""
    try:
        fast_says_valid = fast_validator(name).is_valid(instance)
    except (ValueError, TypeError):  # a value it cannot read (e.g. raw prefetch entries): the Python one decides
        fast_says_valid = False
    if fast_says_valid and not CROSS_CHECK:
        return None
    error = best_match(validator(name).iter_errors(instance))
    if fast_says_valid and error is not None:
        raise ValidatorsDisagree(f"{name}: jsonschema-rs accepts what jsonschema refuses at {error_path(error)} "
                                 f"({error.validator})")
    if error is None and not fast_says_valid:
        error = _fast_error(name, instance)
    return error


def _fast_error(name: str, instance: object) -> ValidationError | None:
    """The Rust validator's first error, in the Python one's terms (its keyword and where it is)."""
    try:
        found = next(iter(fast_validator(name).iter_errors(instance)), None)
    except (ValueError, TypeError):
        return None
    if found is None:
        return None
    keyword = found.schema_path[-1] if found.schema_path else "schema"
    return ValidationError("", validator=str(keyword), path=list(found.instance_path))


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
    if keyword == "required" and isinstance(error.validator_value, list):
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
    if keyword == "maxItems":
        return f"more than {error.validator_value} entries"
    if keyword == "maxLength":
        return f"longer than {error.validator_value} characters"
    if keyword == "not" and error.instance is None:
        return "must not be null"
    if keyword == "additionalProperties":
        return "has members that are not allowed here"
    return f"fails the '{keyword}' rule"
