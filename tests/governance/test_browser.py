"""The governance pages in a real browser (Debian's Chromium, tests/support/browser.py), served over HTTP by
the app itself: what a person sees at a phone's width and a desktop's, and screenshots checked pixel by pixel
(the critical card's indicator in its colour; the feedback chart's bars drawn, in their colours).

Screenshots are written to $CDS_TEST_SHOTS when set (e.g. /tmp/gov_shots), else to the test's tmp folder."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.governance.conftest import EXPECTED, PATIENTS, serving
from tests.governance.png import decode, hex_colour
from tests.governance.test_views import hook_cards
from tests.support.browser import chromium

CSS = (Path(__file__).resolve().parents[2] / "cds_service" / "governance" / "static" / "governance.css").read_text()


def css_colour(name: str) -> tuple[int, int, int]:
    """A colour the style sheet declares (`--critical: #b3261e;`), so the test follows the sheet."""
    return hex_colour(CSS.split(f"--{name}:")[1].split(";")[0].strip())


CRITICAL = css_colour("critical")
ISSUED, ACCEPTED = hex_colour("#57606a"), hex_colour("#1a7f37")  # .bar-cardsIssued, .bar-accepted


@pytest.fixture(scope="module")
def base_url(populated):
    with serving(populated.app) as url:
        yield url


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("CDS_TEST_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _open(context, url: str):
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    response = page.goto(url)
    assert response.status == 200
    return page, problems


@pytest.mark.parametrize("width, height, name", [(390, 844, "narrow"), (1440, 900, "wide")])
def test_gallery_as_a_person_sees_it(populated, base_url, shots, width, height, name):
    with chromium(width=width, height=height) as context:
        page, problems = _open(context, base_url + "/governance/gallery")
        # the style sheet loaded (the CSP allows it) and nothing was refused
        assert page.eval_on_selector(".card-critical .strip", "e => getComputedStyle(e).backgroundColor") \
            == "rgb({}, {}, {})".format(*CRITICAL)
        assert not problems, problems
        for patient in PATIENTS.values():
            first = hook_cards(populated, patient)[0]["summary"]
            summary = page.locator("h4.summary", has_text=first).first
            assert summary.is_visible(), (patient.id, first)
        labels = {text.strip().lower() for text in page.locator(".card .indicator").all_inner_texts()}
        assert labels == {"critical", "warning", "info"}
        visible = page.inner_text("main")
        assert "**" not in visible and "<strong>" not in visible  # Markdown rendered, not shown
        assert page.locator(".card .detail strong").count() >= len(PATIENTS)
        buttons = page.locator(".suggestion button[disabled]")
        assert buttons.count() >= len(PATIENTS) and buttons.first.is_visible()
        assert page.locator("p.missing", has_text="No demo patient produces this variant").count() > 0
        # nothing wider than the screen at a phone's width: a card must be read without scrolling sideways
        assert page.evaluate("document.documentElement.scrollWidth") <= width

        page.screenshot(path=str(shots / f"gallery-{name}.png"), full_page=True)
        card = page.locator(".card-critical").first
        card.scroll_into_view_if_needed()
        image = decode(card.screenshot(path=str(shots / f"gallery-{name}-critical-card.png")))
        strip = [image.pixel(x, y) for x in range(2, 9) for y in range(10, image.height - 10, 7)]
        assert set(strip) == {CRITICAL}  # the indicator strip, top to bottom
        label = page.locator(".card-critical .indicator").first.bounding_box()
        box = card.bounding_box()
        x0, y0 = int(label["x"] - box["x"]), int(label["y"] - box["y"])
        badge = [image.pixel(x, y) for x in range(x0 + 1, x0 + int(label["width"]) - 1)
                 for y in range(y0 + 1, y0 + int(label["height"]) - 1)]
        assert badge.count(CRITICAL) > 0.6 * len(badge)  # the label's badge, its white text aside
        assert (255, 255, 255) in badge


def test_feedback_page_charts(populated, base_url, shots):
    with chromium(width=1280, height=900) as context:
        page, problems = _open(context, base_url + "/governance/feedback")
        assert not problems, problems
        charts = page.locator("figure.chart:has(svg.weeks)")
        assert charts.count() == len(EXPECTED)
        for index in range(charts.count()):
            chart = charts.nth(index)
            bars = chart.locator("rect.bar")
            heights = {}
            for i in range(bars.count()):
                bar = bars.nth(i)
                heights.setdefault(bar.get_attribute("data-series"), 0)
                count = int(bar.get_attribute("data-count"))
                box = bar.bounding_box()
                heights[bar.get_attribute("data-series")] += count
                if count == 0:
                    assert box is None or box["height"] < 0.5
                else:
                    ratio = box["height"] / count
                    first = chart.evaluate("(e, r) => e.dataset.ratio || (e.dataset.ratio = r)", ratio)
                    assert abs(ratio - float(first)) < 0.5, "bars are not proportional to their counts"
            topic = chart.locator("figcaption").inner_text().rsplit("(", 1)[1].rstrip(")")
            assert (heights["cardsIssued"], heights["accepted"], heights["overridden"]) == EXPECTED[topic]
        dvt = page.locator("figure.chart", has=page.locator("figcaption", has_text="(suspected-dvt)"))
        image = decode(dvt.locator("svg").screenshot(path=str(shots / "feedback-suspected-dvt-chart.png")))
        colours = image.colours()
        assert {ISSUED, ACCEPTED, CRITICAL} <= colours, "the chart's bars are not on the screenshot"
        assert len(colours) > 10  # text and axes too, not a blank box
        page.screenshot(path=str(shots / "feedback.png"), full_page=True)
        reasons = page.locator("#reasons-chart rect.bar")
        assert reasons.count() == 3
