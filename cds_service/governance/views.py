"""GET /governance/, /governance/gallery, /governance/feedback: HTML for people, read-only, no JWT.

Every response of the blueprint gets a Content-Security-Policy that lets the page load its own style sheet and
nothing else (no script at all), nosniff, and no CORS header (http/cors.exempt). Pages are not stored by
caches: the figures change, and a site may serve them behind its own sign-on.
"""
from __future__ import annotations

from flask import Blueprint, Flask, current_app, render_template

from ..feedback.guard import Guard, StoreUnavailable
from ..tools.feedback_report import read_figures
from .feedback_view import feedback_page
from .gallery import GalleryCache

bp = Blueprint("governance", __name__, url_prefix="/governance", template_folder="templates",
               static_folder="static")

CONTENT_SECURITY_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; "
                           "form-action 'none'; frame-ancestors 'none'")


class GovernanceState:
    def __init__(self, app: Flask):
        store = app.extensions["cds"].feedback_store
        self.gallery = GalleryCache()
        # Its own guard on the store's engine: a slow aggregate read may then wait longer than a feedback write
        # would (5 s, not 1 s), and when it gives up it takes only these pages out, never the feedback endpoint
        # (a trip of the store's guard refuses every write for its cooldown). Two reads at once at most.
        self.reader = Guard(store.engine, "feedback store (governance pages)", timeout=5.0, slots=2)


def init_state(app: Flask) -> None:
    app.extensions["governance"] = GovernanceState(app)


@bp.after_request
def _headers(response):
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"  # frame-ancestors, for browsers that predate it
    if response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(StoreUnavailable)
def _store_unavailable(_error):
    # The guard has logged why; the page says only that the figures cannot be read now.
    return render_template("governance/unavailable.html"), 503, {"Retry-After": "5"}


@bp.get("/")
def index():
    return render_template("governance/index.html")


@bp.get("/gallery")
def gallery():
    state = current_app.extensions["cds"]
    built = current_app.extensions["governance"].gallery.get(state, state.now().date())
    return render_template("governance/gallery.html", gallery=built)


@bp.get("/feedback")
def feedback():
    reader = current_app.extensions["governance"].reader
    engine = current_app.extensions["cds"].feedback_store.engine

    def read():
        with engine.connect() as connection:
            return read_figures(connection)
    figures = reader.run(read)  # StoreUnavailable: the 503 page
    templates = current_app.extensions["cds"].engine.templates
    return render_template("governance/feedback.html", page=feedback_page(figures, templates.topics))
