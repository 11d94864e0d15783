"""The hook with no prefetch, fetching from a real FHIR server (SEKMET) through a fault-injecting proxy.

Each fault states the answer it must get, never a 500, never a hang: when the Patient cannot be obtained,
412 with an OperationOutcome naming that key (and no other); when another key cannot, 200 with the cards
the rest of the record supports and one incomplete-check card naming what was not read and why (and no
other source), its data left out whole — never a partial first page (each call runs under a wall-time limit of the fetch
deadline + 2 s), the access token never in the answer nor in the log. The healthy pass-through answers 200.
Where a link or redirect points at another host, that host (a recorder) must see nothing at all.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from collections import Counter

import pytest

from cds_service import create_app
from tests.conftest import SignedClient, make_config
from tests.faults.conftest import N_CONDITIONS, PAGE_SIZE, PID
from tests.faults.proxy import Fault, FaultProxy
from tests.support.fhir_data import PAGING_NOW, hook_request

pytestmark = pytest.mark.integration  # needs the real FHIR server

SERVICE = "/cds-services/posterior-knee-pain"
KEYS = ("patient", "conditions", "observations", "medications", "procedures")
SLACK = 2.0  # wall-time allowance over the fetch deadline for one hook call


# ---------------------------------------------------------------- calling the service

@dataclasses.dataclass
class Answer:
    status: int
    body: dict | None
    text: str
    elapsed: float
    sent: list[tuple[str, str | None]]  # (url, Authorization) of every request the service made

    @property
    def diagnostics(self) -> str:
        return self.body["issue"][0].get("diagnostics", "") if self.body else ""


def make_service(tmp_path, client_key, deadline: float, **config):
    """A SignedClient for an app fetching with these settings, the list its FHIR requests go into, the app."""
    config.setdefault("CLOCK_NOW", PAGING_NOW)  # the patient's data is dated for it
    app = create_app(make_config(tmp_path, client_key, FHIR_ALLOW_HTTP=True, FHIR_PAGE_SIZE=PAGE_SIZE,
                                 FHIR_FETCH_DEADLINE_SECONDS=deadline, HOOK_DEADLINE_SECONDS=deadline + 0.5, **config))
    sent: list[tuple[str, str | None]] = []
    app.extensions["cds"].fetch_settings.session.hooks["response"].append(
        lambda response, **_: sent.append((response.request.url, response.request.headers.get("Authorization"))))
    return SignedClient(app.test_client(), client_key), sent, app


def call(client: SignedClient, sent: list, fhir_server_url: str, token: str, deadline: float,
         caplog: pytest.LogCaptureFixture | None = None) -> Answer:
    """POST the hook without prefetch; fail (instead of hanging) if it takes longer than deadline + SLACK."""
    body = hook_request(pid=PID, fhirServer=fhir_server_url)
    body["fhirAuthorization"] = {"access_token": token, "token_type": "Bearer", "expires_in": 300,
                                 "scope": "patient/*.read", "subject": "cds-service", "patient": PID}
    box: dict = {}

    def run():
        try:
            box["response"] = client.post(SERVICE, json=body)
        except BaseException as error:  # noqa: BLE001 - re-raised in the test thread
            box["error"] = error

    started = time.monotonic()
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(deadline + SLACK)
    elapsed = time.monotonic() - started
    assert not worker.is_alive(), f"the hook call hung: no answer after {elapsed:.1f} s (deadline {deadline} s)"
    if "error" in box:
        raise box["error"]
    response = box["response"]
    text = response.get_data(as_text=True)
    assert token not in text, "the access token leaked into the answer"
    if caplog is not None:
        assert not any(token in record.getMessage() for record in caplog.records), "the access token was logged"
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    return Answer(response.status_code, parsed, text, elapsed, list(sent))


@pytest.fixture
def hook(tmp_path, client_key, proxy, loaded, caplog):
    """hook(deadline=..., **config) -> Answer: one call through the proxy with the server's token."""
    caplog.set_level(logging.DEBUG)

    def invoke(deadline: float = 3.0, records: list | None = None, **config) -> Answer:
        """records: a list that receives the parsed record the service evaluates."""
        client, sent, app = make_service(tmp_path, client_key, deadline, **config)
        if records is not None:
            app.extensions["cds"].observers.append(lambda record, issued: records.append(record))
        answer = call(client, sent, proxy.base_url, loaded.token, deadline, caplog)
        # Guards against a vacuous pass: the injected fault did hit a request, and the proxy did not break.
        if proxy.faults:
            assert any(seen.fault for seen in proxy.requests), "no request matched the injected fault"
        assert not proxy.errors(), proxy.errors()
        return answer
    return invoke


