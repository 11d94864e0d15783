"""The `cds-service` command.

serve            the service under hypercorn (asyncio workers: slow clients hold no thread; README, Serving)
check            call the hook for one patient of a FHIR server and show the cards (tools/check.py)
demo load|list   synthetic demo patients, one per card topic, for any FHIR server (tools/demo.py)
demo serve       the service and a local FHIR server holding the demo patients, on loopback (tools/demo_server.py)
feedback report  acceptance and override rates per card topic and reason (tools/feedback_report.py)

This module only wires arguments; each command's logic is in cds_service/tools/.
"""
from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import sys
import tempfile
import textwrap
from pathlib import Path
from urllib.parse import urlsplit

from . import config as config_module
from . import create_app
from .fhir_dates import parse_moment
from .observability.logs import configure


def _prepare_metrics_storage() -> None:
    """Each hypercorn worker is a process: prometheus-client's multiprocess mode keeps each one's values in
    files that /metrics adds up. The directory must exist, empty, before any worker imports the library."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        directory = tempfile.mkdtemp(prefix="cds-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):
        if name.endswith(".db"):
            os.remove(os.path.join(directory, name))


def serve(args: argparse.Namespace) -> int:
    configure(args.log_level, json_lines=args.log_format == "json")
    # Checked here, before the server starts: a worker failing create_app would only log a worker error.
    try:
        settings = {**config_module.DEFAULTS, **config_module.from_environment()}
        config_module.validate(settings)
    except (OSError, ValueError) as error:
        _err(f"error: cannot start: {error}\n")
        return EXIT_USAGE
    _prepare_metrics_storage()
    if args.metrics_port:
        # The workers (spawned processes) read this; the page is served here, on its own port, instead.
        os.environ["CDS_METRICS_ROUTE"] = "false"
        from .observability.metrics import serve_separately

        try:
            serve_separately(args.metrics_host, args.metrics_port)
        except OSError as error:
            _err(f"error: cannot serve metrics on {args.metrics_host}:{args.metrics_port}: {error.strerror}\n")
            return EXIT_USAGE
    from hypercorn.run import run  # per command: only `serve` loads the server

    from .serving import hypercorn_config

    try:
        return run(hypercorn_config(args))
    except OSError as error:  # binding the port, before any worker starts
        if error.errno not in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            raise
        _err(f"error: cannot serve on {args.host}:{args.port}: {error.strerror}\n")
        return EXIT_USAGE


EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
TOKEN_ENV = "FHIR_ACCESS_TOKEN"


def check(args: argparse.Namespace) -> int:
    from .tools.check import diagnostics, format_cards, run_check  # per command: `serve` loads no tool code

    token = args.token or os.environ.get(TOKEN_ENV) or None
    if args.prefetch:
        from .tools.check import run_check_request
        from .tools.dates import days_since_anchor
        from .tools.examples import moved

        try:
            body = json.loads(Path(args.prefetch).read_text(encoding="utf-8"))
            patient = body["context"]["patientId"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            _err(f"error: {args.prefetch} is not a hook request with context.patientId ({type(error).__name__})\n")
            return EXIT_USAGE
        if not args.as_written:  # written for tools.dates.ANCHOR: moved to today, as `demo load` does
            body = moved(body, days_since_anchor())
        result, where = run_check_request(body, now=args.now), f"the prefetch of {args.prefetch}"
    elif args.fhir_server and args.patient:
        result, patient, where = run_check(args.fhir_server, args.patient, token=token, now=args.now), \
            args.patient, args.fhir_server
    else:  # main() refuses this before any command runs
        raise AssertionError("check needs --fhir-server and --patient, or --prefetch")
    if args.json and result.body is not None:
        _out(json.dumps(result.body, indent=2, ensure_ascii=False) + "\n", token)
    if result.status == 200 and isinstance(result.body, dict):
        if not args.json:
            _out(format_cards(result.body, patient, where, result.evidence), token)
        return EXIT_OK
    _err(f"error: the service answered HTTP {result.status}: {diagnostics(result)}\n", token)
    return EXIT_FAILED


def demo_load(args: argparse.Namespace) -> int:
    from .tools import demo  # per command, keeping start-up light: demo brings in requests

    token = args.token or os.environ.get(TOKEN_ENV) or None
    try:
        patients = demo.select(demo.demo_patients(), args.patient)
    except KeyError as error:
        _err(f"error: {error.args[0]}\n")
        return EXIT_USAGE
    try:
        result = demo.load(args.fhir_server, patients, token=token)
    except demo.DemoLoadError as error:
        _err(f"error: {error}\n", token)
        return EXIT_FAILED
    _out(demo.format_load(result), token)
    return EXIT_OK


def demo_serve(args: argparse.Namespace) -> int:
    import shutil

    from .tools import demo_server  # per command, as above

    try:
        server, loaded = demo_server.start(args.fhir_port)
    except demo_server.DemoServerError as error:
        _err(f"error: {error}\n")
        return EXIT_FAILED
    try:
        os.environ.update(demo_server.service_environment(server.base_url, server.workdir, args.port))
        _out(demo_server.banner(server, loaded, args.port))
        sys.stdout.flush()
        return serve(argparse.Namespace(
            host=demo_server.HOST, port=args.port, workers=1, threads=4, metrics_port=0,
            metrics_host=demo_server.HOST, large_bodies=1, body_timeout=10.0, log_level="info",
            access_log=True, log_format="text"))
    finally:
        server.stop()
        shutil.rmtree(server.workdir, ignore_errors=True)


def demo_list(args: argparse.Namespace) -> int:
    from .tools import demo  # per command, keeping start-up light: demo brings in requests

    patients = demo.demo_patients()
    if args.json:
        _out(json.dumps([{"id": p.id, "expectedTopic": p.topic, "expectedTopics": list(p.expected_topics),
                          "title": p.title} for p in patients], indent=2) + "\n")
    else:
        _out(demo.format_list(patients))
    return EXIT_OK


def feedback_report(args: argparse.Namespace) -> int:
    from .tools import feedback_report as report_tool  # per command: SQLAlchemy alone costs ~0.2 s to import

    try:
        url = args.database or report_tool.default_database_url()
        report = report_tool.build_report(url)
    except (report_tool.ReportError, OSError, ValueError) as error:
        _err(f"error: {error}\n")
        return EXIT_FAILED
    _out(json.dumps(report, indent=2) + "\n" if args.json else report_tool.format_report(report))
    return EXIT_OK


def _scrub(text: str, token: str | None) -> str:
    """A last guard: the token is never written out, whatever a message quotes."""
    return text.replace(token, "[REDACTED]") if token else text


def _out(text: str, token: str | None = None) -> None:
    sys.stdout.write(_scrub(text, token))


def _err(text: str, token: str | None = None) -> None:
    sys.stderr.write(_scrub(text, token))


def _fhir_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"not an http(s) FHIR base URL: {value!r}")
    if parts.username or parts.password:
        raise argparse.ArgumentTypeError("put no credentials in the URL; use --token")
    return value.rstrip("/")


def _iso_time(value: str) -> str:
    try:
        parse_moment(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date-time: {value!r}") from None
    return value


def _wrap(text: str) -> str:
    return textwrap.fill(text, width=100)


_EXIT_CODES = """exit codes:
  0  {ok}
  1  {failed}
  2  wrong arguments (usage)"""

_TOKEN_HELP = (f"bearer token for the FHIR server (default: the {TOKEN_ENV} environment variable, which keeps it "
               "out of the process list and shell history); never printed or logged")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cds-service", description="CDS Hooks service: posterior knee pain")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser(
        "serve", help="run the service under hypercorn",
        description=_wrap("Run the service under hypercorn, configured by CDS_* environment variables (README, "
                          "Configuration). With CDS_REQUIRE_JWT true, the default, CDS_PUBLIC_BASE_URL (the URL "
                          "EHRs call) is required: the command refuses to start without it. "
                          "CDS_REQUIRE_JWT=false is for local development only."))
    serve_parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve_parser.add_argument("--port", type=int, default=8080)
    serve_parser.add_argument("--workers", type=int, default=2, help="worker processes (about one per core)")
    serve_parser.add_argument("--threads", type=int, default=4,
                              help="threads per worker, running requests that have fully arrived (default 4)")
    serve_parser.add_argument("--metrics-port", type=int, default=9100,
                              help="port of the Prometheus metrics page, apart from the service's (default 9100; "
                                   "0: GET /metrics on the service's port instead)")
    serve_parser.add_argument("--metrics-host", default="127.0.0.1",
                              help="address of the metrics listener (default 127.0.0.1)")
    serve_parser.add_argument("--large-bodies", type=int, default=1,
                              help="request bodies over 1 MiB a worker reads and decodes at once (default 1); "
                                   "others wait, up to 10 s, then 503")
    serve_parser.add_argument("--body-timeout", type=float, default=10.0,
                              help="seconds a request body may take to arrive after its headers (default 10)")
    serve_parser.add_argument("--log-level", default="info")
    serve_parser.add_argument("--access-log", action="store_true", help="log each request line")
    serve_parser.add_argument("--log-format", choices=("json", "text"), default="json",
                              help="JSON lines with request id and hookInstance (default), or plain text")
    serve_parser.set_defaults(handler=serve)

    formatter = argparse.RawDescriptionHelpFormatter
    check_parser = commands.add_parser(
        "check", formatter_class=formatter, help="call the hook for one patient of a FHIR server, show the cards",
        description=_wrap("Call the patient-view hook for one patient, the service fetching the patient's data from "
                    "the FHIR server (no prefetch), in this process: no JWT, a throw-away feedback store, a "
                    "30 s fetch deadline. Prints each card (indicator, summary, the record's evidence, "
                    "suggested orders with their codes), or the raw CDS Hooks response with --json."),
        epilog=_EXIT_CODES.format(ok="the service answered 200 (the cards are printed; there may be none)",
                                  failed="the service answered an error (e.g. 412: the FHIR server could not\n"
                                         "     be read); its OperationOutcome diagnostics go to stderr"))
    check_parser.add_argument("--prefetch", metavar="FILE",
                              help="a whole hook request with its prefetch (e.g. examples/*.json) instead of a FHIR "
                                   "server; its dates are moved from the day it was written for to today")
    check_parser.add_argument("--as-written", action="store_true",
                              help="with --prefetch: keep the file's dates (combine with --now)")
    check_parser.add_argument("--fhir-server", type=_fhir_url, metavar="URL",
                              help="FHIR R4 base URL (https; http is allowed for local servers)")
    check_parser.add_argument("--patient", metavar="ID", help="Patient id on that server")
    check_parser.add_argument("--token", metavar="TOKEN", help=_TOKEN_HELP)
    check_parser.add_argument("--json", action="store_true", help="print the raw CDS Hooks response")
    check_parser.add_argument("--now", type=_iso_time, metavar="ISO",
                              help="evaluate as at this date-time (e.g. 2026-11-22T12:00:00Z) instead of now")
    check_parser.set_defaults(handler=check)

    demo_parser = commands.add_parser("demo", help="synthetic demo patients, one per card topic")
    demo_commands = demo_parser.add_subparsers(dest="demo_command", required=True)
    load_parser = demo_commands.add_parser(
        "load", formatter_class=formatter, help="load the demo patients into a FHIR server",
        description=_wrap("PUT the bundled demo patients (ids demo-<topic>) into a FHIR server in one transaction; "
                    "loading again updates them. Their dates are moved from the day they were written for "
                    "to today, so each gives its card when checked today."),
        epilog=_EXIT_CODES.format(ok="every resource was stored",
                                  failed="the server could not be reached or refused the transaction"))
    load_parser.add_argument("--fhir-server", required=True, type=_fhir_url, metavar="URL", help="FHIR R4 base URL")
    load_parser.add_argument("--token", metavar="TOKEN", help=_TOKEN_HELP)
    load_parser.add_argument("--patient", action="append", metavar="ID",
                             help="load only this demo patient (repeatable; default: all)")
    load_parser.set_defaults(handler=demo_load)
    demo_serve_parser = demo_commands.add_parser(
        "serve", formatter_class=formatter, help="run the service with a local FHIR server holding the demo patients",
        description=_wrap("Start a FHIR server (sekmet, the `demo` extra) on 127.0.0.1 with every demo patient, "
                          "dated today, and the service beside it on 127.0.0.1, trusting any caller (a demo, "
                          "never production; it logs so). Prints a curl command that shows a card and the CDS "
                          "Hooks sandbox URL. Both stop on Ctrl-C and the FHIR server's data is removed."),
        epilog=_EXIT_CODES.format(ok="stopped", failed="the FHIR server could not be started or loaded"))
    demo_serve_parser.add_argument("--port", type=int, default=8080, help="the service's port (default 8080)")
    demo_serve_parser.add_argument("--fhir-port", type=int, default=8090, help="the FHIR server's port (default 8090)")
    demo_serve_parser.set_defaults(handler=demo_serve)
    list_parser = demo_commands.add_parser(
        "list", formatter_class=formatter, help="list the demo patients and the card each must give",
        epilog="exit codes:\n  0  listed\n  2  wrong arguments (usage)")
    list_parser.add_argument("--json", action="store_true", help="as JSON")
    list_parser.set_defaults(handler=demo_list)

    feedback_parser = commands.add_parser("feedback", help="the card feedback store")
    feedback_commands = feedback_parser.add_subparsers(dest="feedback_command", required=True)
    report_parser = feedback_commands.add_parser(
        "report", formatter_class=formatter, help="acceptance and override rates per card topic and reason",
        description=_wrap("Per card topic: cards issued, feedback entries, accepted, overridden, acceptance and "
                    "override rates; and overrides per topic and reason. Rates are over feedback entries "
                    "(a card answered twice counts twice)."),
        epilog=_EXIT_CODES.format(ok="report printed", failed="the feedback store could not be read"))
    report_parser.add_argument("--database", metavar="URL",
                               help="SQLAlchemy URL of the store (default: as the service: "
                                    "CDS_FEEDBACK_DATABASE, else instance/feedback.sqlite3)")
    report_parser.add_argument("--json", action="store_true", help="as JSON")
    report_parser.set_defaults(handler=feedback_report)

    issuer_parser = commands.add_parser(
        "dev-issuer", help="make a local CDS client issuer (key pair + trusted-issuers file) for testing",
        description=_wrap("Write an ES384 key pair and a TRUSTED_ISSUERS file trusting it into FOLDER, for local "
                          "development and integration tests (`dev-token` mints tokens with it). Never for "
                          "production: whoever holds the private key is a trusted EHR."))
    issuer_parser.add_argument("folder", metavar="FOLDER")
    issuer_parser.add_argument("--iss", default="https://dev-ehr.localhost", help="the issuer's iss")
    issuer_parser.set_defaults(handler=dev_issuer)
    token_parser = commands.add_parser(
        "dev-token", help="print a client JWT from a dev-issuer folder",
        description=_wrap("Print a client JWT (ES384, fresh jti) signed by the development issuer in FOLDER, for "
                          "the Authorization header: `Bearer <token>`. Each token is good for one call "
                          "(the service refuses a jti twice)."))
    token_parser.add_argument("folder", metavar="FOLDER")
    token_parser.add_argument("--aud", required=True, metavar="URL",
                              help="the URL called: {CDS_PUBLIC_BASE_URL}/cds-services or a service's URL")
    token_parser.add_argument("--lifetime", type=int, default=300, help="seconds (default 300)")
    token_parser.set_defaults(handler=dev_token)
    return parser


def dev_issuer(args: argparse.Namespace) -> int:
    from .tools import dev_issuer as tool

    issuers = tool.create(Path(args.folder), args.iss)
    _err("warning: a development issuer: whoever holds its private key is a trusted EHR. Never in production.\n")
    _out(f"wrote {issuers} and its private key. Trust it with:\n  export CDS_TRUSTED_ISSUERS={issuers}\n"
         f"and mint a token with:\n  cds-service dev-token {args.folder} --aud http://127.0.0.1:8080/cds-services\n")
    return EXIT_OK


def dev_token(args: argparse.Namespace) -> int:
    from .tools import dev_issuer as tool

    try:
        minted = tool.token(Path(args.folder), args.aud, args.lifetime)
    except (OSError, ValueError) as error:
        _err(f"error: no development issuer in {args.folder} ({type(error).__name__}); "
             "make one with `cds-service dev-issuer FOLDER`\n")
        return EXIT_USAGE
    _out(minted + "\n")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "check" and not args.prefetch and not (args.fhir_server and args.patient):
        parser.error("check needs --fhir-server and --patient, or --prefetch FILE")
    logging.basicConfig(level=args.log_level.upper() if hasattr(args, "log_level") else "WARNING",
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
