"""How `cds-service serve` runs the app: hypercorn's asyncio workers in front of the WSGI app (README, Serving).

Why hypercorn: a connection costs a coroutine, not a thread, until its request has fully arrived, and its
keep-alive timer runs from the moment a connection opens until a request's headers are complete, so it is
also the deadline for trickled headers. The body is read whole by http/buffered.py within its own deadline.
(gunicorn's thread workers give each trickling client a thread; its asyncio worker and uvicorn have no
deadline for headers that never finish.)

Workers are spawned processes: each imports `application(...)` afresh, so logging is set up there too.
A worker that dies stops the server (hypercorn does not restart it); the orchestrator restarts the container.
"""
from __future__ import annotations

import argparse
import logging

from hypercorn.config import Config

HEADER_TIMEOUT = 5.0  # seconds from connection (or the previous answer) to the end of a request's headers
MAX_HEADER_BYTES = 16 * 1024


def hypercorn_config(args: argparse.Namespace) -> Config:
    config = Config()
    config.bind = [f"{args.host}:{args.port}"]
    config.workers = args.workers
    config.keep_alive_timeout = HEADER_TIMEOUT
    config.h11_max_incomplete_size = MAX_HEADER_BYTES
    config.graceful_timeout = 10
    config.include_server_header = False
    # Logger objects, not file names: the worker's own records go through the service's JSON handler.
    config.errorlog = logging.getLogger("cds_service.server")
    config.accesslog = logging.getLogger("cds_service.access") if args.access_log else None
    config.access_log_format = ACCESS_LOG_FORMAT
    # Evaluated in each worker (hypercorn splits the path at colons, so the arguments must have none).
    config.application_path = (f"asgi:cds_service.serving:application(threads={args.threads:d}, "
                               f"body_timeout={float(args.body_timeout)!r}, log_level={str(args.log_level)!r}, "
                               f"json_lines={args.log_format == 'json'!r}, large_bodies={args.large_bodies:d})")
    return config


# The path without its query, and no Referer: a browser client's Referer is the page that called, e.g. the
# sandbox's "?patientId=...&fhirServiceUrl=...". L is the request's duration in seconds.
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(m)s %(U)s HTTP/%(H)s" %(s)s %(B)s %(L)ss "%(a)s"'


def application(*, threads: int, body_timeout: float, log_level: str, json_lines: bool, large_bodies: int = 1):
    """Run in each worker process; the service's settings come from the CDS_* environment, as create_app's."""
    from . import create_app
    from .http.buffered import BufferedWSGI
    from .observability.logs import configure

    configure(log_level, json_lines=json_lines)
    app = create_app()  # configuration from CDS_* environment variables
    return BufferedWSGI(app, max_body=app.config["MAX_CONTENT_LENGTH"], body_timeout=body_timeout,
                        threads=threads, forwarded_allow_ips=app.config["FORWARDED_ALLOW_IPS"],
                        large_bodies=large_bodies)
