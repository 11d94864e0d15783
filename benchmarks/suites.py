"""The benchmark suites. Each prints a small table; nothing here is a pass/fail test."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from contextlib import contextmanager
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cds_service import create_app

from .baseline import create_baseline
from .data import CLOCK_NOW, ROOT, hook_body, prefetch

SIZES = ((10, 400), (300, 200), (3000, 30), (30000, 6))  # (resources, repetitions)
SERVICE = "/cds-services/posterior-knee-pain"


def _app_config(tmp: str) -> dict:
    return {"REQUIRE_JWT": False, "FEEDBACK_DATABASE": f"sqlite:///{tmp}/feedback.sqlite3",
            "CLOCK_NOW": CLOCK_NOW, "MAX_CONTENT_LENGTH": 256 * 1024 * 1024, "FHIR_ALLOW_HTTP": True,
            "FHIR_SERVERS": ["http://127.0.0.1"]}


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _time_posts(client, body: bytes, repetitions: int) -> list[float]:
    for _ in range(2):  # warm caches and connection pools
        client.post(SERVICE, data=body, content_type="application/json")
    times = []
    for _ in range(repetitions):
        started = time.perf_counter()
        response = client.post(SERVICE, data=body, content_type="application/json")
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    return times


# -- in process ------------------------------------------------------------------------------------------

def _peak_bytes(call) -> int:
    import tracemalloc
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def inprocess() -> None:
    print("\n## In-process latency: POST patient-view through the Flask test client (JWT off; see 'jwt')")
    print("| resources | body | service p50 | service p99 | baseline p50 | baseline p99 | ratio p50 |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        service = create_app(_app_config(tmp)).test_client()
        baseline = create_baseline().test_client()
        rows = []
        for n, repetitions in SIZES:
            body = hook_body(n)
            ours = _time_posts(service, body, repetitions)
            floor = _time_posts(baseline, body, repetitions)
            rows.append((n, statistics.median(ours)))
            print(f"| {n:,} | {len(body) / 1024:,.0f} KiB | {statistics.median(ours):.1f} ms | "
                  f"{_percentile(ours, 0.99):.1f} ms | {statistics.median(floor):.1f} ms | "
                  f"{_percentile(floor, 0.99):.1f} ms | {statistics.median(ours) / statistics.median(floor):.2f}× |")
        (n1, t1), (n2, t2) = rows[-2], rows[-1]
        print(f"\nGrowth from {n1:,} to {n2:,} resources: ×{t2 / t1:.1f} time for ×{n2 / n1:.0f} resources "
              f"({(t2 - t1) / (n2 - n1) * 1000:.2f} ms per 1,000 added).")
        print("\nMemory per request (tracemalloc peak while the service answers, the body already in memory):")
        print("| resources | body | peak | peak / body |\n|---:|---:|---:|---:|")
        for n, _ in SIZES:
            body = hook_body(n)
            peak = _peak_bytes(lambda: service.post(SERVICE, data=body, content_type="application/json"))
            print(f"| {n:,} | {len(body) / 2**20:,.1f} MiB | {peak / 2**20:,.1f} MiB | {peak / len(body):.1f}× |")


def jwt() -> None:
    # Here, not at the top: they load PyJWT, requests and SQLAlchemy, which `memory` alone times in create_app.
    import jwt as pyjwt
    from cryptography.hazmat.primitives.asymmetric import ec

    from cds_service.trust import ClientVerifier
    from cds_service.trust.jwks import KeySets
    from cds_service.trust.replay import ReplayStore

    key = ec.generate_private_key(ec.SECP384R1())
    public = pyjwt.algorithms.ECAlgorithm.to_jwk(key.public_key(), as_dict=True) | {"kid": "k1", "use": "sig"}
    verifier = ClientVerifier([{"iss": "https://ehr.bench", "jwks": {"keys": [public]}}], ["ES384"], 60, 3600,
                              8192, KeySets(3600, 30, 2), ReplayStore())
    aud = "https://cds.bench" + SERVICE
    tokens = [pyjwt.encode({"iss": "https://ehr.bench", "aud": aud, "iat": int(time.time()),
                            "exp": int(time.time()) + 300, "jti": str(uuid.uuid4())}, key, algorithm="ES384",
                           headers={"kid": "k1"}) for _ in range(300)]
    times = []
    for token in tokens:
        started = time.perf_counter()
        verifier.verify(f"Bearer {token}", aud)
        times.append((time.perf_counter() - started) * 1000)
    print(f"\n## JWT verification (ES384, inline key): p50 {statistics.median(times):.2f} ms, "
          f"p99 {_percentile(times, 0.99):.2f} ms per call")


# -- over HTTP under hypercorn-----------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(port: int, timeout: float = 30) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                if response.status == 200:
                    return time.perf_counter() - started
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server on {port} did not become healthy")


@contextmanager
def _server(kind: str, workers: int = 2):
    """Our service (`cds-service serve`) or the baseline, under hypercorn with `workers` processes."""
    port = _free_port()
    tmp = tempfile.mkdtemp()
    env = dict(os.environ, CDS_REQUIRE_JWT="false", CDS_CLOCK_NOW=CLOCK_NOW, CDS_FHIR_ALLOW_HTTP="true",
               CDS_FEEDBACK_DATABASE=f"sqlite:///{tmp}/feedback.sqlite3", CDS_MAX_CONTENT_LENGTH=str(256 << 20))
    bin_dir = Path(sys.executable).parent
    if kind == "service":
        command = [str(bin_dir / "cds-service"), "serve", "--port", str(port), "--metrics-port", "0", "--workers", str(workers),
                   "--threads", "1", "--log-level", "warning"]
    else:
        command = [str(bin_dir / "hypercorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level",
                   "warning", "wsgi:benchmarks.baseline:create_baseline()"]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        _wait_healthy(port)
        process.startup_seconds = time.perf_counter() - started
        yield port, process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        shutil.rmtree(tmp, ignore_errors=True)


def _wrk(port: int, body: bytes, seconds: int, connections: int = 4) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        body_path = Path(tmp) / "body.json"
        body_path.write_bytes(body)
        script = Path(tmp) / "post.lua"
        script.write_text(
            f'local f = io.open("{body_path}", "rb")\nwrk.method = "POST"\nwrk.body = f:read("*a")\nf:close()\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
            'done = function(summary, latency, requests)\n'
            '  io.write(string.format("P50 %.3f\\nP99 %.3f\\nERRORS %d\\n", latency:percentile(50) / 1000,'
            ' latency:percentile(99) / 1000, summary.errors.status + summary.errors.connect +'
            ' summary.errors.read + summary.errors.write + summary.errors.timeout))\nend\n')
        output = subprocess.run(["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "-s", str(script),
                                 f"http://127.0.0.1:{port}{SERVICE}"], capture_output=True, text=True,
                                check=True).stdout
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": float(re.search(r"^P50 ([\d.]+)", output, re.M).group(1)),
        "p99": float(re.search(r"^P99 ([\d.]+)", output, re.M).group(1)),
        "errors": int(re.search(r"^ERRORS (\d+)", output, re.M).group(1)),
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
    }


def http(seconds: int = 15) -> None:
    if not shutil.which("wrk"):
        print("\n## HTTP: skipped — install the load generator: apt-get install wrk")
        return
    print(f"\n## HTTP under hypercorn (2 workers, 1 thread each), wrk 2 threads × 4 connections, {seconds} s "
          "each; the load generator shares the 2 cores")
    print("| resources | service req/s | p50 | p99 | errors | baseline req/s | p50 | p99 | throughput ratio |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in (10, 300, 3000):
        body = hook_body(n)
        with _server("service") as (port, _):
            ours = _wrk(port, body, seconds)
        with _server("baseline") as (port, _):
            floor = _wrk(port, body, seconds)
        print(f"| {n:,} | {ours['rps']:.0f} | {ours['p50']:.1f} ms | {ours['p99']:.1f} ms | {ours['errors']} | "
              f"{floor['rps']:.0f} | {floor['p50']:.1f} ms | {floor['p99']:.1f} ms | "
              f"{floor['rps'] / ours['rps']:.2f}× slower |")


# -- fallback fetching -----------------------------------------------------------------------------------

class _DelayingProxy:
    """Forwards GETs to the FHIR server after a fixed delay, rewriting its base URL in bodies."""

    def __init__(self, upstream: str, delay: float):
        proxy = self
        self.delay = delay
        self.upstream = upstream.rstrip("/")

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802
                time.sleep(proxy.delay)
                request = urllib.request.Request(proxy.upstream_root + self.path, headers={
                    k: v for k, v in self.headers.items() if k.lower() in ("authorization", "accept")})
                try:
                    with urllib.request.urlopen(request, timeout=30) as upstream:
                        status, body = upstream.status, upstream.read()
                except urllib.error.HTTPError as error:
                    status, body = error.code, error.read()
                body = body.replace(proxy.upstream_root.encode(), proxy.url.encode())
                self.send_response(status)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.upstream_root = re.match(r"^(https?://[^/]+)", self.upstream).group(1)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self):
        self._server.shutdown()
        self._server.server_close()


def fallback(delay: float = 0.1, repetitions: int = 10) -> None:
    sys.path.insert(0, str(ROOT))  # tests/ is not an installed package; only this suite needs it
    from cds_service.prefetch.templates import TEMPLATES  # not at the top: see jwt()
    from tests.fhir_server import FhirServer

    data = prefetch(300)
    patient_id = data["patient"]["id"]
    resources = [data["patient"]] + [e["resource"] for key in ("conditions", "observations", "medications",
                                                               "procedures") for e in data[key].get("entry", [])]
    with tempfile.TemporaryDirectory() as tmp, FhirServer(Path(tmp) / "sekmet") as fhir:
        fhir.load_resources(resources)
        proxy = _DelayingProxy(fhir.base_url, delay)
        try:
            base = proxy.url + "/fhir"
            app = create_app(_app_config(tmp) | {"FHIR_PAGE_SIZE": 1000, "FHIR_FETCH_DEADLINE_SECONDS": 10})
            client = app.test_client()
            body = {"hook": "patient-view", "context": {"userId": "Practitioner/bench", "patientId": patient_id},
                    "fhirServer": base, "fhirAuthorization": {"access_token": fhir.token, "token_type": "Bearer",
                                                              "scope": "patient/*.read", "subject": "bench"}}
            totals = []
            for _ in range(repetitions + 1):
                started = time.perf_counter()
                response = client.post(SERVICE, json=body | {"hookInstance": str(uuid.uuid4())})
                totals.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.get_data(as_text=True)
            totals = totals[1:]
            singles = {}
            for template in TEMPLATES:
                url = f"{base}/{template.fallback(patient_id, None) if template.is_search else template.render(patient_id)}"
                url += ("&" if "?" in url else "?") + "_count=1000" if template.is_search else ""
                request = urllib.request.Request(url, headers={"Authorization": f"Bearer {fhir.token}",
                                                               "Accept": "application/fhir+json"})
                started = time.perf_counter()
                with urllib.request.urlopen(request) as answer:
                    answer.read()
                singles[template.key] = (time.perf_counter() - started) * 1000
        finally:
            proxy.close()
    slowest, total = max(singles.values()), sum(singles.values())
    print(f"\n## Fallback fetching: no prefetch; sekmet behind a proxy adding {delay * 1000:.0f} ms per request; "
          f"{len(resources)} resources")
    print("| query | alone |\n|---|---:|")
    for key, ms in singles.items():
        print(f"| {key} | {ms:.0f} ms |")
    print(f"\nWhole hook: p50 {statistics.median(totals):.0f} ms, max {max(totals):.0f} ms — slowest query "
          f"{slowest:.0f} ms, sum of queries {total:.0f} ms.")


def _counting_searches():
    """Patch FhirClient.search to count the entries each search returned (how much of the record was
    fetched); returns (counted, undo)."""
    from cds_service.prefetch import fetch
    counted: list[int] = []
    search = fetch.FhirClient.search

    def counting(self, *args, **kwargs):
        entries = search(self, *args, **kwargs)
        counted.append(len(entries))
        return entries
    fetch.FhirClient.search = counting

    def undo():
        fetch.FhirClient.search = search
    return counted, undo


def _long_record_row(tmp: str, base_url: str, token: str, pid: str, n: int, n_resources: int,
                     repetitions: int, counted: list[int]) -> None:
    """The hook, no prefetch, production deadlines, `repetitions` times after one warm-up call: one table row."""
    from cds_service.config import DEFAULTS
    from tests.integration.test_long_record import NOW

    app = create_app(_app_config(tmp) | {"CLOCK_NOW": NOW.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                         "HOOK_DEADLINE_SECONDS": DEFAULTS["HOOK_DEADLINE_SECONDS"],
                                         "FHIR_FETCH_DEADLINE_SECONDS": DEFAULTS["FHIR_FETCH_DEADLINE_SECONDS"]})
    client = app.test_client()
    body = {"hook": "patient-view", "context": {"userId": "Practitioner/bench", "patientId": pid},
            "fhirServer": base_url,
            "fhirAuthorization": {"access_token": token, "token_type": "Bearer",
                                  "scope": "patient/*.read", "subject": "bench"}}
    times, first = [], ""
    for i in range(repetitions + 1):
        counted.clear()
        started = time.perf_counter()
        response = client.post(SERVICE, json=body | {"hookInstance": str(uuid.uuid4())})
        if i:
            times.append((time.perf_counter() - started) * 1000)
        cards = response.get_json()["cards"] if response.status_code == 200 else []
        first = f"{cards[0]['indicator']}: {cards[0]['summary'][:40]}…" if cards else f"HTTP {response.status_code}"
    p50 = statistics.median(times)
    print(f"| {n:,} | {p50:.0f} ms | {max(times):.0f} ms | {p50 / (DEFAULTS['HOOK_DEADLINE_SECONDS'] * 1000):.2f} "
          f"| {first} | {sum(counted):,} / {n_resources:,} |")


def long_records(sizes: tuple[int, ...] = (3_000, 20_000, 100_000), repetitions: int = 5) -> None:
    """A PE presentation after years of routine history, no prefetch, sekmet at full speed, the production
    deadlines: the whole hook's time, the first card, and how much of the record was fetched."""
    sys.path.insert(0, str(ROOT))
    from cds_service.config import DEFAULTS
    from tests.fhir_server import FhirServer
    from tests.integration.test_long_record import long_record

    counted, undo = _counting_searches()
    print("\n## Long records: fallback fetching of a PE presentation behind years of routine history (sekmet, "
          f"no prefetch, hook deadline {DEFAULTS['HOOK_DEADLINE_SECONDS'] * 1000:.0f} ms)")
    print(_LONG_RECORD_HEADER)
    try:
        with tempfile.TemporaryDirectory() as tmp, FhirServer(Path(tmp) / "sekmet") as fhir:
            for n in sizes:
                pid = f"bench-long-{n}"
                resources = long_record(pid, n)
                for start in range(0, len(resources), 2_000):
                    fhir.load_resources(resources[start:start + 2_000])
                _long_record_row(tmp, fhir.base_url, fhir.token, pid, n, len(resources), repetitions, counted)
    finally:
        undo()