NOT_READ = {"conditions": "Conditions", "observations": "Observations", "medications": "Medication orders",
            "procedures": "Procedures"}


def assert_not_read(answer: Answer, key: str, *fragments: str, partial: bool = False) -> None:
    """The Patient: assert_412. Any other key: 200, and one incomplete-check card naming that source (and no
    other) and the reason: a warning for Conditions or Observations not read at all, info for the refining
    sources and for a source read only in part (`partial`: its first pages are read)."""
    if key == "patient":
        assert_412(answer, key, *fragments)
        return
    assert answer.status == 200, f"expected 200, got {answer.status}: {answer.text[:500]}"
    [card] = [c for c in answer.body["cards"] if c["source"]["topic"]["code"] == "incomplete-check"]
    # a core source unread is a warning (r34b W1: a whole problem list unread must be seen); the others info
    core = key in ("conditions", "observations") and not partial
    assert card["indicator"] == ("warning" if core else "info"), card["indicator"]
    assert NOT_READ[key] in card["summary"], card["summary"]
    others = [words for other, words in NOT_READ.items() if other != key and words in card["summary"]]
    assert not others, f"only {key} failed, but the card also names {others}: {card['summary']}"
    for fragment in fragments:
        assert fragment in card["detail"], card["detail"]


def assert_412(answer: Answer, key: str, *fragments: str) -> None:
    """412, an OperationOutcome of the CDS-Hooks kind, naming `key` (and no other key) and the reason."""
    assert answer.status == 412, f"expected 412, got {answer.status}: {answer.text[:500]}"
    assert answer.body["resourceType"] == "OperationOutcome"
    issue = answer.body["issue"][0]
    assert issue["severity"] == "error" and issue["code"] == "incomplete"
    diagnostics = answer.diagnostics
    assert f"{key}: " in diagnostics, diagnostics
    others = [other for other in KEYS if other != key and f"{other}: " in diagnostics]
    assert not others, f"only {key} failed, but the answer also names {others}: {diagnostics}"
    for fragment in fragments:
        assert fragment in diagnostics, diagnostics


# ---------------------------------------------------------------- healthy

def test_healthy_pass_through_is_200_and_pages_through_the_proxy(hook, proxy, loaded):
    records: list = []
    answer = hook(records=records)
    assert answer.status == 200, answer.text[:500]
    assert answer.body == {"cards": []}
    # Every request went to the proxy (paging links were rewritten), every one with the token.
    assert answer.sent and all(url.startswith(proxy.base_url + "/") for url, _ in answer.sent)
    assert all(auth == f"Bearer {loaded.token}" for _, auth in answer.sent)
    assert len(proxy.requests_for("Condition")) == 3  # 25 Conditions, 10 a page
    assert all(seen.outcome == "answered" for seen in proxy.requests)
    (record,) = records
    assert record.patient_id == PID
    kinds = Counter(fact.kind for fact in record.facts)
    assert (kinds["Condition"], kinds["MedicationRequest"], kinds["Procedure"]) == (N_CONDITIONS, 1, 1)


# ---------------------------------------------------------------- slow and silent servers

def test_slow_headers_within_the_deadline_is_200(hook, proxy):
    proxy.inject(Fault("delay", resource="Patient", delay=0.4))
    answer = hook(deadline=3.0)
    assert answer.status == 200, answer.text[:500]
    assert answer.elapsed >= 0.4


def test_headers_slower_than_the_deadline_is_412(hook, proxy):
    proxy.inject(Fault("delay", resource="Patient", delay=10.0))
    answer = hook(deadline=1.0)
    assert_412(answer, "patient", "did not answer")
    assert answer.elapsed < 1.0 + SLACK


