"""Prefetch, checked against the templates; what is missing or failed, fetched from fhirServer in parallel.

CDS Hooks 2.0 tells three cases apart, and so do we:
- key absent: the client chose not to (or could not) prefetch: fetch it;
- value null: the client looked and there is no data: an empty list (for the Patient, fetch: every
  patient exists);
- an OperationOutcome, or a Bundle holding only one: the client's query failed: fetch it.
What cannot be obtained (not prefetched and no fhirServer, or its fetch failed) ends the request with 412
only when nothing can be said: no Patient, or neither Conditions nor Observations (templates.py, roles).
Anything else is named in PatientData.unavailable; the rules run on what was read and the cards say what
was not.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import requests

from ..errors import BadRequest, PreconditionFailed
from ..observability.instrument import count_fetch_error
from ..fhir_dates import as_datetime
from .lean import RawEntries, head, is_raw, measured, whole
from .fetch import (CutShort, FetchError, FetchLimits, FhirClient, UnusableToken, check_access_token,
                    check_server_url, next_link)
from .templates import PrefetchTemplate

log = logging.getLogger(__name__)


@dataclass
class PatientData:
    patient: dict
    resources: dict[str, list[dict]]  # resource type -> raw resources of this patient
    origin: dict[str, str] = field(default_factory=dict)  # key -> prefetch | prefetch-null | fetched
    dropped: Counter = field(default_factory=Counter)  # why resources were set aside
    unavailable: dict[str, str] = field(default_factory=dict)  # refining resource type -> why it was not read
    partial: dict[str, str] = field(default_factory=dict)  # resource type -> what of it was not read, and why


@dataclass(frozen=True)
class FetchSettings:
    session: requests.Session
    executor: Executor
    limits: FetchLimits
    deadline_seconds: float
    allow_http: bool
    windows: Mapping[str, timedelta] = field(default_factory=dict)  # catalogue windows, for bounded templates
    server_concurrency: int = 3  # hook calls fetching from one FHIR server at once (a bulkhead, per process)
    bulkheads: dict = field(default_factory=dict, compare=False)  # origin -> BoundedSemaphore


_BULKHEAD_LOCK = threading.Lock()


def _bulkhead(settings: FetchSettings, server: str) -> threading.BoundedSemaphore:
    parts = urlsplit(server)
    origin = (parts.scheme.lower(), (parts.hostname or "").lower(), parts.port)
    with _BULKHEAD_LOCK:
        return settings.bulkheads.setdefault(origin, threading.BoundedSemaphore(settings.server_concurrency))


_NEEDS_FETCH = object()


def resolve_patient_data(body: dict, templates: tuple[PrefetchTemplate, ...], settings: FetchSettings,
                         allowlist: tuple[str, ...] = (), fetch_until: float | None = None,
                         now: datetime | None = None, relevant: Callable[[dict], bool] | None = None) -> PatientData:
    """The patient's data from prefetch, fetching what is missing until `fetch_until` (time.monotonic(); at
    most the fetch deadline from now). `now` dates the windows of bounded templates. A prefetch entry still
    raw (prefetch/lean.py) is decoded whole only when `relevant` says a rule can use its head."""
    patient_id = body["context"]["patientId"]
    prefetch = body.get("prefetch") or {}
    data = PatientData(patient={}, resources={})
    since = {t.key: now - settings.windows[t.bound.window] for t in templates
             if t.bound and now is not None and t.bound.window in settings.windows}
    raw: dict[str, object] = {}
    to_fetch: list[PrefetchTemplate] = []
    first_pages: dict[str, list] = {}
    for template in templates:
        value = _from_prefetch(template, prefetch, patient_id, data)
        if value is not _NEEDS_FETCH and data.origin.get(template.key) == "prefetch-bounded-page":
            short = _short_of(value, since.get(template.key))
            if short:
                data.partial[template.resource_type] = (f"the prefetch's newest {len(value)} reach back to "
                                                        f"{short} only")
                if body.get("fhirServer") and len(value) < template.bound.count:
                    # The EHR paged at its own size, not the template's: read the window from fhirServer,
                    # keeping this page if that fails.
                    first_pages[template.key] = value
                    value = _NEEDS_FETCH
        if value is _NEEDS_FETCH:
            to_fetch.append(template)
        else:
            raw[template.key] = value
    if to_fetch:
        # A short prefetch page re-read from fhirServer: its note stands only if that read fails.
        page_notes = {t.key: data.partial.pop(t.resource_type) for t in to_fetch if t.key in first_pages}
        fetched, failures, blame = _fetch(body, to_fetch, settings, allowlist, fetch_until, since, data.partial)
        for template in to_fetch:
            if template.key in first_pages and template.key not in fetched:
                fetched[template.key] = first_pages[template.key]
                data.partial[template.resource_type] = page_notes[template.key]
        failures = [(key, why) for key, why in failures if key not in first_pages]
        why_not = {key: _why(data.origin.get(key), why) for key, why in failures}
        _nothing_can_be_said(templates, why_not, blame)
        raw.update(fetched)
        for template in to_fetch:
            if template.key in why_not:
                if body.get("fhirServer"):  # a fetch was tried and failed
                    count_fetch_error(template.key)
                log.info("data %s not read: %s", template.key, why_not[template.key])
                data.unavailable[template.resource_type] = why_not[template.key]
                raw[template.key] = []
            elif raw[template.key] is not first_pages.get(template.key):
                data.origin[template.key] = "fetched"

    data.patient = raw["patient"]
    if data.patient.get("id") != patient_id:
        raise BadRequest("the Patient does not match context.patientId", "prefetch.patient")
    for template in templates:
        if template.is_search:
            data.resources[template.resource_type] = _own_resources(template, raw[template.key], patient_id,
                                                                    data.dropped, relevant)
    return data


_PREFETCH_STATE = {"prefetch-failed": "its prefetch failed (OperationOutcome)",
                   "prefetch-first-page": "its prefetch held a first page only"}

# Where each bounded resource type keeps the date a newest-first search sorts by.
_DATE_ELEMENTS = ("effectiveDateTime", "effectiveInstant", "effectivePeriod", "issued")


def _resource_of(entry: object) -> dict | None:
    """The entry's resource: a dict's, or a raw entry's head (enough for its type and dates)."""
    if isinstance(entry, dict):
        resource = entry.get("resource")
        return resource if isinstance(resource, dict) else None
    return head(entry)[0] if is_raw(entry) else None


