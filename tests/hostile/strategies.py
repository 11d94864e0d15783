"""Hypothesis strategies for hostile CDS Hooks traffic: any JSON, FHIR-like resources with wrong types in every
element, unicode that breaks things (lone surrogates, RTL overrides, NUL, combining marks), nesting at and past
1024 levels, strings up to ~1 MB, numbers no double holds (1e400, 400-digit integers, -0), malformed dates,
codings with objects and arrays where strings belong — and, mixed in, the real codes of the value sets so that
hostile resources get past the selector into validation and the rules."""
from __future__ import annotations

import json
import uuid
from functools import lru_cache

from hypothesis import strategies as st

from tests.hostile.support import PATIENT_ID, REPO, Raw, deep

# -- scalars ----------------------------------------------------------------------------------------------

# Numbers JSON allows and a decoder must take somehow: -0, underflow to 0, integers past 64 bits (read as
# doubles), the largest and smallest doubles, exponents with padding.
RAW_NUMBERS = ["-0", "-0.0", "1e-400", "0e0", "0.0e-0", "123456789012345678901234567890", "18446744073709551615",
               "18446744073709551616", "-9223372036854775808", "-9223372036854775809", "1.7976931348623157e308",
               "4.9e-324", "1E+308", "0.0000000000000000000000000001", "2.5e+00000000000000000000000001"]
# What makes the whole body unreadable (400 before anything else runs): numbers no double holds, lone
# surrogates (escaped, or raw bytes when written without ensure_ascii), nesting past the decoder's 1024 levels.
POISON_NUMBERS = ["1e400", "-1e400", "1" + "0" * 400]
POISON_STRINGS = ["\ud800", "\udfff", "a\udc00b"]

SPECIAL_STRINGS = [
    "", " ", "\x00", "Patient/p1\x00", "\u202eevil\u202c", "\u200f\u0627\u0644\u0639\u0631\u0628\u064a\u0629",
    "\ufeff", "\U0001d518\U0001d52b\U0001d526", "e" + "\u0301" * 64,
    "\u2028\u2029", "\r\n\t", "' OR 1=1 --", "<script>alert(1)</script>", "{{context.patientId}}",
    "../../etc/passwd", "%00", "null", "true", "NaN", "Infinity", "-0", "eyJhbGciOiJFUzM4NCJ9.eyJpc3MiOiJ4In0.c2ln",
    "\U0010ffff", "\uffff", "\x7f\x80", "Patient/p1", "Patient/other", "http://snomed.info/sct",
]

DATE_STRINGS = [
    "2026-11-22", "2026-11-22T11:00:00Z", "2026-11-21T12:00:00+01:00", "2026-11", "2026", "2026-13-01",
    "2026-02-30", "2026-11-22T25:61:61Z", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
    "0001-01-01", "9999-12-31", "0000-00-00", "yesterday", "", "2026-11-22T12:00:00", "2026-11-22 12:00",
    "\uff12\uff10\uff12\uff16-11-22", "2026-11-22T12:00:00.123456789012Z", "+002026-11-22", "-2026-11-22",
    "2026-W47-7", "20261122", "2026-11-22T12:00:00+99:99",
]

SYSTEMS = ["http://snomed.info/sct", "http://hl7.org/fhir/sid/icd-10-cm", "http://loinc.org",
           "http://www.nlm.nih.gov/research/umls/rxnorm", "urn:oid:2.16.840.1.113883.6.96", "https://loinc.org",
           "http://unitsofmeasure.org", "http://terminology.hl7.org/CodeSystem/condition-clinical"]

STATUSES = ["active", "final", "amended", "corrected", "preliminary", "entered-in-error", "completed",
            "in-progress", "resolved", "inactive", "refuted", "provisional", "confirmed", "unknown", "stopped"]

UNITS = ["/min", "mm[Hg]", "%", "Cel", "[degF]", "ng/mL", "mg/L", "ug/mL", "ng/mL{FEU}", "ug/L{DDU}", "mg/dL",
         "10*9/L", "/uL", "/mm3", "kg", "{score}"]