def test_slow_page_two_runs_the_paging_out_of_time_is_reported_not_read(hook, proxy):
    # Each page alone is inside the read timeout; together they pass the overall deadline.
    proxy.inject(Fault("delay", resource="Condition", pages="later", delay=0.7))
    answer = hook(deadline=1.0)
    assert_not_read(answer, "conditions", "did not answer", partial=True)


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
def test_body_trickling_past_the_deadline_is_reported_not_read(hook, proxy, chunked):
    # Headers at once, then 32 bytes every 50 ms: every read is well inside the read timeout.
    proxy.inject(Fault("trickle", resource="Condition", pages="first", delay=0.05, chunk=32, chunked=chunked))
    answer = hook(deadline=1.0)
    assert_not_read(answer, "conditions", "did not answer")


@pytest.mark.parametrize("chunked", [
    True,
    False,
], ids=["chunked", "content-length"])
def test_a_trickling_server_is_let_go_by_the_deadline(hook, proxy, chunked):
    proxy.inject(Fault("trickle", resource="Condition", pages="first", delay=0.05, chunk=32, chunked=chunked))
    answer = hook(deadline=1.0)
    assert_not_read(answer, "conditions", "did not answer")
    (page,) = proxy.requests_for("Condition")
    # The service must hang up within its deadline (+ slack for the proxy to notice on its next write).
    proxy.wait_until_settled(page.started + 1.0 + 1.0 - time.monotonic())
    assert page.outcome == "client-gone" and page.ended - page.started < 2.0, (page.outcome, page.ended)


def test_slow_bodies_do_not_starve_later_requests(tmp_path, client_key, proxy, loaded, caplog):
    proxy.inject(Fault("trickle", delay=0.05, chunk=2, chunked=False))  # every key of every call trickles
    client, sent, app = make_service(tmp_path, client_key, 1.0)
    answers: list = []

    def slow_call():
        try:
            answers.append(call(SignedClient(app.test_client(), client_key), [], proxy.base_url, loaded.token,
                                1.0).status)
        except BaseException as error:  # noqa: BLE001 - shown by the assertion below
            answers.append(repr(error))
    threads = []
    for started in range(1, 5):  # four calls, 20 fetches for the 16 fetch threads, started one after another
        threads.append(threading.Thread(target=slow_call, daemon=True))
        threads[-1].start()
        limit = time.monotonic() + 2.0
        while len(proxy.requests) < min(5 * started, 16) and time.monotonic() < limit:
            time.sleep(0.01)
    for thread in threads:
        thread.join(1.0 + SLACK)
    assert answers == [412] * 4
    assert len(proxy.requests) >= 16  # every fetch thread was (at least once) held by a trickling answer
    with FaultProxy(loaded.base_url) as healthy:  # another, healthy server, once the slow calls have answered
        answer = call(client, sent, healthy.base_url, loaded.token, 1.0, caplog)
    assert answer.status == 200, answer.diagnostics


def test_a_server_that_never_answers_is_reported_not_read(hook, proxy):
    proxy.inject(Fault("hang", resource="Observation"))
    answer = hook(deadline=1.0)
    assert_not_read(answer, "observations", "did not answer")
    (seen,) = proxy.requests_for("Observation")
    proxy.wait_until_settled(1.0)
    assert seen.outcome == "client-gone"  # the read timeout, bounded by the deadline, let it go


# ---------------------------------------------------------------- error statuses and wrong answers

@pytest.mark.parametrize("status", [401, 403, 404, 500])
def test_error_status_is_reported_not_read(hook, proxy, status):
    proxy.inject(Fault("status", resource="Condition", status=status))
    assert_not_read(hook(), "conditions", f"fhirServer answered {status}")


def test_error_status_on_a_later_page_is_reported_not_read_not_a_partial_record(hook, proxy):
    proxy.inject(Fault("status", resource="Condition", pages="later", status=500))
    records: list = []
    assert_not_read(hook(records=records), "conditions", "fhirServer answered 500")
    (record,) = records
    assert not any(fact.kind == "Condition" for fact in record.facts)  # page one is not read as the whole


