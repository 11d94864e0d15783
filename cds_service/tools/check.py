"""`cds-service check`: call the hook for one patient of any FHIR server and show the cards.

The app is built in this process (no JWT, this one FHIR server allowed, a throw-away feedback store, a
generous fetch deadline) and the hook is invoked through Flask's test client without prefetch, so the
service fetches the patient's data from the server exactly as it would for an EHR that sends none.
The access token travels only inside the request (fhirAuthorization); nothing here prints or logs it.
"""
from __future__ import annotations

import logging
import os
import tempfile
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

SERVICE_ID = "posterior-knee-pain"
USER_ID = "Practitioner/cds-service-check"
SCOPE = ("patient/Patient.read patient/Condition.read patient/Observation.read "
         "patient/MedicationRequest.read patient/Procedure.read")
_SYSTEMS = {"http://loinc.org": "LOINC", "http://snomed.info/sct": "SNOMED CT",
            "http://www.nlm.nih.gov/research/umls/rxnorm": "RxNorm", "http://hl7.org/fhir/sid/icd-10-cm": "ICD-10-CM"}


@dataclass
class CheckResult:
    status: int
    body: object  # the parsed JSON answer (a CDS response, or an OperationOutcome), None if not JSON
    evidence: dict[str, list[str]] = field(default_factory=dict)  # card uuid -> its evidence, one line each


class _DropInProcessWarning(logging.Filter):
    """create_app warns that REQUIRE_JWT is false: true of a listening server, meaningless here, where the
    app answers only this one in-process call and never opens a port."""

    def filter(self, record: logging.LogRecord) -> bool:
        # and its throw-away feedback store is new by design
        return "REQUIRE_JWT is false" not in str(record.msg) and "no database file was there" not in str(record.msg)


def app_config(fhir_server: str | None, database_url: str, now: str | None = None) -> dict:
    """The in-process app for one check: `fhir_server` the only server it may fetch from (None: none)."""
    config = {
        "REQUIRE_JWT": False,
        "FHIR_SERVERS": [fhir_server] if fhir_server else [],
        "FHIR_ALLOW_HTTP": bool(fhir_server) and urlsplit(fhir_server).scheme == "http",
        "FEEDBACK_DATABASE": database_url,
        "FHIR_FETCH_DEADLINE_SECONDS": 30.0,  # a person is waiting, not an EHR with its ~500 ms budget
        "FHIR_CONNECT_TIMEOUT_SECONDS": 10.0,
        "FHIR_READ_TIMEOUT_SECONDS": 20.0,
        "VALIDATE_RESPONSES": True,  # a response failing its schema is a bug: 500, not cards
        "CLOCK_NOW": now,
    }
    for key in ("VALUESET_DIR", "CARDS_DIR"):  # the same clinical content as a server configured here
        if os.environ.get(f"CDS_{key}"):
            config[key] = os.environ[f"CDS_{key}"]
    return config


def request_body(fhir_server: str, patient_id: str, token: str | None) -> dict:
    body = {"hook": "patient-view", "hookInstance": str(uuid.uuid4()), "fhirServer": fhir_server,
            "context": {"userId": USER_ID, "patientId": patient_id}}
    if token:
        body["fhirAuthorization"] = {"access_token": token, "token_type": "Bearer", "expires_in": 300,
                                     "scope": SCOPE, "subject": "cds-service-check", "patient": patient_id}
    return body


def run_check(fhir_server: str, patient_id: str, token: str | None = None, now: str | None = None) -> CheckResult:
    """Invoke the hook for `patient_id`, the service fetching everything from `fhir_server`."""
    fhir_server = fhir_server.rstrip("/")
    return _invoke(lambda database: app_config(fhir_server, database, now),
                   request_body(fhir_server, patient_id, token))


def run_check_request(body: dict, now: str | None = None) -> CheckResult:
    """Invoke the hook with a whole request (its prefetch, e.g. examples/*.json): no FHIR server, no fetch."""
    return _invoke(lambda database: app_config(None, database, now), body)


