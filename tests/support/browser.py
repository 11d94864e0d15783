"""A real browser for the tests of what a person sees: Debian's Chromium (/usr/bin/chromium, installed by
.ci/run) driven by Playwright for Python, which never downloads a browser of its own here.

The flags keep Chromium off the network it would otherwise try at start-up (this machine's network is closed:
without them it opens, and has refused, many connections to Google's hosts)."""
from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CDS_TEST_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-default-apps"]


def require_browser() -> None:
    """Skip where no browser is installed; under CI (which installs one) a missing browser fails instead."""
    missing = []
    try:
        import playwright  # noqa: F401
    except ImportError:
        missing.append("playwright (pip)")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        missing.append(f"chromium at {CHROMIUM} (apt-get install chromium)")
    if missing:
        if os.environ.get("CI"):
            pytest.fail("browser tests need " + " and ".join(missing))
        pytest.skip("browser tests need " + " and ".join(missing))


@contextmanager
def chromium(width: int = 1280, height: int = 900):
    """Yields a fresh browser context (its own profile, nothing cached), closed afterwards."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            context = browser.new_context(viewport={"width": width, "height": height})
            yield context
        finally:
            browser.close()