_LONG_RECORD_HEADER = ("| history | whole hook p50 | max | p50 / deadline | first card | resources fetched / in record |\n"
                       "|---:|---:|---:|---:|---|---:|")


@contextmanager
def _hapi_like(ndjson: Path, token: str):
    """benchmarks/hapi_like.py in its own process (as a FHIR server is: its work is not the service's),
    serving the resources of `ndjson`; yields (base_url, lines it wrote to stderr once stopped)."""
    process = subprocess.Popen([sys.executable, "-m", "benchmarks.hapi_like", "--token", token, str(ndjson)],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=os.environ | {"PYTHONPATH": str(ROOT)})
    said: list[str] = []
    try:
        line = process.stdout.readline()
        if not line.startswith("listening "):
            raise RuntimeError(f"hapi_like did not start: {line!r} {process.stderr.read()}")
        yield line.split()[1], said
    finally:
        process.terminate()
        try:
            _, err = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            _, err = process.communicate()
        said.extend(err.splitlines())


def long_records_indexed(sizes: tuple[int, ...] = (3_000, 20_000, 100_000), repetitions: int = 5) -> None:
    """long_records against benchmarks/hapi_like.py instead of sekmet: a server that pages as HAPI FHIR JPA
    does (20 a page, _count up to 200, _getpages links, 400 for a parameter it does not know) with indexed,
    concurrent searches. Same record, same deadlines, same columns; then the server's own time for the
    date-bounded Observation search, and what it refused."""
    sys.path.insert(0, str(ROOT))
    import requests
    from cds_service.config import DEFAULTS
    from cds_service.prefetch.templates import TEMPLATES
    from tests.integration.test_long_record import NOW, long_record

    observations = next(t for t in TEMPLATES if t.key == "observations")
    counted, undo = _counting_searches()
    print("\n## Long records, indexed server: the same PE presentation behind years of routine history "
          "(benchmarks/hapi_like.py, HAPI-style paging, its own process; no prefetch, hook deadline "
          f"{DEFAULTS['HOOK_DEADLINE_SECONDS'] * 1000:.0f} ms)")
    print(_LONG_RECORD_HEADER)
    notes = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for n in sizes:
                pid = f"bench-long-{n}"
                token = uuid.uuid4().hex
                resources = long_record(pid, n)
                ndjson = Path(tmp) / f"{pid}.ndjson"
                with ndjson.open("w", encoding="utf-8") as out:
                    out.writelines(json.dumps(r) + "\n" for r in resources)
                n_resources = len(resources)
                del resources
                with _hapi_like(ndjson, token) as (base_url, said):
                    _long_record_row(tmp, base_url, token, pid, n, n_resources, repetitions, counted)
                    # The query the service sends (the catalogue's 14-day "finding" window), alone.
                    query = observations.fallback(pid, NOW - timedelta(days=14))
                    url = f"{base_url}/{query}&_count={DEFAULTS['FHIR_PAGE_SIZE']}"
                    with requests.Session() as session:
                        alone = []
                        for _ in range(repetitions + 1):
                            started = time.perf_counter()
                            answer = session.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
                            alone.append((time.perf_counter() - started) * 1000)
                            assert answer.status_code == 200, answer.status_code
                notes.append(f"{n:,}: Observation window search alone p50 {statistics.median(alone[1:]):.1f} ms "
                             f"({len(answer.json().get('entry', []))} entries); server: "
                             + "; ".join(said))
    finally:
        undo()
    print("\n" + "\n".join(f"- {note}" for note in notes))


