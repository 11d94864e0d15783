"""`cds-service feedback report`: how clinicians answered the cards, per card topic and override reason.

Read-only SQLAlchemy Core queries on the feedback store's own tables (cds_service.feedback.store):
`issued_cards` (one row per card the service returned) and `feedback` (one row per feedback entry; a card
may be answered more than once, and each answer counts). Rates are over feedback entries:
acceptance rate = accepted / entries, override rate = overridden / entries; a reason's share is its part of
the topic's overrides. Feedback on a card this store never issued has no topic and is reported as such.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date

from sqlalchemy import case, create_engine, func, inspect, select
from sqlalchemy.engine import make_url

from .. import config as config_module
from ..feedback.store import feedback, issued_cards
from ..content.catalogue import default_catalogue

UNKNOWN_TOPIC = "(card not issued by this store)"
NO_REASON = "(no reason given)"


class ReportError(Exception):
    """The store could not be read."""


def default_database_url(environ: Mapping[str, str] | None = None) -> str:
    """The app's FEEDBACK_DATABASE: CDS_FEEDBACK_DATABASE (or CDS_CONFIG_FILE's FEEDBACK_DATABASE, read by
    config.from_environment as the app reads it), else feedback.sqlite3 in the app's instance folder.

    The instance folder is Flask's, for the same import name create_app uses."""
    environ = os.environ if environ is None else environ
    relevant = {k: v for k, v in environ.items() if k in ("CDS_FEEDBACK_DATABASE", "CDS_CONFIG_FILE")}
    configured = config_module.from_environment(relevant).get("FEEDBACK_DATABASE")
    if configured:
        return configured
    from flask import Flask

    from .. import app as app_module  # where create_app builds its Flask app

    instance_path = Flask(app_module.__name__, instance_relative_config=True).instance_path
    return app_module.default_feedback_database(instance_path)


def safe_url(url: str) -> str:
    """The database URL for display, its password masked."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy can parse: show nothing of it
        return "(unparseable database URL)"


def build_report(database_url: str) -> dict:
    """Counts and rates per topic and per topic x override reason. Raises ReportError if unreadable."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") \
            and not os.path.exists(url.database):
        raise ReportError(f"no feedback database at {url.database}")  # and do not create an empty one
    engine = create_engine(url, hide_parameters=True)  # as the service's engines: no bound values in errors
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            missing = {issued_cards.name, feedback.name} - tables
            if missing:
                raise ReportError(f"{safe_url(database_url)} has no {' or '.join(sorted(missing))} table: "
                                  "not a feedback store")
            figures = read_figures(connection)
    except ReportError:
        raise
    except Exception as error:  # a database error: name its kind, not its text (which may quote the URL)
        raise ReportError(f"could not read {safe_url(database_url)} ({type(error).__name__})") from None
    finally:
        engine.dispose()
    # The command's answer is the report as it always was; the weekly figures are for the governance pages.
    return {"database": safe_url(database_url), "topics": figures["topics"],
            "overrideReasons": figures["overrideReasons"], "totals": figures["totals"]}


def read_figures(connection) -> dict:
    """Every figure of the report, read on an open connection to a feedback store: the command and the
    governance pages (cds_service.governance) both call this, so they cannot disagree.

    topics, overrideReasons and totals are the report's; weeks holds, per ISO week and topic, the cards issued
    (by when they were issued) and the feedback entries accepted and overridden (by when they reached the
    service: the server's clock, not the client's outcomeTimestamp). Their sums are the per-topic figures.
    Aggregates only: no card, hook, patient or user identifier, and no free text, leaves this function."""
    issued = dict(connection.execute(
        select(issued_cards.c.topic, func.count()).group_by(issued_cards.c.topic)).all())
    answers = {row.topic: row for row in connection.execute(
        select(feedback.c.topic,
               func.count().label("entries"),
               func.sum(case((feedback.c.outcome == "accepted", 1), else_=0)).label("accepted"),
               func.sum(case((feedback.c.outcome == "overridden", 1), else_=0)).label("overridden"))
        .group_by(feedback.c.topic))}
    reasons = connection.execute(
        select(feedback.c.topic, feedback.c.override_reason_system, feedback.c.override_reason_code,
               func.max(feedback.c.override_reason_display).label("display"),
               func.count().label("count"))
        .where(feedback.c.outcome == "overridden")
        .group_by(feedback.c.topic, feedback.c.override_reason_system, feedback.c.override_reason_code)
    ).all()
    # Grouped by day in the database (func.date is SQLite's and PostgreSQL's alike), into ISO weeks here: a
    # week function is dialect-specific, and the rows are at most topics x days.
    issued_days = connection.execute(
        select(issued_cards.c.topic, func.date(issued_cards.c.issued_at).label("day"), func.count().label("n"))
        .group_by(issued_cards.c.topic, func.date(issued_cards.c.issued_at))).all()
    answer_days = connection.execute(
        select(feedback.c.topic, func.date(feedback.c.received_at).label("day"),
               func.sum(case((feedback.c.outcome == "accepted", 1), else_=0)).label("accepted"),
               func.sum(case((feedback.c.outcome == "overridden", 1), else_=0)).label("overridden"))
        .group_by(feedback.c.topic, func.date(feedback.c.received_at))).all()

    topics = []
    for topic in sorted(set(issued) | set(answers), key=_topic_order):
        row = answers.get(topic)
        entries, accepted, overridden = (row.entries, int(row.accepted or 0), int(row.overridden or 0)) \
            if row else (0, 0, 0)
        topics.append({"topic": topic, "cardsIssued": issued.get(topic, 0), "feedbackEntries": entries,
                       "accepted": accepted, "overridden": overridden,
                       "acceptanceRate": _rate(accepted, entries), "overrideRate": _rate(overridden, entries)})
    overridden_by_topic = {t["topic"]: t["overridden"] for t in topics}
    reason_rows = [{"topic": r.topic, "system": r.override_reason_system, "code": r.override_reason_code,
                    "display": r.display, "count": r.count,
                    "shareOfOverrides": _rate(r.count, overridden_by_topic.get(r.topic, 0))}
                   for r in reasons]
    reason_rows.sort(key=lambda r: (_topic_order(r["topic"]), -r["count"], r["code"] or ""))
    entries = sum(t["feedbackEntries"] for t in topics)
    accepted = sum(t["accepted"] for t in topics)
    overridden = sum(t["overridden"] for t in topics)
    return {
        "topics": topics,
        "overrideReasons": reason_rows,
        "totals": {"cardsIssued": sum(t["cardsIssued"] for t in topics), "feedbackEntries": entries,
                   "accepted": accepted, "overridden": overridden,
                   "acceptanceRate": _rate(accepted, entries), "overrideRate": _rate(overridden, entries)},
        "weeks": _weekly(issued_days, answer_days),
    }


