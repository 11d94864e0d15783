"""CDS Hooks service for posterior knee pain (patient-view), DVT red flag first.

`create_app` is imported lazily so that the command line can prepare the process (metrics storage for
several worker processes) before any of the service's modules, and their libraries, are loaded.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: Mapping[str, Any] | None = None) -> "Flask":
    from .app import create_app as _create_app  # lazy on purpose: see the module docstring

    return _create_app(config)


__all__ = ["create_app"]
