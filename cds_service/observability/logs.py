"""Structured JSON logs: one object a line, with the request id and the hookInstance of the request being
served. No tokens (logging_setup scrubs every record) and no PHI: the service logs identifiers of the
exchange (hookInstance, request id), counts and reasons — never names, free text or patient data."""
from __future__ import annotations

import json
import logging
from datetime import datetime, timezone


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("request_id", "hook_instance"):
            value = getattr(record, key, None)
            if value:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


class RequestContextFilter(logging.Filter):
    """Adds the current request's id and hookInstance (from flask.g) to every record made while serving it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            from flask import g, has_request_context
        except ImportError:  # pragma: no cover
            return True
        if has_request_context():
            record.request_id = g.get("request_id")
            record.hook_instance = g.get("hook_instance")
        return True


def configure(level: str = "INFO", json_lines: bool = True) -> None:
    """Root logging for the command line: JSON lines to stderr (or plain text for a terminal)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s", defaults={"request_id": "-"}))
    handler.addFilter(RequestContextFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
