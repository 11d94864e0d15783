"""Decoding request bodies: the envelope with orjson — strict (no NaN, valid UTF-8 only), depth-limited;
prefetch Bundles lean (prefetch/lean.py, msgspec): an entry is decoded whole only when a rule can use it.
orjson was the fastest full decoder measured here (a 4.5 MB, 3,000-resource prefetch in about 35 ms against 50 ms for the standard
library).

Measured and not taken: pysimdjson's lazy parser reads the same 47 MB, 30,000-resource body in 40 ms, but
every Python-level access to its proxies costs 1.5-3 µs, so probing each Bundle entry to materialise only
what the rules use came out no faster at 30,000 resources and twice as slow at 300 (a one-off measurement,
not part of `python -m benchmarks`; summarised in the README's Performance section).
"""
from __future__ import annotations

from ..prefetch.lean import Malformed, decode_body

MalformedJson = Malformed


def decode(raw: bytes) -> object:
    """The envelope whole, prefetch Bundle entries left raw until a rule can use them (prefetch/lean.py)."""
    return decode_body(raw)
