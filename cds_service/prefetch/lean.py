"""Lean decoding of prefetch Bundles: each entry stays raw JSON (a msgspec.Raw slice of the request body, no
copy) until something asks for it. A head of the few elements that decide whether any rule can use a resource
(its type, subject, codes, dates, medicine, dosage text) is decoded for every entry; the whole entry only for
those a rule can use. Years of vital signs outside every window are never turned into Python objects, so a
30,000-resource prefetch costs a fraction of decoding it all, in time and in memory.

Everything here is about shape, not meaning: which resources a rule can use is decided by the caller's
`relevant` (record/build.py Relevance), on the head as a plain dict.
"""
from __future__ import annotations

from typing import Any

import msgspec
import orjson


class _Head(msgspec.Struct, omit_defaults=True):
    """The elements record/build.py's Relevance and prefetch/resolve.py read; everything else is skipped."""
    resourceType: Any = None  # noqa: N815 (FHIR element names)
    id: Any = None
    subject: Any = None
    patient: Any = None
    status: Any = None
    code: Any = None
    component: Any = None
    valueCodeableConcept: Any = None  # noqa: N815
    valueString: Any = None  # noqa: N815
    bodySite: Any = None  # noqa: N815
    effectiveDateTime: Any = None  # noqa: N815
    effectiveInstant: Any = None  # noqa: N815
    effectivePeriod: Any = None  # noqa: N815
    issued: Any = None
    # a Condition's dates and verification: an entry coded outside every value set is named only when recent
    # (record/build.py Relevance._coded_outside, r34b S2)
    recordedDate: Any = None  # noqa: N815
    onsetDateTime: Any = None  # noqa: N815
    onsetPeriod: Any = None  # noqa: N815
    abatementDateTime: Any = None  # noqa: N815
    verificationStatus: Any = None  # noqa: N815
    medicationCodeableConcept: Any = None  # noqa: N815
    medicationReference: Any = None  # noqa: N815
    contained: Any = None
    dosageInstruction: Any = None  # noqa: N815
    dosage: Any = None
    reasonCode: Any = None  # noqa: N815
    note: Any = None


class _Entry(msgspec.Struct):
    resource: _Head | None = None
    search: Any = None


class _Shell(msgspec.Struct):
    resourceType: Any = None  # noqa: N815
    type: Any = None
    link: Any = None
    entry: list[msgspec.Raw] | None | msgspec.UnsetType = msgspec.UNSET


class _Coding(msgspec.Struct, frozen=True):
    system: Any = None
    code: Any = None


class _Concept(msgspec.Struct, frozen=True):
    """Frozen, its codings a tuple: hashable (when its codes are), so the relevance check looks up the value
    sets of each distinct code once per request, not once per measurement."""
    coding: tuple[_Coding, ...] | None = None


class _Component(msgspec.Struct):
    code: _Concept | None = None


class _Measured(msgspec.Struct):
    """Just enough of an Observation to set aside, in C, a measurement taken long before its window: typed
    (no dict per element), so it costs a quarter of the head. Any other shape fails it and takes the head path."""
    resourceType: Any = None  # noqa: N815
    subject: Any = None
    code: _Concept | None = None
    component: list[_Component] | None = None
    effectiveDateTime: Any = None  # noqa: N815
    # a coded answer's codes (absent or null: None, as the head reads it); the others raw, undecoded: only
    # whether there is one matters here (absent: None; null: Raw b"null")
    valueCodeableConcept: _Concept | None = None  # noqa: N815
    valueString: msgspec.Raw = None  # noqa: N815
    valueQuantity: msgspec.Raw = None  # noqa: N815


class _MeasuredEntry(msgspec.Struct):
    resource: _Measured | None = None


class RawEntries(list):
    """A Bundle's entries, each still raw JSON (msgspec.Raw)."""


_TOP = msgspec.json.Decoder(dict[str, msgspec.Raw])
_SHELL = msgspec.json.Decoder(_Shell)
_ENTRY = msgspec.json.Decoder(_Entry)
_MEASURED = msgspec.json.Decoder(_MeasuredEntry)


class Malformed(ValueError):
    pass


def decode_body(raw: bytes) -> object:
    """The request body: the envelope decoded whole (orjson: strict UTF-8, no NaN), each prefetch Bundle's
    entries left raw. Raises Malformed for text that is not JSON."""
    try:
        top = _TOP.decode(raw)
    except msgspec.ValidationError:  # JSON, but not an object: the caller says so
        return _strict(raw)
    except (msgspec.DecodeError, RecursionError):
        raise Malformed("the request body is not valid JSON") from None
    body: dict[str, object] = {}
    for key, value in top.items():
        body[key] = _prefetch(value) if key == "prefetch" else _strict(value)
    return body


def _prefetch(raw: msgspec.Raw) -> object:
    try:
        values = _TOP.decode(raw)
    except (msgspec.ValidationError, msgspec.DecodeError, RecursionError):
        return _strict(raw)  # not an object: the schema check reports it
    return {key: _bundle(value) for key, value in values.items()}


def _bundle(raw: msgspec.Raw) -> object:
    """A Bundle with raw entries; anything else (a Patient, an OperationOutcome, null, a Bundle whose entry is
    not a list) decoded whole, for the checks that follow to judge."""
    try:
        shell = _SHELL.decode(raw)
    except (msgspec.ValidationError, msgspec.DecodeError, RecursionError):
        return _strict(raw)
    if shell.resourceType != "Bundle":
        return _strict(raw)
    bundle: dict[str, object] = {"resourceType": "Bundle", "type": shell.type, "link": shell.link}
    if shell.link is None:
        del bundle["link"]
    if shell.entry is not msgspec.UNSET:
        bundle["entry"] = RawEntries(shell.entry) if shell.entry is not None else None
    return bundle


def _strict(raw) -> object:
    try:
        return orjson.loads(memoryview(raw) if isinstance(raw, msgspec.Raw) else raw)
    except (orjson.JSONDecodeError, RecursionError):
        raise Malformed("the request body is not valid JSON") from None


def is_raw(value: object) -> bool:
    return isinstance(value, msgspec.Raw)


def head(entry: msgspec.Raw) -> tuple[dict | None, object]:
    """(the resource's head as a dict, or None when the entry has no resource object; the entry's search)."""
    try:
        decoded = _ENTRY.decode(entry)
    except (msgspec.ValidationError, msgspec.DecodeError, RecursionError):
        return None, None
    if decoded.resource is None:
        return None, decoded.search
    # The elements present, as a dict (an element absent or null is left out: omit_defaults)
    return msgspec.to_builtins(decoded.resource), decoded.search


def measured(entry: msgspec.Raw):
    """The entry's resource as _Measured (codes, time, whether it has an answer), or None when its shape is
    anything else: the caller then reads its head as usual."""
    try:
        return _MEASURED.decode(entry).resource
    except (msgspec.ValidationError, msgspec.DecodeError, RecursionError):
        return None


def whole(entry: msgspec.Raw) -> dict | None:
    """The entry's resource, decoded whole and strictly (invalid UTF-8 or a lone surrogate: None)."""
    try:
        decoded = orjson.loads(memoryview(entry))
    except (orjson.JSONDecodeError, RecursionError):
        return None
    resource = decoded.get("resource") if isinstance(decoded, dict) else None
    return resource if isinstance(resource, dict) else None
