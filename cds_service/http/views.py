"""CDS Hooks endpoints. Each view: trust, parse, validate, act; errors leave through cds_service.errors."""
from __future__ import annotations

import time

import logging

from flask import Blueprint, current_app, g, jsonify, request

from .. import schemas
from ..errors import BadRequest, ServiceError, Unauthorized
from ..feedback.guard import StoreUnavailable
from ..observability.instrument import count_cards
from .decode import MalformedJson, decode
from ..prefetch import resolve_patient_data
from ..services import SERVICES

log = logging.getLogger(__name__)

bp = Blueprint("cds", __name__)


@bp.before_request
def authenticate():
    if request.method == "OPTIONS":
        return None
    state = current_app.extensions["cds"]
    if state.verifier is None:
        g.client = None
        return None
    g.client = state.verifier.verify(request.headers.get("Authorization"), audience=_endpoint_url())
    return None


@bp.get("/cds-services")
def discovery():
    return jsonify({"services": [service.discovery_entry() for service in SERVICES.values()]})


@bp.post("/cds-services/<service_id>")
def invoke(service_id: str):
    service = _service(service_id)
    state = current_app.extensions["cds"]
    now = state.now()
    body = _json_body("request")
    g.hook_instance = body["hookInstance"]
    if body["hook"] != service.hook:
        raise BadRequest(f"service {service.id} answers the {service.hook} hook only", "hook")
    client = g.get("client")
    allowlist = tuple(current_app.config["FHIR_SERVERS"]) + (client.fhir_servers if client else ())
    deadline = _hook_deadline()
    reserve = current_app.config["HOOK_RESERVE_SECONDS"]
    data, record, issued = answer_hook(service, body, state, now=now, allowlist=allowlist, deadline=deadline,
                                       reserve=reserve)
    for observe in state.observers:
        observe(record, issued)
    cards = [i.card for i in issued]
    response = {"cards": cards}
    _check_response(response)
    state.feedback_store.record_issued_cards(service.id, body["hookInstance"],
                                             [(i.card["uuid"], i.topic, i.indicator) for i in issued])
    count_cards(issued)
    log.info("hookInstance=%s service=%s cards=%d sources=%s dropped=%s invalid=%s", body["hookInstance"],
             service.id, len(cards), data.origin, dict(data.dropped), dict(record.invalid))
    return jsonify(response)


def answer_hook(service, body: dict, state, *, now, allowlist: tuple[str, ...], deadline: float, reserve: float):
    """The patient's data, record and issued cards for a checked hook request: the one path from a request to
    its cards, taken by the hook and by the governance gallery (which must show the cards an EHR gets).
    Nothing is stored here."""
    data = resolve_patient_data(body, service.prefetch, state.fetch_settings, allowlist,
                                fetch_until=deadline - reserve, now=now, relevant=state.engine.relevant(now))
    record = state.engine.record(data.patient, data.resources, now, unavailable=data.unavailable,
                                 deadline=deadline, partial=data.partial)
    return data, record, service.evaluate(record, state.engine)


def _hook_deadline() -> float:
    """time.monotonic() by which the hook must be answered, counted from when the request arrived."""
    arrived = g.get("started")
    spent = time.perf_counter() - arrived if arrived is not None else 0.0
    return time.monotonic() - spent + current_app.config["HOOK_DEADLINE_SECONDS"]


@bp.post("/cds-services/<service_id>/feedback")
def feedback(service_id: str):
    service = _service(service_id)
    body = _json_body("feedback")
    client = g.get("client")
    try:
        stored = current_app.extensions["cds"].feedback_store.add_feedback(
            service.id, body["feedback"], client.iss if client else None)
    except StoreUnavailable:
        # Not stored, so not acknowledged: the client may send it again (CDS Hooks feedback is idempotent here:
        # one row per entry received).
        raise ServiceError(503, "the feedback store is unavailable: the feedback was not stored; send it again "
                                "later", headers={"Retry-After": "5"}) from None
    log.info("feedback service=%s entries=%d", service.id, stored)
    return jsonify({})


def _service(service_id: str):
    try:
        return SERVICES[service_id]
    except KeyError:
        raise ServiceError(404, "no CDS service with that id; GET /cds-services lists them") from None


def _json_body(schema_name: str) -> dict:
    """The request body, decoded and checked against its schema; 413 over MAX_CONTENT_LENGTH, else 400."""
    try:
        body = decode(request.get_data(cache=False))  # over MAX_CONTENT_LENGTH: 413 before any parsing
    except MalformedJson as error:
        raise BadRequest(str(error)) from None
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    if _deeper_than(body, MAX_CDS_DEPTH, skip="prefetch"):
        raise BadRequest(f"the request nests deeper than {MAX_CDS_DEPTH} levels")
    error = schemas.first_error(schema_name, body)
    if error is not None:
        path = schemas.error_path(error)
        raise BadRequest(f"{path}: {schemas.safe_message(error)}", path)
    return body


# The CDS Hooks envelope is shallow; FHIR resources in prefetch are read, never validated recursively by
# jsonschema, so only the envelope needs this bound (jsonschema recurses once per level).
MAX_CDS_DEPTH = 32


def _deeper_than(value: object, limit: int, skip: str | None = None) -> bool:
    stack = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for key, child in node.items() if key != skip or depth > 0)
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
    return False


def _check_response(response: dict) -> None:
    if current_app.config["VALIDATE_RESPONSES"]:
        error = schemas.first_error("response", response)
        if error is not None:
            raise RuntimeError(f"response fails its schema at {schemas.error_path(error)}: {error.message}")


def _endpoint_url() -> str:
    """The exact URL the client called, which its JWT's aud must equal: always from PUBLIC_BASE_URL (start-up
    refuses REQUIRE_JWT without it), never from the request, whose Host header the caller writes."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + request.path


__all__ = ["bp", "answer_hook", "Unauthorized"]
