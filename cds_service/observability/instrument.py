"""Request ids, and the request metrics every endpoint gets, installed on the app."""
from __future__ import annotations

import re
import time
import uuid

from flask import Flask, Response, g, request

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def install_metrics(app: Flask, route: bool = True) -> None:
    from . import metrics

    @app.before_request
    def _start():
        g.started = time.perf_counter()
        supplied = request.headers.get("X-Request-Id", "")
        g.request_id = supplied if _REQUEST_ID.match(supplied) else uuid.uuid4().hex

    @app.after_request
    def _observe(response: Response) -> Response:
        endpoint = request.url_rule.rule if request.url_rule is not None else "unmatched"
        metrics.REQUESTS.labels(endpoint, request.method, str(response.status_code)).inc()
        if "started" in g:
            metrics.LATENCY.labels(endpoint).observe(time.perf_counter() - g.started)
        if "request_id" in g:
            response.headers["X-Request-Id"] = g.request_id
        return response

    if route:
        @app.get("/metrics")
        def _metrics():
            body, content_type = metrics.exposition()
            return Response(body, content_type=content_type)


def count_cards(issued) -> None:
    """Cards answered, by the topic and indicator of the finding each was rendered from."""
    from . import metrics

    for card in issued:
        metrics.CARDS.labels(card.topic, card.indicator).inc()


def count_rejection(reason: str) -> None:
    from . import metrics

    metrics.JWT_REJECTIONS.labels(reason).inc()


def count_fetch_error(key: str) -> None:
    from . import metrics

    metrics.FETCH_ERRORS.labels(key).inc()


def count_issued_dropped(count: int) -> None:
    from . import metrics

    metrics.ISSUED_DROPPED.inc(count)


def count_replay_fallback() -> None:
    from . import metrics

    metrics.REPLAY_FALLBACK.inc()