def _invoke(make_config, body: dict) -> CheckResult:
    from .. import create_app

    quiet = _DropInProcessWarning()
    handlers = list(logging.getLogger().handlers)  # where every logger's records end up
    with tempfile.TemporaryDirectory(prefix="cds-check-") as folder:
        database = f"sqlite:///{os.path.join(folder, 'feedback.sqlite3')}"
        for handler in handlers:
            handler.addFilter(quiet)
        try:
            app = create_app(make_config(database))
        finally:
            for handler in handlers:
                handler.removeFilter(quiet)
        state = app.extensions["cds"]
        issued: list = []
        state.observers.append(lambda record, cards: issued.extend(cards))  # the findings behind the cards
        try:
            response = app.test_client().post(f"/cds-services/{SERVICE_ID}", json=body)
            answer = response.get_json(silent=True)
            line = state.engine.templates.evidence_line
            # An integrator wants the resource behind each line; the card's text for clinicians leaves it out.
            evidence = {i.card["uuid"]: [f"{line(e)} [{e.reference}]" for e in i.finding.evidence] for i in issued}
            return CheckResult(response.status_code, answer, evidence)
        finally:
            state.fetch_settings.executor.shutdown(wait=False, cancel_futures=True)
            state.fetch_settings.session.close()
            state.feedback_store.close()  # write what is queued, then release the sqlite file before its folder goes


# ------------------------------------------------------------------------------------------ output

def diagnostics(result: CheckResult) -> str:
    """What went wrong, from the OperationOutcome of an error answer."""
    body = result.body
    if isinstance(body, dict) and body.get("resourceType") == "OperationOutcome":
        texts = []
        for issue in body.get("issue") or []:
            text = issue.get("diagnostics") or issue.get("code") or "error"
            where = ", ".join(issue.get("expression") or [])
            texts.append(f"{text} (at {where})" if where else text)
        if texts:
            return "; ".join(texts)
    return "no OperationOutcome in the answer"


def format_cards(response: dict, patient_id: str, fhir_server: str,
                 evidence: dict[str, list[str]] | None = None) -> str:
    """The cards for a person to read; `evidence` (CheckResult.evidence) lists what raised each."""
    cards = response.get("cards") or []
    lines = [f"Patient {patient_id} on {fhir_server.rstrip('/')}: "
             f"{len(cards)} card{'s' * (len(cards) != 1)}"]
    if not cards:
        lines += ["", "No card: nothing in this record calls for one."]
    for number, card in enumerate(cards, 1):
        lines += ["", *_card_lines(number, card, (evidence or {}).get(card.get("uuid"), []))]
    return "\n".join(lines) + "\n"


def _card_lines(number: int, card: dict, evidence: list[str]) -> list[str]:
    topic = ((card.get("source") or {}).get("topic") or {})
    lines = [f"{number}. [{str(card.get('indicator', '')).upper()}] {card.get('summary', '')}",
             f"   topic: {topic.get('code', '?')}" + (f" ({topic['display']})" if topic.get("display") else "")]
    source = card.get("source") or {}
    if source.get("label"):
        lines.append(f"   source: {source['label']}")
    if evidence:
        lines.append("   from the record:")
        lines += [f"     - {line}" for line in evidence]
    suggestions = card.get("suggestions") or []
    if suggestions:
        lines.append("   suggestions:")
    for suggestion in suggestions:
        mark = " (recommended)" if suggestion.get("isRecommended") else ""
        lines.append(f"     * {suggestion.get('label', '')}{mark}")
        for action in suggestion.get("actions") or []:
            order = order_text(action.get("resource") or {})
            if order:
                lines.append(f"         order: {order}")
    return lines


def order_text(resource: dict) -> str:
    """A suggested order as `LOINC 30881-7 US.doppler Lower extremity vein (ServiceRequest, urgent)`."""
    code = resource.get("code") or {}
    codings = [f"{_SYSTEMS.get(c.get('system'), c.get('system', '?'))} {c.get('code', '?')}"
               + (f" {c['display']}" if c.get("display") else "") for c in code.get("coding") or []]
    what = "; ".join(codings) or (f"{code['text']} (text only, no code)" if code.get("text") else "")
    if not what:
        return ""
    kind = ", ".join(x for x in (resource.get("resourceType"), resource.get("priority")) if x)
    return f"{what} ({kind})" if kind else what
