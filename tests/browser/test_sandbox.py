"""What a clinician sees in the real CDS Hooks sandbox (headless Chromium) for the demo patients: the right
first card and indicator, Markdown rendered, the suggestions as buttons, no resource ids; a dismissal with a
reason and a taken suggestion stored as feedback; and, when the FHIR server fails the Procedure search, the
PE card still first with the gap stated on it."""
from __future__ import annotations

import json
import re

import pytest

from cds_service.tools import demo
from tests.support.browser import chromium

PATIENTS = {p.id: p for p in demo.demo_patients()}
CARD = '[class*="card-list__decision-card"]'
HOOK_PATH = "/cds-services/posterior-knee-pain"


def open_patient(page, sandbox_url, fhir_base, service, patient_id):
    """Opens the sandbox's Patient View for the patient; returns the service's answer (the JSON the page got)
    once every card it holds is on screen."""
    url = (f"{sandbox_url}/?fhirServiceUrl={fhir_base}&patientId={patient_id}"
           f"&serviceDiscoveryURL={service.base_url}/cds-services")
    with page.expect_response(lambda r: r.url == service.base_url + HOOK_PATH and r.request.method == "POST",
                              timeout=30_000) as hook:
        page.goto(url)
    assert hook.value.status == 200, hook.value.text()
    answer = hook.value.json()
    if answer["cards"]:
        page.locator(CARD).nth(len(answer["cards"]) - 1).wait_for(timeout=15_000)
    return answer


@pytest.fixture(scope="module")
def page(sandbox_url, service):
    with chromium(1280, 900) as context:
        yield context.new_page()


@pytest.mark.parametrize("patient_id", list(PATIENTS))
def test_each_demo_patient_shows_its_first_card_as_a_clinician_reads_it(page, sandbox_url, open_fhir, service,
                                                                        patient_id):
    expected = PATIENTS[patient_id]
    answer = open_patient(page, sandbox_url, open_fhir.base_url, service, patient_id)
    cards = answer["cards"]
    assert [c["source"]["topic"]["code"] for c in cards] == list(expected.expected_topics)

    shown = page.locator(CARD)
    assert shown.count() == len(cards)
    first, first_shown = cards[0], shown.first
    # the indicator the sandbox draws (its red, amber or blue bar) is the card's
    assert f"card-list__alert-{first['indicator']}" in first_shown.get_attribute("class")
    text = first_shown.inner_text()
    assert first["summary"] in text
    # Markdown rendered: the "Next step" heading is bold, never raw asterisks; no resource ids in the text read
    assert first_shown.locator("strong", has_text="Next step").count() == 1
    for i in range(shown.count()):
        visible = shown.nth(i).inner_text()
        assert "**" not in visible
        assert not re.search(r"\b(Condition|Observation|Procedure|MedicationRequest)/demo-", visible)
    # the decision and the next step come first: both within the card's first lines on screen
    lines = [line for line in text.splitlines() if line.strip()]
    assert "Next step" in lines[:6], lines[:8]
    for suggestion in first.get("suggestions", []):
        assert first_shown.get_by_role("button", name=suggestion["label"], exact=True).is_visible()


def test_a_dismissal_with_a_reason_is_stored_as_feedback(page, sandbox_url, open_fhir, service):
    answer = open_patient(page, sandbox_url, open_fhir.base_url, service, "demo-bakers-cyst")
    card = answer["cards"][0]
    before = len(service.feedback_rows())
    reasons = {r["display"]: r["code"] for r in card["overrideReasons"]}
    reason = next(iter(reasons))
    shown = page.locator(CARD).first
    with page.expect_response(lambda r: r.url.endswith(HOOK_PATH + "/feedback")) as feedback:
        shown.locator('[role="group"] button').nth(1).click()  # the arrow beside "Dismiss"
        page.get_by_role("menuitem", name=f"Override: {reason}", exact=True).click()
    assert feedback.value.status == 200
    page.locator(CARD).nth(len(answer["cards"]) - 1).wait_for(state="detached", timeout=5_000)
    rows = service.feedback_rows()
    assert len(rows) == before + 1
    stored = rows[-1]
    assert (stored["card_uuid"], stored["topic"], stored["outcome"]) == (card["uuid"], "bakers-cyst", "overridden")
    assert stored["override_reason_code"] == reasons[reason]
    assert stored["client_iss"] == "https://sandbox.cds-hooks.org"  # the sandbox's ES384 token was verified


def test_a_taken_suggestion_is_stored_as_accepted_feedback(page, sandbox_url, open_fhir, service):
    answer = open_patient(page, sandbox_url, open_fhir.base_url, service, "demo-suspected-dvt")
    card = answer["cards"][0]
    suggestion = card["suggestions"][0]
    with page.expect_response(lambda r: r.url.endswith(HOOK_PATH + "/feedback")) as feedback:
        page.locator(CARD).first.get_by_role("button", name=suggestion["label"], exact=True).click()
    assert feedback.value.status == 200
    stored = service.feedback_rows()[-1]
    assert (stored["card_uuid"], stored["topic"], stored["outcome"]) == (card["uuid"], "suspected-dvt", "accepted")
    assert json.loads(stored["accepted_suggestions"]) == [suggestion["uuid"]]


def test_when_the_procedure_search_fails_the_pe_card_is_still_first_and_says_what_was_not_read(
        page, sandbox_url, open_fhir, service):
    open_fhir.failing = {"Procedure"}
    open_fhir.failed.clear()
    try:
        answer = open_patient(page, sandbox_url, open_fhir.base_url, service, "demo-suspected-pe")
    finally:
        open_fhir.failing = set()
    # both the sandbox's own search and the service's fetch of the key the sandbox left out were refused
    assert "POST Procedure" in open_fhir.failed and "GET Procedure" in open_fhir.failed
    topics = [c["source"]["topic"]["code"] for c in answer["cards"]]
    assert topics[0] == "suspected-pe" and "incomplete-check" in topics
    first = page.locator(CARD).first
    assert "card-list__alert-critical" in first.get_attribute("class")
    assert "Procedures could not be read" in first.inner_text()
    incomplete = page.locator(CARD).nth(topics.index("incomplete-check"))
    assert "Procedures" in incomplete.inner_text()
    assert "All clear" not in page.inner_text("body")