@pytest.mark.parametrize("body, reason", [
    pytest.param(None, "malformed JSON", id="truncated"),
    pytest.param(b"<html><body>502 Bad Gateway</body></html>", "malformed JSON", id="html"),
    pytest.param(b"", "malformed JSON", id="empty"),
    pytest.param(b"\xff\xfe{\x00}", "malformed JSON", id="not-utf8"),
    pytest.param(b'["a Bundle in an array"]', "not a FHIR resource", id="not-an-object"),
    pytest.param(b"[" * 100_000 + b"]" * 100_000, "", id="deeply-nested"),
])
def test_malformed_json_is_reported_not_read(hook, proxy, body, reason):
    proxy.inject(Fault("malformed", resource="Procedure", body=body))
    answer = hook()
    assert answer.status != 500, answer.text[:300]
    assert_not_read(answer, "procedures", reason)


def _entry_as_object(bundle: dict) -> dict:
    bundle["entry"] = bundle["entry"][0]  # a serializer writing a one-element array as the element
    return bundle


def _link_as_object(bundle: dict) -> dict:
    bundle["link"] = next(link for link in bundle["link"] if link["relation"] == "next")
    return bundle


def _no_type(bundle: dict) -> dict:
    del bundle["type"]
    return bundle


NOT_A_SEARCHSET = "did not return a searchset Bundle"


@pytest.mark.parametrize("fault, reason", [
    pytest.param(Fault("bundle_type", resource="Condition", bundle_type="batch-response"), NOT_A_SEARCHSET,
                 id="batch-response"),
    pytest.param(Fault("bundle_type", resource="Condition", bundle_type="collection"), NOT_A_SEARCHSET,
                 id="collection"),
    pytest.param(Fault("bundle_type", resource="Condition", pages="later", bundle_type="history"),
                 NOT_A_SEARCHSET, id="history-on-page-2"),
    pytest.param(Fault("rewrite", resource="Condition", transform=_no_type), NOT_A_SEARCHSET, id="no-type"),
    pytest.param(Fault("rewrite", resource="Condition", pages="first", transform=_entry_as_object), "",
                 id="entry-not-a-list"),
    pytest.param(Fault("rewrite", resource="Condition", pages="first", transform=_link_as_object), "",
                 id="link-not-a-list"),
])
def test_searchset_of_the_wrong_type_or_shape_is_reported_not_read(hook, proxy, fault, reason):
    proxy.inject(fault)
    assert_not_read(hook(), "conditions", reason)


@pytest.mark.parametrize("transform", [
    pytest.param(lambda patient: {"resourceType": "Bundle", "type": "searchset", "total": 1,
                                  "entry": [{"resource": patient}]}, id="searchset-for-a-read"),
    pytest.param(lambda patient: dict(patient, id="someone-else"), id="another-patient"),
    pytest.param(lambda patient: dict(patient, resourceType="Practitioner"), id="not-a-patient"),
])
def test_read_answered_with_the_wrong_resource_is_412(hook, proxy, transform):
    proxy.inject(Fault("rewrite", resource="Patient", transform=transform))
    assert_412(hook(), "patient")


def test_operation_outcome_with_200_is_reported_not_read(hook, proxy):
    proxy.inject(Fault("outcome", resource="MedicationRequest"))
    assert_not_read(hook(), "medications", "OperationOutcome")


def test_searchset_holding_only_an_error_outcome_is_reported_not_read(hook, proxy):
    def outcome_only(bundle: dict) -> dict:
        bundle["entry"] = [{"resource": json.loads(b'{"resourceType": "OperationOutcome", "issue": [{"severity": '
                                                   b'"error", "code": "exception", "diagnostics": "timeout"}]}'),
                            "search": {"mode": "outcome"}}]
        bundle["total"] = 0
        return bundle
    proxy.inject(Fault("rewrite", resource="MedicationRequest", transform=outcome_only))
    assert_not_read(hook(), "medications")


# ---------------------------------------------------------------- size

CAP = 256 * 1024


