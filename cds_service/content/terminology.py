"""Value sets from valueset/*.json (FHIR R4 ValueSets with explicit concepts), compiled once at start-up
into one dict: (system, code) -> the ids of every value set holding it. Matching is by system and code."""
from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"

# WHO ICD-10, which ICD-10-CM modifies: no value set holds its codes (never read as ICD-10-CM codes), but a
# code in a category (its first three characters) our ICD-10-CM codes use is named as unread (r31 review S3).
ICD10_WHO = ("http://hl7.org/fhir/sid/icd-10", "urn:oid:2.16.840.1.113883.6.3")

SYSTEM_NAMES = {SNOMED: "SNOMED CT", ICD10CM: "ICD-10-CM", LOINC: "LOINC", RXNORM: "RxNorm"}

NOTHING: frozenset[str] = frozenset()

# Other spellings of the same code systems that EHRs send: OID URNs, https, a trailing slash.
SYSTEM_ALIASES = {
    SNOMED: ("urn:oid:2.16.840.1.113883.6.96", "https://snomed.info/sct"),
    ICD10CM: ("urn:oid:2.16.840.1.113883.6.90",),
    LOINC: ("urn:oid:2.16.840.1.113883.6.1", "https://loinc.org"),
    RXNORM: ("urn:oid:2.16.840.1.113883.6.88",),
}


_SEMANTIC_TAG = re.compile(r"\s*\([a-z /]+\)$")  # "Pulmonary embolism (disorder)"
_PLAIN_WORD = re.compile(r"[a-z0-9]+")


def plain_words(text: str) -> str:
    """A text as its lower-case words and numbers, one space apart: "Dyspnea, unspecified" -> "dyspnea unspecified"."""
    return " ".join(_PLAIN_WORD.findall(text.lower()))


def _code_forms(system: str, code: str) -> tuple[str, ...]:
    """The forms a code arrives in. ICD-10-CM is often written without its dot (R2242 for R22.42); the dot
    always follows the third character, so the dotless form names the same code and nothing else."""
    if system == ICD10CM and "." in code:
        return code, code.replace(".", "")
    return (code,)


def _get(obj: object, name: str):
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