def _entry_date(entry: object) -> datetime | None:
    resource = _resource_of(entry)
    if not isinstance(resource, dict):
        return None
    for element in _DATE_ELEMENTS:
        value = resource.get(element)
        if isinstance(value, dict):
            value = value.get("start")
        moment = as_datetime(value) if isinstance(value, str) else None
        if moment is not None:
            return moment
    return None


def _short_of(entries: list, since: datetime | None) -> str | None:
    """The date a newest-first page reaches back to, when that is inside the window (so older entries the
    rules would read may exist); None when the page covers the window."""
    oldest = _oldest(entries) if since is not None else None
    return oldest.date().isoformat() if oldest is not None and oldest > since else None


def _oldest(entries: list) -> datetime | None:
    return min((d for d in map(_entry_date, entries) if d is not None), default=None)


def _why(origin: str | None, why: str) -> str:
    """The fetch failure, saying what was wrong with the prefetch when the EHR sent one."""
    if origin in _PREFETCH_STATE:
        return why.replace("not prefetched", _PREFETCH_STATE[origin]) if why.startswith("not prefetched") \
            else f"{_PREFETCH_STATE[origin]}, then {why}"
    return why


def _nothing_can_be_said(templates: tuple[PrefetchTemplate, ...], why_not: dict[str, str],
                         expression: str | None = None) -> None:
    """412 when the Patient, or both Conditions and Observations, could not be read; `expression` names the
    request element to blame when one made every fetch impossible."""
    essential = [t for t in templates if t.role == "always" and t.key in why_not]
    core = [t for t in templates if t.role == "core"]
    if core and all(t.key in why_not for t in core):
        essential += core
    if essential:
        raise PreconditionFailed("required data could not be obtained: "
                                 + "; ".join(f"{t.key}: {why_not[t.key]}" for t in sorted(essential, key=lambda t: t.key)),
                                 expression)