@lru_cache(maxsize=1)
def real_codings() -> list[dict]:
    """One or two codes from every value set the rules read, so that generated resources reach the rules."""
    codings = []
    for path in sorted((REPO / "valueset").glob("*.json")):
        resource = json.loads(path.read_text(encoding="utf-8"))
        if resource.get("resourceType") != "ValueSet":
            continue
        for include in resource["compose"]["include"]:
            for concept in include["concept"][:2]:
                codings.append({"system": include["system"], "code": concept["code"],
                                "display": concept.get("display", concept["code"])})
    return codings


@lru_cache(maxsize=None)
def huge_strings():
    """~1 KB to ~1 MB of one character (1 MB of a 3- or 4-byte character is over the 2 MiB body limit: 413)."""
    return st.builds(lambda char, size: char * size,
                     st.sampled_from(["a", "a", "\u00e9", "\x00", "9", "\u202e", "\U0001d518"]),
                     st.sampled_from([1_000, 65_536, 250_000, 1_000_000]))


@lru_cache(maxsize=None)
def strings():
    return st.one_of(
        st.sampled_from(SPECIAL_STRINGS),
        st.text(max_size=20),
        st.text(alphabet=st.characters(codec=None, categories=["Cc", "Cf", "Mn", "Zl", "Zp", "Lo", "Co"]),
                max_size=8),
        st.sampled_from(DATE_STRINGS),
    )


@lru_cache(maxsize=None)
def numbers():
    return st.one_of(
        st.sampled_from(RAW_NUMBERS).map(Raw),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from([0, -1, 1, 35, 91, 100, 130, 500, 10**18]),
    )


@lru_cache(maxsize=None)
def scalars():
    return st.one_of(st.none(), st.booleans(), numbers(), strings())


@lru_cache(maxsize=None)
def deep_values():
    """Nesting a decoder takes but a recursive validator may not (~1000 Python frames, a few per level)."""
    return st.builds(deep, st.sampled_from([20, 64, 150, 160, 200, 500, 999, 1000]),
                     st.sampled_from(["list", "object"]), st.sampled_from(["1", "null", '"x"', "{}", "[]"]))


@lru_cache(maxsize=None)
def poison():
    """One value that makes the whole body malformed JSON."""
    return st.one_of(
        st.sampled_from(POISON_NUMBERS).map(Raw),
        st.sampled_from(POISON_STRINGS),
        st.builds(deep, st.sampled_from([1025, 2000, 100_000]), st.sampled_from(["list", "object"])),
    )


@lru_cache(maxsize=None)
def json_values(max_leaves: int = 8, poisoned: bool = False):
    """Any JSON value, mostly small, with now and then a deep or huge one (and, poisoned, a malformed one)."""
    small = st.recursive(scalars(), lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(strings(), children, max_size=4)), max_leaves=max_leaves)
    return weighted(small, st.one_of(deep_values(), huge_strings(), *([poison()] if poisoned else [])), odds=12)


def weighted(common, rare, odds: int):
    """`common`, and `rare` once in `odds + 1` draws (shrinking towards `common`). st.one_of cannot weight:
    it drops repeated strategies."""
    return st.integers(0, odds).flatmap(lambda i: rare if i == odds else common)


def hostile(plausible, odds: int = 3):
    """Mostly a plausible value for an element (`odds` to 1), sometimes anything at all."""
    return weighted(plausible, json_values(4), odds)


# -- FHIR-like ---------------------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def codings():
    return st.one_of(
        st.sampled_from(real_codings()),
        st.fixed_dictionaries({}, optional={"system": hostile(st.sampled_from(SYSTEMS)),
                                            "code": hostile(strings()), "display": hostile(strings()),
                                            "userSelected": st.booleans()}),
        json_values(3),
    )


@lru_cache(maxsize=None)
def concepts():
    return st.one_of(
        st.fixed_dictionaries({}, optional={"coding": hostile(st.lists(codings(), max_size=3)),
                                            "text": hostile(strings())}),
        json_values(3),
    )


@lru_cache(maxsize=None)
def status_concepts():
    return hostile(st.builds(lambda code: {"coding": [{"code": code}]}, st.sampled_from(STATUSES)))


@lru_cache(maxsize=None)
def dates():
    return hostile(st.one_of(st.sampled_from(DATE_STRINGS),
                             st.datetimes().map(lambda d: d.isoformat() + "Z"),
                             st.dates().map(lambda d: d.isoformat())))


