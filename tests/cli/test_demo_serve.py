"""`cds-service demo serve`, as a new user runs it: a FHIR server with the demo patients and the service, on
loopback; the curl it prints shows the PE card; Ctrl-C (SIGINT) stops both and removes the FHIR data."""
from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.cli.test_serve import clean_environment, free_port


def test_demo_serve_prints_a_curl_that_shows_the_card_and_stops_cleanly(tmp_path):
    port, fhir_port = free_port(), free_port()
    process = subprocess.Popen([sys.executable, "-m", "cds_service", "demo", "serve", "--port", str(port),
                                "--fhir-port", str(fhir_port)], env=clean_environment(), cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        banner = []
        while not any("Stop with Ctrl-C" in line for line in banner):
            line = process.stdout.readline()
            assert line, "demo serve ended before its banner: " + process.stderr.read()[-2000:]
            banner.append(line)
        text = "".join(banner)
        body = json.loads(re.search(r"-d '(\{.*\})'", text).group(1))
        url = re.search(r"curl -s (\S+)", text).group(1)
        assert url == f"http://127.0.0.1:{port}/cds-services/posterior-knee-pain"
        assert body["fhirServer"] == f"http://127.0.0.1:{fhir_port}/fhir"
        deadline = time.monotonic() + 30
        while True:  # the banner comes before the server binds
            try:
                answer = requests.post(url, json=body, timeout=10)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.2)
        assert answer.status_code == 200
        first = answer.json()["cards"][0]
        assert (first["source"]["topic"]["code"], first["indicator"]) == ("suspected-pe", "critical")
        started = _read_until(process, "Running on")
        assert "REQUIRE_JWT is false" in started  # the development trust is loud
        workdir = Path(re.search(r"at (\S+)/feedback\.sqlite3", started).group(1))
        assert workdir.exists()
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=30)
        errors = process.stderr.read()
    assert code == 0, errors[-2000:]
    assert "Traceback" not in errors
    assert not workdir.exists()
    try:
        requests.get(f"http://127.0.0.1:{fhir_port}/fhir/metadata", timeout=2)
        raise AssertionError("the demo FHIR server is still running")
    except requests.ConnectionError:
        pass


def _read_until(process, marker: str) -> str:
    seen = []
    while not any(marker in line for line in seen):
        line = process.stderr.readline()
        assert line, "".join(seen)
        seen.append(line)
    return "".join(seen)


def test_a_port_in_use_is_a_clear_error_not_a_traceback(tmp_path):
    import socket
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "cds_service", "demo", "serve", "--port", str(port),
                               "--fhir-port", str(free_port())], env=clean_environment(), cwd=tmp_path,
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert f"cannot serve on 127.0.0.1:{port}: Address already in use" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_fhir_port_in_use_is_refused_before_anything_is_loaded_into_whatever_listens_there(tmp_path):
    import socket
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "cds_service", "demo", "serve", "--port", str(free_port()),
                               "--fhir-port", str(port)], env=clean_environment(), cwd=tmp_path,
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert f"cannot start the FHIR server on 127.0.0.1:{port}: Address already in use" in done.stderr
    assert "Traceback" not in done.stderr and "Demo FHIR server" not in done.stdout
