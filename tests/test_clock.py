"""The clock the suite runs on. .ci/run runs the date-sensitive tests a second time under
`faketime -f '+400d'`; this proves that run really moved the clock (a file's modification time comes from
the kernel, which libfaketime does not reach), so a vacuous second run cannot pass for a real one."""
from __future__ import annotations

import os
import time

DAY = 86400


def test_the_clock_is_moved_exactly_when_faketime_says_so(tmp_path):
    marker = tmp_path / "now"
    marker.write_text("")
    shift = time.time() - marker.stat().st_mtime
    if os.environ.get("FAKETIME", "").startswith("+400d"):
        assert 399 * DAY < shift < 401 * DAY, shift / DAY
    else:
        assert abs(shift) < DAY, shift / DAY