@lru_cache(maxsize=None)
def quantities():
    return hostile(st.fixed_dictionaries({}, optional={
        "value": hostile(numbers()), "unit": hostile(st.sampled_from(UNITS)), "code": hostile(st.sampled_from(UNITS)),
        "system": hostile(st.just("http://unitsofmeasure.org")),
        "comparator": hostile(st.sampled_from(["<", "<=", ">=", ">", "=", "~"]))}))


@lru_cache(maxsize=None)
def references():
    return hostile(st.fixed_dictionaries({}, optional={"reference": hostile(st.sampled_from(
        [f"Patient/{PATIENT_ID}", "Patient/other", f"https://ehr.example/fhir/Patient/{PATIENT_ID}", "#med",
         "Patient/", f"patient/{PATIENT_ID}"])), "display": strings()}))


@lru_cache(maxsize=None)
def _subject():
    return weighted(st.just({"reference": f"Patient/{PATIENT_ID}"}), references(), odds=2)


COMMON_ELEMENTS = {
    "id": lambda: hostile(st.sampled_from(["r1", "r-2", "a" * 64, "a" * 65, "has space", ""])),
    "meta": lambda: json_values(3),
    "text": lambda: json_values(3),
    "extension": lambda: hostile(st.lists(st.fixed_dictionaries({"url": hostile(strings())}, optional={
        "valueString": hostile(strings()), "valueCodeableConcept": concepts()}), max_size=2)),
    "contained": lambda: hostile(st.lists(st.fixed_dictionaries({
        "resourceType": hostile(st.sampled_from(["Medication", "Observation"])), "id": hostile(st.just("med"))},
        optional={"code": concepts()}), max_size=2)),
}

ELEMENTS = {
    "Patient": {"gender": lambda: hostile(st.sampled_from(["female", "male", "other", "unknown", "FEMALE"])),
                "birthDate": dates, "deceasedBoolean": lambda: hostile(st.booleans()),
                "name": lambda: json_values(3)},
    "Condition": {"code": concepts, "clinicalStatus": status_concepts, "verificationStatus": status_concepts,
                  "category": lambda: hostile(st.lists(concepts(), max_size=2)), "onsetDateTime": dates,
                  "onsetPeriod": lambda: hostile(st.fixed_dictionaries({}, optional={"start": dates(), "end": dates()})),
                  "recordedDate": dates, "abatementDateTime": dates, "abatementString": strings,
                  "bodySite": lambda: hostile(st.lists(concepts(), max_size=2)), "note": lambda: json_values(3)},
    "Observation": {"status": lambda: hostile(st.sampled_from(STATUSES)), "code": concepts,
                    "effectiveDateTime": dates, "effectiveInstant": dates, "issued": dates,
                    "effectivePeriod": lambda: hostile(st.fixed_dictionaries({}, optional={"start": dates(),
                                                                                          "end": dates()})),
                    "valueQuantity": quantities, "valueCodeableConcept": concepts, "valueString": strings,
                    "interpretation": lambda: hostile(st.lists(concepts(), max_size=2)),
                    "referenceRange": lambda: hostile(st.lists(st.fixed_dictionaries({}, optional={
                        "low": quantities(), "high": quantities(), "text": strings()}), max_size=2)),
                    "component": lambda: hostile(st.lists(st.fixed_dictionaries({"code": concepts()}, optional={
                        "valueQuantity": quantities()}), max_size=3))},
    "MedicationRequest": {"status": lambda: hostile(st.sampled_from(STATUSES)),
                          "intent": lambda: hostile(st.sampled_from(["order", "plan", "proposal"])),
                          "medicationCodeableConcept": concepts, "medicationReference": references,
                          "authoredOn": dates},
    "Procedure": {"status": lambda: hostile(st.sampled_from(STATUSES)), "code": concepts,
                  "performedDateTime": dates,
                  "performedPeriod": lambda: hostile(st.fixed_dictionaries({}, optional={"start": dates(),
                                                                                        "end": dates()}))},
}

RESOURCE_TYPES = list(ELEMENTS)
BUNDLE_KEYS = {"conditions": "Condition", "observations": "Observation", "medications": "MedicationRequest",
               "procedures": "Procedure"}


