"""A last line of defence: whatever a log record says, a JWT or a bearer token is masked before output, and
the HTTP client library never writes a request path (FHIR search paths hold patient ids).

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


# urllib3 (under requests) names every request it makes: at DEBUG 'GET /fhir/Condition?patient=<id>', and in a
# few warnings (headers it could not parse, retries) the whole URL. Its DEBUG lines are switched off; in what
# remains the origin is kept (which server) and the path and query withheld.
_REQUEST_LIBRARY = "urllib3"
# A URL's path (after scheme://host) or a bare path (after a space, quote, '(' or '='): not "HTTP/1.1".
_URL_PATH = re.compile(r"([a-z][a-z0-9+.-]*://[^/\s'\"()]+)/[^\s'\"()]*|(?:(?<=[\s'\"(=])|^)/[^\s'\"()]*",
                       re.IGNORECASE)


def withhold_paths(text: str) -> str:
    return _URL_PATH.sub(lambda m: (m.group(1) or "") + "/[path withheld]", text)


def _scrub(record: logging.LogRecord) -> logging.LogRecord:
    try:
        message = record.getMessage()
    except Exception:  # a malformed log call is not ours to fix here
        return record
    cleaned = redact(message)
    if record.name == _REQUEST_LIBRARY or record.name.startswith(_REQUEST_LIBRARY + "."):
        cleaned = withhold_paths(cleaned)
    if cleaned != message:
        record.msg, record.args = cleaned, None
    if record.exc_info and record.exc_info[1] is not None:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        record.exc_info = None
    return record


_installed = False


def install_redaction() -> None:
    """Scrub every log record as it is made, so every handler (ours, gunicorn's, a test's) sees it clean; and
    keep urllib3's per-request DEBUG lines from being made at all, whatever level the root logger is at."""
    global _installed
    logging.getLogger(_REQUEST_LIBRARY).setLevel(logging.WARNING)
    if _installed:
        return
    make_record = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        return _scrub(make_record(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    _installed = True