def _from_prefetch(template: PrefetchTemplate, prefetch: dict, patient_id: str, data: PatientData):
    key = template.key
    if key not in prefetch:
        return _NEEDS_FETCH
    value = prefetch[key]
    if value is None:
        if not template.is_search:
            return _NEEDS_FETCH
        data.origin[key] = "prefetch-null"
        return []
    resource_type = value.get("resourceType")
    if resource_type == "OperationOutcome":
        log.info("prefetch key %s carried an OperationOutcome; fetching it", key)
        data.origin[key] = "prefetch-failed"
        return _NEEDS_FETCH
    if not template.is_search:
        if resource_type != template.resource_type:
            raise BadRequest(f"prefetch.{key} must be a {template.resource_type}", f"prefetch.{key}")
        data.origin[key] = "prefetch"
        return value
    if resource_type != "Bundle" or not isinstance(value.get("entry", []), list):
        raise BadRequest(f"prefetch.{key} must be a Bundle", f"prefetch.{key}")
    entries = value.get("entry") or []
    if entries and all(_is_outcome(entry) for entry in entries):
        log.info("prefetch key %s carried only an OperationOutcome; fetching it", key)
        data.origin[key] = "prefetch-failed"
        return _NEEDS_FETCH
    if next_link(value) is not None:
        if template.bound:
            # A template with _count asks for its newest entries: the first page is the answer by design.
            data.origin[key] = "prefetch-bounded-page"
            return entries
        # The client sent the first page only; a partial record could hide a red flag.
        data.origin[key] = "prefetch-first-page"
        return _NEEDS_FETCH
    data.origin[key] = "prefetch"
    return entries


def _is_outcome(entry: object) -> bool:
    resource = _resource_of(entry)
    return resource is not None and resource.get("resourceType") == "OperationOutcome"


def _fetch(body: dict, templates: list[PrefetchTemplate], settings: FetchSettings,
           allowlist: tuple[str, ...], fetch_until: float | None, since: Mapping[str, datetime],
           partial: dict[str, str]) -> tuple[dict[str, object], list[tuple[str, str]], str | None]:
    """What could be fetched, (prefetch key, why) for what could not, and the request element to blame when
    none could be (the access token). A bounded search asks only for its window, newest first; cut short,
    it keeps what it read and `partial` says so."""
    server = body.get("fhirServer")
    if not server:
        return {}, [(t.key, "not prefetched, and the request names no fhirServer to fetch it from")
                    for t in templates], None
    authorization = body.get("fhirAuthorization") or {}
    try:
        check_server_url(server, settings.allow_http, allowlist)
        check_access_token(authorization.get("access_token"))
    except FetchError as error:
        blame = "fhirAuthorization.access_token" if isinstance(error, UnusableToken) else None
        return {}, [(t.key, f"not prefetched, and it cannot be fetched: {error}") for t in templates], blame
    bulkhead = _bulkhead(settings, server)
    if not bulkhead.acquire(blocking=False):
        return {}, [(t.key, f"not prefetched, and fhirServer is busy: {settings.server_concurrency} calls of this "
                            "worker are already fetching from it") for t in templates], None
    try:
        return _fetch_within(body, templates, settings, fetch_until, since, partial, server, authorization)
    finally:
        bulkhead.release()