class ValueSets:
    def __init__(self, index: dict[tuple[str, str], frozenset[str]], ids: Iterable[str],
                 shared_codes: Iterable[tuple[frozenset[str], str]] = (),
                 displays: dict[str, frozenset[str]] | None = None, names: dict[tuple[str, str], str] | None = None):
        self._index = index
        self._names = dict(names or {})  # (system, code) -> the value set's display for it
        self.ids = frozenset(ids)
        # Every spelling of every code system a value set uses: a coding in none of them (a local code, WHO
        # ICD-10) is one this service cannot read, whatever it means.
        self.systems = frozenset(system for system, _ in index)
        # Each value set's concept displays, in plain words (no semantic tag): what an entry the service
        # cannot read by code may be named as (record/build.py Relevance._unread_entry).
        self.displays = dict(displays or {})
        self._phrases: dict[frozenset[str], frozenset[str]] = {}
        # Each value set's ICD-10-CM categories (A00), which WHO ICD-10 codes share
        self.categories: dict[str, frozenset[str]] = defaultdict(frozenset)
        for (system, code), held in index.items():
            if system == ICD10CM and isinstance(code, str) and len(code) >= 3:
                for vs in held:
                    self.categories[vs] = self.categories[vs] | {code[:3].upper()}
        # Value sets that share codes, and which one a concept coded only with shared codes belongs to
        # (the catalogue's "sharedCodes", each with its reason).
        self.shared_codes = tuple(shared_codes)
        self._displayed: dict[str, frozenset[str]] | None = None
        self._icd10cm: list[tuple[str, frozenset[str]]] | None = None
        self._extending: dict[str, frozenset[str]] = {}

    @classmethod
    def load(cls, folder: Path, shared_codes: Iterable[tuple[frozenset[str], str]] = ()) -> "ValueSets":
        members: dict[tuple[str, str], set[str]] = defaultdict(set)
        names: dict[tuple[str, str], str] = {}
        displays: dict[str, frozenset[str]] = {}
        ids = []
        for path in sorted(folder.glob("*.json")):
            resource = json.loads(path.read_text(encoding="utf-8"))
            if resource.get("resourceType") != "ValueSet":
                continue
            ids.append(resource["id"])
            displays[resource["id"]] = frozenset(
                plain_words(_SEMANTIC_TAG.sub("", concept["display"])) for include in resource["compose"]["include"]
                for concept in include["concept"] if isinstance(concept.get("display"), str)) - {""}
            for include in resource["compose"]["include"]:
                system = include["system"]
                spellings = (system, system + "/", *SYSTEM_ALIASES.get(system, ()))
                for concept in include["concept"]:
                    for spelling in spellings:
                        for code in _code_forms(system, concept["code"]):
                            members[(spelling, code)].add(resource["id"])
                            if isinstance(concept.get("display"), str):
                                names.setdefault((spelling, code), concept["display"])
        # Every spelling is a key, so a lookup is one dict access: this runs for every coding of every
        # resource in the prefetch, before anything is validated.
        return cls({key: frozenset(value) for key, value in members.items()}, ids, shared_codes, displays, names)

    def display_of(self, coding) -> str | None:
        """The value sets' display for a Coding's code: a card names an entry sent with no display by it."""
        try:
            return self._names.get((_get(coding, "system"), _get(coding, "code")))
        except TypeError:  # unhashable, in hostile input
            return None

    def readable(self, concept: object) -> bool:
        """Has the CodeableConcept (raw dict or model) a coding in a code system the value sets use?"""
        codings = _get(concept, "coding") if concept is not None else None
        return isinstance(codings, list) and any(
            isinstance(_get(c, "system"), str) and _get(c, "system") in self.systems and _get(c, "code") for c in codings)

    def display_phrases(self, excluded: frozenset[str]) -> tuple[frozenset[str], frozenset[str], dict[str, tuple[int, ...]]]:
        """The displays (plain words) and the ICD-10-CM categories of every value set but the excluded ones,
        and, by first word, how many words the displays beginning with it have (so a text is matched by
        looking up its words, not by trying every run of them); worked out once per set of exclusions, not per
        request (about 5,000 displays)."""
        found = self._phrases.get(excluded)
        if found is None:
            named = frozenset(d for vs, shown in self.displays.items() if vs not in excluded for d in shown)
            lengths: dict[str, set[int]] = {}
            for display in named:
                words = display.split()
                if words:
                    lengths.setdefault(words[0], set()).add(len(words))
            found = self._phrases[excluded] = (
                named, frozenset(c for vs, held in self.categories.items() if vs not in excluded for c in held),
                {first: tuple(sorted(n)) for first, n in lengths.items()})
        return found

    def displayed_in(self, display: str) -> frozenset[str]:
        """The value sets with a concept of this display (plain words)."""
        if self._displayed is None:
            found: dict[str, set[str]] = defaultdict(set)
            for vs, shown in self.displays.items():
                for d in shown:
                    found[d].add(vs)
            self._displayed = {d: frozenset(sets) for d, sets in found.items()}
        return self._displayed.get(display, NOTHING)

    def extending(self, who_code: str) -> frozenset[str]:
        """The value sets holding an ICD-10-CM code that is this WHO ICD-10 code or extends it (M25.56 ->
        M25.561, M25.562: knee pain), else those of its category; the WHO code's meaning, as near as
        ICD-10-CM gives it."""
        code = who_code.strip().upper()
        found = self._extending.get(code)
        if found is None:
            if self._icd10cm is None:
                self._icd10cm = [(c.upper(), sets) for (system, c), sets in self._index.items()
                                 if system == ICD10CM and isinstance(c, str) and "." in c]
            found = frozenset(v for c, sets in self._icd10cm if c.startswith(code) for v in sets) or frozenset(
                vs for vs, held in self.categories.items() if code[:3] in held)
            if len(self._extending) < 4096:  # codes come from requests: bounded
                self._extending[code] = found
        return found

    @staticmethod
    def who_icd10_codes(concept: object) -> list[str]:
        """The WHO ICD-10 codes of a raw CodeableConcept (upper case, as written)."""
        codings = _get(concept, "coding") if isinstance(concept, dict) else None
        return [c["code"].strip().upper() for c in codings if isinstance(c, dict) and c.get("system") in ICD10_WHO
                and isinstance(c.get("code"), str) and c["code"].strip()] if isinstance(codings, list) else []

    def of_coding(self, coding) -> frozenset[str]:
        """Value sets of one Coding (a raw dict or a fhir.resources model)."""
        if isinstance(coding, dict):
            key = (coding.get("system"), coding.get("code"))
        else:
            key = (getattr(coding, "system", None), getattr(coding, "code", None))
        try:
            found = self._index.get(key, NOTHING)
        except TypeError:  # an unhashable system or code in hostile input
            return NOTHING
        code = key[1]
        if not found and isinstance(code, str) and not code.isupper() and code.upper() != code:
            found = self._index.get((key[0], code.upper()), NOTHING)  # "r06.02": ICD-10-CM codes are upper case
        return found

    def of_concept(self, concept: object) -> frozenset[str]:
        """Every value set any coding of a CodeableConcept (raw dict or model) belongs to."""
        codings = _get(concept, "coding") if concept is not None else None
        if not isinstance(codings, list):
            return NOTHING
        found: frozenset[str] = NOTHING
        for coding in codings:
            hit = self.of_coding(coding)
            if hit:
                found = found | hit
        return found

    def of_concept_disambiguated(self, concept: object) -> frozenset[str]:
        """Like of_concept, but a code that two value sets share (ICD-10-CM R22.4x is both "swelling" and
        "mass") yields to a coding on the same concept that only one of them holds; with no such coding the
        concept counts for the shared codes' default value set."""
        found = self.of_concept(concept)
        for pair, default in self.shared_codes:
            if not pair <= found:
                continue
            exclusive = set()
            for coding in _get(concept, "coding") or ():
                hit = self.of_coding(coding) & pair
                if len(hit) == 1:
                    exclusive |= hit
            found = (found - pair) | (exclusive or {default})
        return found
