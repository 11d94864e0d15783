"""A CDS Hooks card as the gallery shows it: what an EHR draws from each field of the card, nothing else."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from markupsafe import Markup

from ..tools.check import order_text
from .markdown import to_html

# The CDS Hooks 2.0 indicator values and the label an EHR shows beside the colour (an enum of the
# specification, not card wording: cards/ holds none of it).
INDICATOR_LABELS = {"critical": "Critical", "warning": "Warning", "info": "Info"}


@dataclass(frozen=True)
class Suggestion:
    label: str
    recommended: bool
    orders: tuple[str, ...]  # each action: what it does and, for an order, the order itself


@dataclass(frozen=True)
class Link:
    label: str
    url: str | None  # None: not an http(s) URL, shown as text and never as a link
    type: str


@dataclass(frozen=True)
class CardView:
    uuid: str
    indicator: str
    indicator_label: str
    summary: str
    detail: Markup
    source_label: str
    source_url: str | None
    topic_code: str
    suggestions: tuple[Suggestion, ...]
    selection_behavior: str | None
    links: tuple[Link, ...]
    override_reasons: tuple[str, ...]


def card_view(card: dict) -> CardView:
    source = card.get("source") or {}
    indicator = card.get("indicator", "info")
    return CardView(
        uuid=card.get("uuid", ""),
        indicator=indicator if indicator in INDICATOR_LABELS else "info",
        indicator_label=INDICATOR_LABELS.get(indicator, indicator),
        summary=card.get("summary", ""),
        detail=to_html(card.get("detail", "")),
        source_label=source.get("label", ""),
        source_url=web_url(source.get("url")),
        topic_code=(source.get("topic") or {}).get("code", ""),
        suggestions=tuple(_suggestion(s) for s in card.get("suggestions") or []),
        selection_behavior=card.get("selectionBehavior"),
        links=tuple(Link(link.get("label", ""), web_url(link.get("url")), link.get("type", ""))
                    for link in card.get("links") or []),
        override_reasons=tuple(_reason(r) for r in card.get("overrideReasons") or []),
    )


def _suggestion(suggestion: dict) -> Suggestion:
    orders = []
    for action in suggestion.get("actions") or []:
        order = order_text(action.get("resource") or {})
        what = " — ".join(x for x in (action.get("description"), order) if x)
        orders.append(f"{action.get('type', '')}: {what}" if what else action.get("type", ""))
    return Suggestion(suggestion.get("label", ""), bool(suggestion.get("isRecommended")), tuple(orders))


def _reason(reason: dict) -> str:
    display, code = reason.get("display"), reason.get("code", "")
    return f"{display} ({code})" if display else code


def web_url(url: object) -> str | None:
    """The URL if it is absolute http(s); anything else (javascript:, relative, a SMART launch id) is no href."""
    if not isinstance(url, str):
        return None
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else None
