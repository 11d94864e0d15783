"""The floor for this stack: a Flask endpoint that parses the same JSON body and returns no cards."""
from __future__ import annotations

from flask import Flask, jsonify, request


def create_baseline() -> Flask:
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 256 * 1024 * 1024

    @app.post("/cds-services/posterior-knee-pain")
    def invoke():
        request.get_json()
        return jsonify({"cards": []})

    @app.get("/healthz")
    def healthz():
        return jsonify({"status": "ok"})

    return app