# -- memory and start-up ---------------------------------------------------------------------------------

def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="utf-8") as status:
        return int(next(line.split()[1] for line in status if line.startswith("VmRSS")))


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="utf-8") as children:
            return [int(p) for p in children.read().split()]
    except OSError:
        return []


def memory(seconds: int = 15) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        create_app(_app_config(tmp))
        build = time.perf_counter() - started
    print(f"\n## Start-up and memory\ncreate_app() in process: {build * 1000:.0f} ms "
          "(value sets and card templates loaded and checked)")
    with _server("service") as (port, process):
        print(f"`cds-service serve` to first healthy /healthz: {process.startup_seconds:.2f} s")
        workers = _children(process.pid)
        before = {pid: _rss_kib(pid) for pid in workers}
        load = _wrk(port, hook_body(300), seconds) if shutil.which("wrk") else None
        after = {pid: _rss_kib(pid) for pid in workers if os.path.exists(f"/proc/{pid}")}
    print("| worker | RSS after start-up | RSS after load |\n|---|---:|---:|")
    for pid in workers:
        print(f"| {pid} | {before[pid] / 1024:.0f} MiB | {after.get(pid, 0) / 1024:.0f} MiB |")
    if load:
        print(f"(load: {load['requests']:,} requests of 300 resources in {seconds} s, {load['errors']} errors)")


