"""A last line of defence: whatever a log record says, a JWT or a bearer token is masked before output.

The code never logs credentials on purpose; this catches the accident (an exception message quoting a
header, a library's debug line)."""
from __future__ import annotations

import logging
import re

_SECRET = re.compile(
    r"(eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*)"  # a JWS/JWT
    r"|((?i:bearer)\s+[A-Za-z0-9._~+/=-]{8,})"  # a bearer credential
    r"|((?i:access_token)[\"']?\s*[:=]\s*[\"']?[^\"'\s,}]{4,})"
)


def redact(text: str) -> str:
    return _SECRET.sub("[REDACTED]", text)


def _scrub(record: logging.LogRecord) -> logging.LogRecord:
    try:
        message = record.getMessage()
    except Exception:  # a malformed log call is not ours to fix here
        return record
    cleaned = redact(message)
    if cleaned != message:
        record.msg, record.args = cleaned, None
    if record.exc_info and record.exc_info[1] is not None:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        record.exc_info = None
    return record


_installed = False


def install_redaction() -> None:
    """Scrub every log record as it is made, so every handler (ours, gunicorn's, a test's) sees it clean."""
    global _installed
    if _installed:
        return
    make_record = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        return _scrub(make_record(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    _installed = True