def _fetch_within(body, templates, settings: FetchSettings, fetch_until, since, partial, server: str,
                  authorization: dict):
    keys = ", ".join(t.key for t in templates)
    started = time.monotonic()
    deadline = started + settings.deadline_seconds
    if fetch_until is not None:
        deadline = min(deadline, fetch_until)
    client = FhirClient(server, authorization.get("access_token"), settings.session, settings.limits,
                        deadline=deadline)
    patient_id = body["context"]["patientId"]

    def run(template: PrefetchTemplate):
        if template.is_search:
            query = template.fallback(patient_id, since.get(template.key))
            # Cut short, every search keeps what it read (a red flag read is not dropped for one not read);
            # only a bounded one has read the newest.
            return client.search(query, template.resource_type, keep_partial=True)
        return client.read(template.render(patient_id), template.resource_type, patient_id)

    futures = {settings.executor.submit(run, t): t for t in templates}
    done, pending = wait(futures, timeout=max(0.0, deadline - time.monotonic()) + 0.05)
    for future in pending:
        future.cancel()
    results: dict[str, object] = {}
    failures: list[tuple[str, str]] = []  # (prefetch key, why)
    for future, template in futures.items():
        if future in pending:
            failures.append((template.key, "fhirServer did not answer within the deadline"))
            continue
        try:
            results[template.key] = future.result()
        except CutShort as error:
            results[template.key] = error.entries
            reach = _oldest(error.entries) if template.bound else None
            reach = reach.date().isoformat() if reach else None
            partial[template.resource_type] = (f"{error}: {'the newest' if template.bound else 'only'} "
                                               f"{len(error.entries)} were read" + (f", back to {reach}" if reach else ""))
        except FetchError as error:
            failures.append((template.key, str(error)))
    log.info("fetched %s from fhirServer in %.0f ms (%d failed)", keys, (time.monotonic() - started) * 1000,
             len(failures))
    return results, failures, None


def _own_resources(template: PrefetchTemplate, entries: list, patient_id: str, dropped: Counter,
                   relevant: Callable[[dict], bool] | None = None) -> list[dict]:
    """The template's resources about this patient; anything else in the Bundle is set aside and counted. A raw
    entry (lean prefetch) is checked on its head, and decoded whole only if a rule can use it."""
    resources = []
    lean = isinstance(entries, RawEntries)
    own = (f"Patient/{patient_id}", f"/Patient/{patient_id}")
    # Years of vital signs are most of a long record: one typed decode sets each aside (Relevance.long_before)
    long_before = getattr(relevant, "long_before", None) if lean and template.resource_type == "Observation" else None
    for entry in entries:
        if long_before is not None:
            quick = measured(entry)
            if quick is not None and quick.resourceType == "Observation" and _subject_is(quick.subject, own) \
                    and long_before(quick):
                continue  # no rule reads a measurement taken before its window
        if lean:
            resource, search = head(entry)
        elif isinstance(entry, dict):
            resource, search = entry.get("resource"), entry.get("search")
        else:
            resource = search = None
        if not isinstance(resource, dict):
            dropped["entry without a resource"] += 1
            continue
        kind = resource.get("resourceType")
        if kind != template.resource_type:
            if kind != "OperationOutcome":
                # Only a plausible type name reaches the log line: the value is the caller's, of any length.
                label = kind if isinstance(kind, str) and kind.isalpha() and len(kind) <= 64 else "unrecognised type"
                dropped[f"{label} in {template.key}"] += 1
            continue
        if isinstance(search, dict) and search.get("mode") == "include":
            continue
        if not _about_patient(resource, own):
            # Never let another patient's record drive this patient's cards.
            dropped[f"{template.resource_type} of another patient"] += 1
            continue
        if lean:
            if relevant is not None and not relevant(resource):
                continue  # no rule can use it: never decoded whole
            resource = whole(entry)
            if resource is None:  # invalid UTF-8, a lone surrogate, a number no double holds: as before, a 400
                raise BadRequest(f"prefetch.{template.key} holds an entry that is not valid JSON text",
                                 f"prefetch.{template.key}")
        resources.append(resource)
    return resources


def _subject_is(subject: object, own: tuple[str, str]) -> bool:
    """The subject references the patient (a missing one is not: the entry then takes the head path)."""
    reference = subject.get("reference") if isinstance(subject, dict) else None
    return isinstance(reference, str) and (reference == own[0] or reference.endswith(own[1]))


def _about_patient(resource: dict, own: tuple[str, str]) -> bool:
    """The resource's subject is the patient: own is ("Patient/<id>", "/Patient/<id>")."""
    subject = resource.get("subject")
    reference = subject.get("reference") if isinstance(subject, dict) else None
    if not isinstance(reference, str):
        return True  # a resource with no subject is invalid and will be dropped by validation
    return reference == own[0] or reference.endswith(own[1])
