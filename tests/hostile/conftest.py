"""tests/hostile needs hypothesis, schemathesis and openapi-spec-validator (the `test` extra must list them).
Without them these modules are left out of collection locally (the session header says so); under CI (CI
set, as .ci/run does) a missing package fails the run instead, like the rest of the suite's missing tools."""
from __future__ import annotations

import atexit
import importlib.util
import os
import shutil
import tempfile

import pytest

from tests.hostile.support import forget_errors

NEEDS = {
    "test_property_requests.py": ["hypothesis"],
    "test_schemathesis.py": ["hypothesis", "schemathesis"],
    "test_openapi.py": ["openapi_spec_validator"],
}

_missing = {module: [name for name in names if importlib.util.find_spec(name) is None]
            for module, names in NEEDS.items()}

collect_ignore = [] if os.environ.get("CI") else [module for module, missing in _missing.items() if missing]

if importlib.util.find_spec("hypothesis") is not None:
    # Hypothesis keeps caches (unicode tables, constants) in ./.hypothesis; these tests use no example database
    # (derandomized), so keep even the caches out of the work tree.
    from hypothesis.configuration import set_hypothesis_home_dir  # optional: see the module docstring

    _home = tempfile.mkdtemp(prefix="hostile-hypothesis-")
    atexit.register(shutil.rmtree, _home, True)
    set_hypothesis_home_dir(_home)


def pytest_report_header(config):
    absent = sorted({name for names in _missing.values() for name in names})
    if absent:
        return f"tests/hostile: {', '.join(absent)} not installed: {', '.join(collect_ignore) or 'nothing'} skipped"
    return None


@pytest.fixture(autouse=True)
def _forget_errors_of_earlier_tests():
    """A 500 is judged by the service's own 'unhandled error' log record; start each test with none."""
    forget_errors()
