"""`cds-service serve`: the service under gunicorn (production-grade: pre-forked workers, timeouts)."""
from __future__ import annotations

import argparse
import logging
import sys

from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict):
        self._options = options
        super().__init__()

    def load_config(self):
        for key, value in self._options.items():
            if key in self.cfg.settings:  # settings newer than the installed gunicorn are skipped
                self.cfg.set(key, value)

    def load(self):
        from . import create_app

        return create_app()  # configuration from CDS_* environment variables


def serve(args: argparse.Namespace) -> int:
    _Gunicorn({
        "bind": f"{args.host}:{args.port}",
        "workers": args.workers,
        "threads": args.threads,
        "timeout": 30,
        "graceful_timeout": 10,
        "keepalive": 5,
        "accesslog": "-" if args.access_log else None,
        "errorlog": "-",
        "loglevel": args.log_level,
        "preload_app": False,
        # gunicorn 25+ opens a control socket under $HOME, which a read-only container home refuses.
        "control_socket_disable": True,
    }).run()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cds-service", description="CDS Hooks service: posterior knee pain")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="run the service under gunicorn")
    serve_parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve_parser.add_argument("--port", type=int, default=8080)
    serve_parser.add_argument("--workers", type=int, default=2, help="worker processes (about one per core)")
    serve_parser.add_argument("--threads", type=int, default=4, help="threads per worker")
    serve_parser.add_argument("--log-level", default="info")
    serve_parser.add_argument("--access-log", action="store_true", help="log each request line")
    serve_parser.set_defaults(handler=serve)
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper() if hasattr(args, "log_level") else "INFO",
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