@lru_cache(maxsize=None)
def element_strategies(resource_type: str) -> dict:
    """Built once: constructing strategies inside every draw made generation ten times slower."""
    return {name: make() for name, make in {**COMMON_ELEMENTS, **ELEMENTS[resource_type]}.items()}


@lru_cache(maxsize=None)
def resources(resource_type: str):
    return _resources(resource_type)


@st.composite
def _resources(draw, resource_type: str):
    """A resource meant to be of `resource_type`, with a few elements, each possibly of the wrong type."""
    makers = dict(element_strategies(resource_type))
    resource = {"resourceType": draw(weighted(st.just(resource_type), st.one_of(st.sampled_from(
        RESOURCE_TYPES + ["OperationOutcome", "Bundle", "", "condition"]), json_values(2)), odds=12))}
    if resource_type == "Patient":
        resource["id"] = draw(weighted(st.just(PATIENT_ID), json_values(2), odds=12))
        makers.pop("id")
    else:
        resource["subject"] = draw(_subject())
    # A few elements, chosen at random, each plausible or not.
    for name in draw(st.lists(st.sampled_from(sorted(makers)), max_size=5, unique=True)):
        resource[name] = draw(makers[name])
    return resource


@lru_cache(maxsize=None)
def entries(resource_type: str):
    return st.one_of(
        st.fixed_dictionaries({"resource": resources(resource_type)}, optional={
            "search": hostile(st.fixed_dictionaries({"mode": hostile(st.sampled_from(["match", "include",
                                                                                         "outcome"]))})),
            "fullUrl": hostile(st.builds(lambda u: f"urn:uuid:{u}", st.uuids()))}),
        st.fixed_dictionaries({"resource": resources(resource_type)}),
        json_values(3),
    )


@lru_cache(maxsize=None)
def bundles(resource_type: str):
    return st.fixed_dictionaries(
        {"resourceType": weighted(st.just("Bundle"), json_values(2), odds=19)},
        optional={"type": hostile(st.just("searchset")), "total": hostile(numbers()),
                  "entry": hostile(st.lists(entries(resource_type), max_size=3), odds=12),
                  "link": hostile(st.lists(st.fixed_dictionaries({}, optional={
                      "relation": hostile(st.sampled_from(["self", "next", "previous"])),
                      "url": hostile(st.sampled_from(["https://ehr.example/fhir/Condition?page=2",
                                                      "http://127.0.0.1:9/fhir", "next", "http://[",
                                                      "http://stub.invalid/Condition?page=2",
                                                      "http://stub.invalid/../Condition",
                                                      "http://127.0.0.1:99999/x"]))}), max_size=2))})


