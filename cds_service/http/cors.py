"""CORS for browser-based CDS clients (the public CDS Hooks sandbox, SMART apps): any configured origin,
never with credentials, preflight allowing the Authorization header. Preflights are answered before
authentication, as browsers send them without the JWT."""
from __future__ import annotations

from flask import Flask, Response, request

ALLOWED_HEADERS = "Authorization, Content-Type"
ALLOWED_METHODS = "GET, POST, OPTIONS"


def exempt(app: Flask, blueprint_name: str) -> None:
    """A blueprint whose pages no other origin may read (the governance pages): no CORS header, no preflight
    answer. Browsers then keep them to their own origin."""
    app.extensions.setdefault("cors_exempt", set()).add(blueprint_name)


def install(app: Flask) -> None:
    origins = list(app.config["CORS_ORIGINS"])
    any_origin = "*" in origins

    exempted = app.extensions.setdefault("cors_exempt", set())

    def allowed_origin() -> str | None:
        origin = request.headers.get("Origin")
        if any_origin:
            return "*"
        return origin if origin in origins else None

    @app.before_request
    def _preflight():
        if request.blueprint in exempted:
            return None
        if request.method == "OPTIONS" and request.headers.get("Access-Control-Request-Method"):
            return Response(status=204)
        return None

    @app.after_request
    def _cors_headers(response: Response) -> Response:
        origin = None if request.blueprint in exempted else allowed_origin()
        if origin is None:
            return response
        response.headers["Access-Control-Allow-Origin"] = origin
        if origin != "*":
            response.headers.add("Vary", "Origin")
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
            response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
            response.headers["Access-Control-Max-Age"] = "600"
        else:
            response.headers["Access-Control-Expose-Headers"] = "WWW-Authenticate"
        return response
