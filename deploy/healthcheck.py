"""Container health check: GET a local URL, exit 0 on HTTP 200, 1 otherwise.

The slim base images have no curl or wget, so HEALTHCHECK runs this with the image's Python (standard
library only). Default URL: the CDS service's liveness endpoint; the FHIR test server's image sets
HEALTHCHECK_URL to its /fhir/metadata.
"""
from __future__ import annotations

import os
import sys
import urllib.request

URL = os.environ.get("HEALTHCHECK_URL", "http://127.0.0.1:8080/healthz")
TIMEOUT = float(os.environ.get("HEALTHCHECK_TIMEOUT_SECONDS", "4"))


def main() -> int:
    # No proxy: an HTTP(S)_PROXY in the container's environment must not carry a loopback health check away.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(URL, timeout=TIMEOUT) as response:
            status = response.status
    except Exception as error:  # refused, timed out, HTTP error: all mean unhealthy
        print(f"unhealthy: GET {URL}: {error}", file=sys.stderr)
        return 1
    if status != 200:
        print(f"unhealthy: GET {URL}: HTTP {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