@lru_cache(maxsize=None)
def prefetch_values(key: str):
    if key == "patient":
        return weighted(resources("Patient"), st.one_of(st.none(), st.dictionaries(strings(), json_values(3),
                                                                                   max_size=3)), odds=12)
    return weighted(bundles(BUNDLE_KEYS[key]), st.one_of(
        st.none(), st.just({"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "timeout"}]}),
        st.dictionaries(strings(), json_values(3), max_size=3)), odds=12)


@st.composite
def prefetches(draw):
    prefetch = {}
    for key in ("patient", *BUNDLE_KEYS):
        if draw(st.integers(0, 19)) == 19:
            continue  # absent: to be fetched (412 here: no fhirServer, or one the test network refuses)
        prefetch[key] = draw(prefetch_values(key))
    if draw(st.integers(0, 9)) == 9:
        prefetch.update(draw(st.dictionaries(strings(), json_values(3), max_size=2)))
    return prefetch


CONTEXT_IDS = st.sampled_from([PATIENT_ID, "other", "", "a" * 65, "p1/../x", "p1\x00"])


@st.composite
def hook_requests(draw):
    """A CDS Hooks envelope (mostly valid) around a hostile prefetch."""
    body = {
        "hook": draw(weighted(st.just("patient-view"), st.one_of(strings(), json_values(2)), odds=19)),
        "hookInstance": draw(weighted(st.builds(lambda u: str(u), st.uuids()), st.one_of(strings(), json_values(2)),
                                      odds=19)),
        "context": draw(weighted(st.fixed_dictionaries(
            {"userId": st.just("Practitioner/hostile"),
             "patientId": weighted(st.just(PATIENT_ID), CONTEXT_IDS, odds=12)},
            optional={"encounterId": hostile(st.just("enc-1"), odds=6)}), st.one_of(st.fixed_dictionaries(
                {"userId": st.just("Practitioner/hostile"), "patientId": st.just(PATIENT_ID), "extra": json_values(3)}),
                json_values(3)), odds=12)),
        "prefetch": draw(weighted(prefetches(), json_values(3), odds=19)),
    }
    if draw(st.integers(0, 19)) == 19:  # now and then one malformed value somewhere: 400 for the whole body
        target = body["prefetch"].get("patient") if isinstance(body["prefetch"], dict) else None
        (target if isinstance(target, dict) else body)["poison"] = draw(poison())
    for name, strategy in [
        ("fhirServer", st.sampled_from(["https://ehr.example/fhir", "http://127.0.0.1:9/fhir", "ftp://x/y",
                                        "https://user:pw@ehr.example/fhir", "not a url", "https://[",
                                        "https://ehr.example:99999/fhir", "https://ehr.example:8443/fhir",
                                        "https://ehr.example:abc/fhir", "https://\u0435hr.example/fhir"])),
        ("fhirAuthorization", st.fixed_dictionaries({"access_token": strings(), "token_type": st.just("Bearer"),
                                                     "scope": st.just("patient/*.read"), "subject": strings()})),
        ("extension", json_values(3)),
    ]:
        if draw(st.integers(0, 9)) == 9:
            body[name] = draw(hostile(strategy))
    if draw(st.integers(0, 14)) == 14:
        body.pop(draw(st.sampled_from(sorted(body))))
    return body


@st.composite
def feedback_entries(draw):
    """A feedback entry, coherent most of the time (accepted with suggestions, overridden with a reason),
    each element now and then of the wrong kind."""
    outcome = draw(hostile(st.sampled_from(["accepted", "overridden"]), odds=10))
    entry = {
        "card": draw(hostile(st.one_of(st.builds(str, st.uuids()), strings().filter(bool),
                                       st.just("x" * 200), st.just("x" * 201)), odds=10)),
        "outcome": outcome,
        "outcomeTimestamp": draw(weighted(st.datetimes().map(lambda d: d.isoformat(timespec="seconds") + "Z"),
                                          st.one_of(st.sampled_from(DATE_STRINGS), json_values(2)), odds=10)),
    }
    if outcome == "accepted" or draw(st.integers(0, 9)) == 9:
        entry["acceptedSuggestions"] = draw(hostile(st.lists(st.fixed_dictionaries(
            {"id": hostile(st.one_of(st.builds(str, st.uuids()), strings()), odds=10)}), min_size=1, max_size=3),
            odds=10))
    if outcome == "overridden" and draw(st.booleans()):
        entry["overrideReason"] = draw(hostile(st.fixed_dictionaries({"reason": hostile(codings(), odds=6)},
                                                                     optional={"userComment": strings()}), odds=10))
    if draw(st.integers(0, 9)) == 9:
        entry["extension"] = draw(json_values(3))
    return entry


@st.composite
def feedback_bodies(draw):
    body = {"feedback": draw(hostile(st.lists(feedback_entries(), min_size=1, max_size=4), odds=12))}
    if draw(st.integers(0, 9)) == 9:
        body.update(draw(st.dictionaries(strings(), json_values(3), max_size=2)))
    if draw(st.integers(0, 19)) == 19:
        body["poison"] = draw(poison())
    return draw(weighted(st.just(body), json_values(4), odds=12))


@lru_cache(maxsize=None)
def whole_bodies():
    """Anything as a whole body: JSON of any shape, or bytes that are not JSON at all."""
    return st.one_of(
        json_values(12, poisoned=True).map(lambda v: ("json", v)),
        st.binary(max_size=64).map(lambda b: ("bytes", b)),
        st.sampled_from([b"", b"{", b"\xff\xfe{}", b"\xef\xbb\xbf{}", b'{"a":1}{"b":2}', b"[1,]", b"{'a':1}",
                         b'{"a":NaN}', b'{"a":Infinity}', b'{"a":1e400}', b'{"a":"\\ud800"}', b'{"a":"\xed\xa0\x80"}',
                         b'{"a":1,"a":2}', b"\x00", b"null", b"[]", b'"x"', b"  \n  "]).map(lambda b: ("bytes", b)),
    )
