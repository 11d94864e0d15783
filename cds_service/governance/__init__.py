"""Read-only pages for the people who govern the cards, under /governance/ (README, "Governance pages").

The gallery shows every card topic and variant as an EHR shows it, from the synthetic demo patients; the
feedback page shows the feedback store's figures (the same as `cds-service feedback report`) as aggregates.
Neither holds patient data, so neither asks for the EHR's JWT; a site puts them behind its own sign-on or
turns them off (GOVERNANCE_PAGES=false).
"""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Wire the pages into the app when GOVERNANCE_PAGES is on; off, their paths are 404 like any other."""
    if not app.config["GOVERNANCE_PAGES"]:
        return
    from ..http import cors
    from .views import bp, init_state

    init_state(app)
    cors.exempt(app, bp.name)  # pages for people at this origin, not data for other origins' scripts
    app.register_blueprint(bp)
