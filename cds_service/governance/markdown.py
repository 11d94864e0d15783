"""Card detail Markdown to HTML, as an EHR renders it (CDS Hooks: `detail` is GitHub-flavoured Markdown).

markdown-it-py, CommonMark with tables, raw HTML off: a `<script>` or `<img onerror>` in a card's text comes
out as text, never as markup. Links keep markdown-it's own check (no javascript:, vbscript:, file: or data:
URLs other than images), and the pages' Content-Security-Policy loads nothing from elsewhere anyway.
"""
from __future__ import annotations

from markdown_it import MarkdownIt
from markupsafe import Markup

_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")


def to_html(text: str) -> Markup:
    """Safe HTML for Jinja: markdown-it escapes every character of the source it does not turn into markup."""
    return Markup(_MARKDOWN.render(text or ""))
