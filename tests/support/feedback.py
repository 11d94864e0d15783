"""Feedback bodies the service must refuse with 400, each with the expression its OperationOutcome names.

One table for the feedback endpoint on SQLite (tests/http/test_feedback.py) and on PostgreSQL
(tests/postgres/test_feedback_on_postgres.py): what is invalid does not depend on the database.
"""
from __future__ import annotations

AT = "2026-11-22T10:00:00Z"

INVALID_FEEDBACK = [
    ({}, "$"),
    ({"feedback": []}, "feedback"),
    ({"feedback": [{"card": "c", "outcome": "accepted", "outcomeTimestamp": AT}]}, "feedback[0]"),
    ({"feedback": [{"card": "c", "outcome": "maybe", "outcomeTimestamp": AT}]}, "feedback[0].outcome"),
    ({"feedback": [{"card": "c", "outcome": "overridden", "outcomeTimestamp": "yesterday"}]},
     "feedback[0].outcomeTimestamp"),
    ({"feedback": [{"card": "c", "outcome": "overridden"}]}, "feedback[0]"),
    ({"feedback": [{"card": None, "outcome": "overridden", "outcomeTimestamp": AT}]}, "feedback[0].card"),
    ({"feedback": [{"card": "x" * 201, "outcome": "overridden", "outcomeTimestamp": AT}]}, "feedback[0].card"),
    # a valid entry first, then an invalid one: nothing at all is stored
    ({"feedback": [{"card": "c-ok", "outcome": "accepted", "acceptedSuggestions": [{"id": "sugg-1"}],
                    "outcomeTimestamp": AT},
                   {"card": "c", "outcome": "overridden"}]}, "feedback[1]"),
]
