"""What the figures were taken on."""
from __future__ import annotations

import os
import platform
from datetime import datetime, timezone


def describe() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory = ""
    try:
        with open("/proc/meminfo", encoding="utf-8") as info:
            kb = int(next(line.split()[1] for line in info if line.startswith("MemTotal")))
            memory = f", {kb / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration):
        pass
    return (f"# {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC — {cpu}, {os.cpu_count()} cores{memory}, "
            f"Python {platform.python_version()} on {platform.system()}")