def soak(target_requests: int = 50_000, minimum_seconds: int = 60, chunk_seconds: int = 30) -> None:
    """Sustained load until at least 50,000 requests and 60 s: errors, p99 per 30 s window, RSS drift."""
    if not shutil.which("wrk"):
        print("\n## Soak: skipped — install the load generator: apt-get install wrk")
        return
    body = hook_body(10)
    with _server("service") as (port, process):
        workers = _children(process.pid)
        _wrk(port, body, 5)  # warm up
        before = {pid: _rss_kib(pid) for pid in workers}
        windows, total, errors, elapsed = [], 0, 0, 0
        while total < target_requests or elapsed < minimum_seconds:
            result = _wrk(port, body, chunk_seconds)
            windows.append(result)
            total += result["requests"]
            errors += result["errors"]
            elapsed += chunk_seconds
        after = {pid: _rss_kib(pid) for pid in workers if os.path.exists(f"/proc/{pid}")}
    print(f"\n## Soak: {total:,} requests in {elapsed} s under hypercorn (2 workers), 10-resource prefetch, "
          f"wrk 2 threads × 4 connections")
    print(f"errors: {errors}; throughput {total / elapsed:.0f} req/s; p99 per {chunk_seconds} s window: "
          + ", ".join(f"{w['p99']:.1f} ms" for w in windows))
    print("| worker | RSS after warm-up | RSS after soak | change |\n|---|---:|---:|---:|")
    for pid in workers:
        if pid in after:
            print(f"| {pid} | {before[pid] / 1024:.1f} MiB | {after[pid] / 1024:.1f} MiB | "
                  f"{(after[pid] - before[pid]) / 1024:+.1f} MiB |")


SUITES = {"inprocess": inprocess, "jwt": jwt, "http": http, "fallback": fallback, "long_records": long_records,
          "long_records_indexed": long_records_indexed, "memory": memory}
EXTRA_SUITES = {"soak": soak}  # run by name: python -m benchmarks soak