def _weekly(issued_days, answer_days) -> list[dict]:
    """Per (ISO week, topic): cardsIssued, accepted, overridden; weeks oldest first, topics by urgency."""
    cells: dict[tuple[str, str | None], dict] = {}

    def cell(day, topic):
        key = (iso_week(day), topic)
        return cells.setdefault(key, {"week": key[0], "topic": topic, "cardsIssued": 0, "accepted": 0,
                                      "overridden": 0})
    for row in issued_days:
        cell(row.day, row.topic)["cardsIssued"] += int(row.n)
    for row in answer_days:
        counts = cell(row.day, row.topic)
        counts["accepted"] += int(row.accepted or 0)
        counts["overridden"] += int(row.overridden or 0)
    return sorted(cells.values(), key=lambda c: (c["week"], _topic_order(c["topic"])))


def iso_week(day) -> str:
    """'2026-W48' for a date, or for the 'YYYY-MM-DD' text SQLite's date() returns."""
    if isinstance(day, str):
        day = date.fromisoformat(day[:10])
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _topic_order(topic: str | None):
    """Known topics by urgency (the service's order), then others alphabetically, unknown cards last."""
    if topic is None:
        return (2, 0, "")
    rank = default_catalogue().rank
    return (0, rank[topic], "") if topic in rank else (1, 0, topic)


# ------------------------------------------------------------------------------------------ output

def format_report(report: dict) -> str:
    lines = [f"Feedback store: {report['database']}", ""]
    if not report["topics"]:
        return "\n".join(lines + ["No cards issued and no feedback recorded yet."]) + "\n"
    rows = [[topic_label(t["topic"]), t["cardsIssued"], t["feedbackEntries"], t["accepted"], t["overridden"],
             percent(t["acceptanceRate"]), percent(t["overrideRate"])] for t in report["topics"]]
    total = report["totals"]
    rows.append(["total", total["cardsIssued"], total["feedbackEntries"], total["accepted"], total["overridden"],
                 percent(total["acceptanceRate"]), percent(total["overrideRate"])])
    lines += ["Per card topic", *_table(["topic", "cards issued", "feedback entries", "accepted", "overridden",
                                         "acceptance rate", "override rate"], rows, total_row=True)]
    lines += ["", "Overrides per topic and reason"]
    if report["overrideReasons"]:
        lines += _table(["topic", "override reason", "count", "share of topic's overrides"],
                        [[topic_label(r["topic"]), reason_label(r), r["count"], percent(r["shareOfOverrides"])]
                         for r in report["overrideReasons"]])
    else:
        lines.append("No overrides recorded.")
    return "\n".join(lines) + "\n"


def topic_label(topic: str | None) -> str:
    return topic if topic is not None else UNKNOWN_TOPIC


def reason_label(reason: dict) -> str:
    if not reason["code"]:
        return NO_REASON
    return f"{reason['code']} ({reason['display']})" if reason["display"] else reason["code"]


def percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.1f}%"


def _table(header: list[str], rows: list[list], total_row: bool = False) -> list[str]:
    cells = [[str(c) for c in row] for row in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    numeric = [i > 0 and all(_numeric(row[i]) for row in cells[1:]) for i in range(len(header))]

    def line(row):  # text left, numbers right
        return "  ".join(cell.rjust(w) if right else cell.ljust(w)
                         for cell, w, right in zip(row, widths, numeric)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    body = [line(row) for row in cells[1:]]
    if total_row:
        body.insert(len(body) - 1, rule)
    return [line(cells[0]), rule, *body]


def _numeric(cell: str) -> bool:
    return cell == "-" or cell.rstrip("%").replace(".", "", 1).isdigit()