@pytest.mark.parametrize("chunked, compressed", [(False, False), (True, False), (False, True), (True, True)],
                         ids=["content-length", "chunked", "gzip", "gzip-chunked"])
def test_bundle_over_the_size_cap_is_reported_not_read(hook, proxy, chunked, compressed):
    proxy.inject(Fault("huge", resource="Condition", pages="first", size=4 * CAP, chunked=chunked,
                       gzip=compressed))
    answer = hook(FHIR_MAX_RESPONSE_BYTES=CAP)
    assert_not_read(answer, "conditions", f"larger than {CAP} bytes")


def test_bundle_under_the_size_cap_is_200(hook, proxy):
    proxy.inject(Fault("huge", resource="Condition", pages="first", size=CAP // 2, gzip=True))
    assert hook(FHIR_MAX_RESPONSE_BYTES=CAP).status == 200


# ---------------------------------------------------------------- paging and redirects

def test_next_link_looping_back_to_page_one_is_reported_not_read(hook, proxy):
    proxy.inject(Fault("next_loop", resource="Condition"))
    answer = hook()
    assert_not_read(answer, "conditions", "loops back")
    assert len(proxy.requests_for("Condition")) <= 3


def test_next_link_to_another_host_is_reported_not_read_and_that_host_sees_nothing(hook, proxy, elsewhere):
    proxy.inject(Fault("next_to", resource="Condition", target=elsewhere.url + "/fhir/Condition?page=2"))
    answer = hook()
    assert_not_read(answer, "conditions", "outside fhirServer")
    assert elsewhere.connections == 0 and elsewhere.requests == []
    assert all(elsewhere.url not in url for url, _ in answer.sent)


def test_next_link_to_the_same_host_outside_the_base_is_reported_not_read(hook, proxy):
    proxy.inject(Fault("next_to", resource="Condition", pages="first", target=proxy.url + "/other/Condition"))
    assert_not_read(hook(), "conditions", "outside fhirServer")
    assert [seen.path for seen in proxy.requests if seen.outcome == "outside-base"] == []


def test_next_link_escaping_the_base_by_dot_segments_is_reported_not_read(hook, proxy):
    proxy.inject(Fault("next_to", resource="Condition", pages="first",
                       target=proxy.base_url + "/../other/Condition"))
    answer = hook()
    outside = [(seen.path, seen.headers.get("Authorization")) for seen in proxy.requests
               if seen.outcome == "outside-base"]
    assert outside == [], f"the service asked outside fhirServer: {outside}"
    assert_not_read(answer, "conditions", "outside fhirServer")


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_redirect_to_another_host_is_412_and_not_followed(hook, proxy, elsewhere, status):
    proxy.inject(Fault("redirect", resource="Patient", status=status, target=elsewhere.url + f"/fhir/Patient/{PID}"))
    answer = hook()
    assert_412(answer, "patient", f"fhirServer answered {status}")
    assert elsewhere.connections == 0 and elsewhere.requests == []


def test_redirect_of_a_later_page_to_another_host_is_reported_not_read_and_not_followed(hook, proxy, elsewhere):
    proxy.inject(Fault("redirect", resource="Condition", pages="later", status=302,
                       target=elsewhere.url + "/fhir/Condition"))
    assert_not_read(hook(), "conditions", "fhirServer answered 302")
    assert elsewhere.connections == 0 and elsewhere.requests == []


# ---------------------------------------------------------------- broken connections

@pytest.mark.parametrize("fault", [
    pytest.param(Fault("reset", resource="Observation"), id="before-headers"),
    pytest.param(Fault("reset", resource="Observation", after=20), id="mid-body"),
    pytest.param(Fault("reset", resource="Observation", after=20, chunked=True), id="mid-chunked-body"),
    pytest.param(Fault("reset", resource="Condition", pages="later", after=100), id="mid-page-2"),
])
def test_connection_reset_is_reported_not_read(hook, proxy, fault):
    proxy.inject(fault)
    answer = hook()
    key = "conditions" if fault.resource == "Condition" else "observations"
    assert_not_read(answer, key, "could not be reached")
    proxy.wait_until_settled(2.0)
    assert any(seen.outcome == "reset" for seen in proxy.requests)
