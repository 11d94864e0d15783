"""Catalogue word lists as one regular-expression alternation, shared by the readers of record text."""
from __future__ import annotations

import re


def alternatives(words) -> str:
    """The words as one regex alternation, longest first (so "no palpable" is tried before "no")."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
