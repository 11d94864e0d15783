"""Every error leaves as a FHIR OperationOutcome with the right status; 401 leaves bare.

No stack trace, no request data and no credential ever reaches an error body.
"""
from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from .observability.instrument import count_rejection

log = logging.getLogger(__name__)

# HTTP status -> OperationOutcome issue type (http://hl7.org/fhir/issue-type)
_ISSUE_CODE = {
    400: "invalid",
    404: "not-found",
    405: "not-supported",
    412: "incomplete",
    413: "too-costly",
    415: "not-supported",
    500: "exception",
    503: "transient",
}


class ServiceError(Exception):
    """An error the service means to return, with a status and a message safe to show the caller."""

    def __init__(self, status: int, message: str, expression: str | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.expression = expression
        self.headers = headers or {}


class BadRequest(ServiceError):
    def __init__(self, message: str, expression: str | None = None):
        super().__init__(400, message, expression)


class PreconditionFailed(ServiceError):
    """The data the rules need could not be obtained (CDS Hooks: 412)."""

    def __init__(self, message: str, expression: str | None = None):
        super().__init__(412, message, expression)


class Unauthorized(Exception):
    """The caller is not a trusted CDS client. The reason (a fixed phrase, also a metric label) and its
    detail (what was expected, never the token) are for the log only; the answer is a bare 401."""

    def __init__(self, reason: str, detail: str | None = None):
        super().__init__(reason)
        self.detail = detail


def operation_outcome(status: int, message: str, expression: str | None = None) -> dict:
    issue = {"severity": "error", "code": _ISSUE_CODE.get(status, "processing"), "diagnostics": message}
    if expression:
        issue["expression"] = [expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def error_response(status: int, message: str, expression: str | None = None) -> Response:
    response = jsonify(operation_outcome(status, message, expression))
    response.status_code = status
    return response


def unauthorized_response() -> Response:
    return Response(status=401, headers={"WWW-Authenticate": 'Bearer realm="cds-services"'})


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def _service_error(error: ServiceError):
        response = error_response(error.status, error.message, error.expression)
        response.headers.update(error.headers)
        return response

    @app.errorhandler(Unauthorized)
    def _unauthorized(error: Unauthorized):
        log.info("rejected client credentials: %s%s", error, f" ({error.detail})" if error.detail else "")
        count_rejection(str(error))  # a fixed phrase per cause (trust/verify.py): bounded label values
        return unauthorized_response()

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        if error.code == 401:
            return unauthorized_response()
        response = error_response(error.code or 500, error.description or error.name)
        if error.code == 405 and hasattr(error, "valid_methods") and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        # A real bug: log it with the trace, answer without one.
        log.exception("unhandled error")
        return error_response(500, "internal error; the service logged it")
