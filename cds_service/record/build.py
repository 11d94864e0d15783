"""Raw FHIR to the patient's facts, in one place: select what a rule can use (cheaply, on the raw JSON),
validate only that (fhir.resources R4B models), and build the facts the rules read.

Relevance is decided once, on the raw resource: its value-set memberships (and, for a measurement, whether
it falls inside the window the catalogue reads it in). Only a relevant resource is validated (about 1.5 ms
each; a long record holds thousands of vital signs), and its fact is built from those memberships.

Data hygiene lives here, once, for every rule (the catalogue's "recordHygiene", "absentAnswers",
"textMatches"):
- Conditions that are entered-in-error are ignored; a refuted one is no finding but a negative test (it
  closes a DVT or PE suspicion for what was recorded before it); resolved, inactive or in remission (or
  abated) are history, not current (a rule may still read a recent episode: PatientRecord.recent_episodes);
  any other clinical status (and none) is current.
- Observations count only when final, amended or corrected; one answering the finding "absent" is none.
  An imaging study (leg-vein scan, CTPA) as an Observation or DiagnosticReport is a test, negative or not.
- MedicationRequests and MedicationStatements count as current when active (completed or stopped: a
  course that ended; so is an active one whose own period is over: effectivePeriod, or an order's boundsPeriod
  and validityPeriod); MedicationAdministrations when given; Procedures only when completed (or in progress).
  An order not to give it (doNotPerform), or one whose text says it is not being given ("ON HOLD", "DO NOT
  GIVE", "awaiting bloods": catalogue heldPhrases), is no exposure to the medicine (r31 review S2, KB §8.3).
- Empty values ("", null) are absent. A resource a rule would read that still fails FHIR validation is
  skipped, counted (PatientRecord.invalid) and named (PatientRecord.malformed): the cards say it was not read.
"""
from __future__ import annotations

import difflib
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from ..content.catalogue import Catalogue, compiled_once, value_set
from ..content.terminology import NOTHING, RXNORM, SYSTEM_NAMES, ValueSets, plain_words
from ..fhir_dates import DATE, as_datetime
from .facts import Evidence, Fact, PatientRecord, UnreadEntry
from .reports import NEGATIVE, SUPERFICIAL, UNREAD, ReportReader
from .units import canonical, oxygen_after_saturation, quantity_in_text, systolic_in_text, with_plausible_unit
from .words import alternatives

SYSTOLIC = value_set("systolic-blood-pressure")
BLOOD_PRESSURE = frozenset({SYSTOLIC, value_set("blood-pressure-panel")})
HEPARIN_FLUSH = value_set("heparin-flush")  # keeps a catheter open: never anticoagulation (KB §8.3)
PREGNANCY, PREGNANCY_STATUS = value_set("pregnancy"), value_set("pregnancy-status-observation")
POSTPARTUM = value_set("postpartum")
POSITIVE_RESULT = value_set("positive-result")  # the value set a text result joins when it says "positive"
_WORDS = re.compile(r"[a-z]+|\++")  # the words of an answer, and "+", "++"
_CLAUSES = re.compile(r"[,;]|:(?!\d)|\.(?!\d)|\s-+\s|\s/\s|\bbut\b")  # not "03:00"  # "No chest pain. SOB on exertion"; "No - denies"; not "2.5"
_PAIN_FREE = re.compile(r"\bpain[- ]free\b")
_POSITIVE_FLAGS = frozenset({"POS", "A", "AA", "H", "HH", "HU", "DET", "IND"})
_TIMING = re.compile(r"^(?:\d+[- ]?)?(?:hourly|hrly|daily|overnight|today|tonight|now|this am|this morning|qds|bd|"
                     r"tds|od|prn|stat|x\s?\d+|\d+\s?x)$")
_CONTRAST_SPLIT = re.compile(r"\b(?:but|however|though|although)\b")
_ROWS = re.compile(r"[;|]|\.(?!\d)\s*|\s--+\s|\s—\s")
# An age in shorthand: "2 yrs ago", "3/12 ago" (months), "6/52" (weeks), "5/7" (days)
_AGO = re.compile(r"\b(\d{1,3})\s*(?:/\s*(52|12|7)\b|(yrs?|years?|months?|mths?|wks?|weeks?|days?)\s+ago\b)")
# A delivery's date or age in a pregnancy status: "SVD 12/11", "12/11/2026", "2026-11-12"; "day 10", "2/52", "3 weeks"
_DELIVERY_DATE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b|\b(\d{1,2})[/.](\d{1,2})(?:[/.](\d{2}|\d{4}))?\b(?![/.]\d)")
_DELIVERY_AGE = re.compile(r"\bday\s*(\d{1,3})\b|\b(\d{1,3})\s*(?:/\s*(52|12|7)\b|(days?|d|yrs?|years?|months?|mths?|wks?|weeks?)\b)")
_DAYS_PER = {"52": 7, "12": 30, "7": 1, "yr": 365, "yrs": 365, "year": 365, "years": 365, "month": 30, "months": 30,
             "mth": 30, "mths": 30, "wk": 7, "wks": 7, "week": 7, "weeks": 7, "day": 1, "days": 1, "d": 1}
_ASKED = re.compile(r"^[^?]{1,40}\?$|^\?\s*[^?\s][^?]{0,39}$")  # a short answer asked: "LOC ?", "?LOC"
_LIST_JOINERS = frozenset({"or", "and", "nor", "any", "&", "/", "+"})  # "Denies any SOB, CP or haemoptysis"
_SIDE_WORDS = frozenset({"r", "l", "rt", "lt", "right", "left", "both", "the"})  # "R knee and L ankle"
_YES = frozenset({"yes", "y", "present", "positive", "pos", "+"})
# A positive mark ending a clause: "CP ++", "CP +ve (pleuritic)", "haemoptysis yes"
_POSITIVE_TAIL = re.compile(r"(?:^|\s)(?:\+{1,3}|\+\s?ve|%s)\s*(?:\([^()]*\))?\s*$" % alternatives(_YES - {"+"}))
_POSITIVE_MARK = re.compile(r"(?:^|\s)(?:\+{2,3}|\+\s?ve)(?=[\s(]|$)")  # "CP ++ on inspiration": anywhere in the clause
_BRACKETED_ANSWER = re.compile(r"^([^()]{1,30}?)\s*\(\s*([^()]{1,20})\s*\)\s*$")
_OXYGEN = re.compile(r"\bon\s+\d+(?:\.\d+)?\s*(?:l|lpm|l/min|litres?|liters?)(?!\w)|\bon\s+(?:2[2-9]|[3-9]\d|100)\s*%|\b\d+(?:\.\d+)?\s*(?:l/min|lpm)\b"
                     r"|\b\d+(?:\.\d+)?\s*l\s+(?:o2|oxygen|via|nc|np|nrb|mask|nasal)\b|\b(?:oxygen|nrb|non-rebreathe\w*|"
                     r"venturi|hfno|hfnc|optiflow|airvo|cpap|niv|high[- ]flow|nasal cannula|nasal prongs|nasal specs|"
                     r"face mask|mask)\b|\b(?:on|with|w/)\s*o2\b|\(\s*\d+(?:\.\d+)?\s*l\s*\)|"
                     r"\b(?:with|w/)\s*\d+(?:\.\d+)?\s*l\b|\bo2\s+(?:via|at|\d)|\bfio2\s*(?:0?\.(?:2[2-9]|[3-9]\d*)|1\.0|"
                     r"(?:2[2-9]|[3-9]\d|100)\s*%?)\b")
_NEGATED_LOSS = re.compile(r"\b(?:no|nil|not|never|without|denies|hasn't|hasnt|has not|didn't|did not)\s+"
                           r"(?:\w+\s+){0,2}(?:loss|lost|impairment|impaired|"
                           r"deficit|deficits|reduction|weakness|change|problems?|issues?|difficult(?:y|ies)|"
                           r"concerns?)\b")
_FIO2 = re.compile(r"\bfio2\s*:?\s*(\d+(?:\.\d+)?)\s*(%?)")
_ROOM_AIR = re.compile(r"\b(?:ra|room air|on air|air)\b")
_PULSE = re.compile(r"\b(?:dp|pt|dp/pt|pulses?|pedal|dorsalis pedis|posterior tibial|popliteal|femoral)\b")
_PULSE_GRADE = re.compile(r"\b([0-4])\s*\+")
_REFILL = re.compile(r"\b(?:crt|cap refill|capillary refill)\b")
_YEAR = re.compile(r"\b(?:19|20)\d{2}\b")
_RESOLVED_ASKED = re.compile(r"\b([a-z]+)\s*\?\s*([^?]+)$")  # "... resolved? no": the word asked about, the answer
_LEADING_NUMBER = re.compile(r"^[<>~]?\s*(\d+(?:\.\d+)?)")  # "0", "0/10", "3/10", "2 cm"
_NUMBER = re.compile(r"(?<![\w/])(\d+(?:\.\d+)?)")
_POWER = re.compile(r"(?<![\w/])[0-5]/5\b")
_SATS = re.compile(r"\b(?:sats|spo2|sao2|saturations?|o2)\b")
_RATE = re.compile(r"\b(?:rr|resp rate|respiratory rate|resps)\b")
PROPHYLACTIC_STRENGTH = value_set("prophylactic-strength-anticoagulant")
DVT_IMAGING = value_set("dvt-imaging")
PE_IMAGING = value_set("pe-imaging")
ARTERIAL_IMAGING = value_set("arterial-imaging-leg")  # after a knee dislocation: the arterial study done
IMAGING = frozenset({DVT_IMAGING, PE_IMAGING, ARTERIAL_IMAGING})  # a study whose result the rules read
SIDES = frozenset({value_set("left-site"), value_set("right-site"), value_set("bilateral-site")})
# Where on the body a finding is, as far as the rules ask: its side, or that it is on the leg at all (a
# numbness on a "Lower limb structure" bodySite is a sign of the leg: KB §8.8 rule 2).
PLACES = SIDES | {value_set("lower-limb-site")}
# The Ps of limb ischaemia a record codes (Appendix A): pallor; numbness, paraesthesia; paralysis or paresis.
ISCHAEMIC_SIGNS = frozenset(value_set(v) for v in ("pallor", "limb-ischaemia-signs", "paralysis-paresis"))
# A pain row may name the Ps too ("Sudden severe R calf pain, foot cold, white, no pulses": r27 review)
LEG_PAIN_ROWS = frozenset(value_set(v) for v in ("calf-pain", "leg-pain", "knee-pain"))
DVT_FEATURE_NAMES = {value_set("leg-swelling"): "leg swelling", value_set("calf-pain"): "calf tenderness"}
KNEE_PAIN, KNEE_EFFUSION = value_set("knee-pain"), value_set("knee-effusion")
DRAINAGE, LOWER_LIMB = value_set("prosthetic-knee-drainage"), value_set("lower-limb-site")
LEG_SWELLING = value_set("leg-swelling")
OXYGEN_SATURATION, OXYGEN_FLOW = value_set("oxygen-saturation"), value_set("inhaled-oxygen-flow")
MEDICATION_KINDS = ("MedicationRequest", "MedicationStatement", "MedicationAdministration")

log = logging.getLogger(__name__)


def build_record(patient: dict, resources: Mapping[str, list], value_sets: ValueSets, catalogue: Catalogue,
                 now: datetime, deadline: float | None = None) -> PatientRecord:
    """The facts of one patient's raw resources (resource type -> raw dicts), evaluated at `now`. Past the
    `deadline` (time.monotonic()), what is left (after the Conditions, always read whole) is not read: its
    resource types are named in record.unavailable, so the cards say so, and the facts read so far stand (a
    long record must not turn a red flag already read into a late answer or none)."""
    demographics = patient_demographics(patient)
    birth = as_datetime(demographics.birthDate)
    died = as_datetime(demographics.deceasedDateTime)
    record = PatientRecord(now=now, age=_age(birth, now), sex=demographics.gender, catalogue=catalogue,
                           patient_id=demographics.id,
                           deceased=demographics.deceasedBoolean is True
                           or (died is not None and died <= now + catalogue.windows["future"]),
                           died=died)
    relevant = Relevance(value_sets, catalogue, now)
    build = _Builder(value_sets, catalogue, now, birth)
    types = list(resources.items())
    for position, (resource_type, raws) in enumerate(types):
        fact_of = build.for_type.get(resource_type)
        if fact_of is None:
            continue
        for count, raw in enumerate(raws):
            # The Conditions are always read whole: coded red flags live there, and a problem list is short
            # beside years of vital signs.
            if deadline is not None and count % 32 == 0 and resource_type != "Condition" \
                    and time.monotonic() > deadline:
                for late, _ in types[position:]:
                    if late in build.for_type:
                        record.unavailable[late] = "not all read within the hook's deadline"
                log.info("hook deadline reached while reading %s: %d of %d read", resource_type, count, len(raws))
                return _finished(record, relevant)
            memberships = relevant(raw)
            if memberships is None:
                continue
            if memberships.unread is not None:
                entry = build.unread(memberships.unread)
                if entry is not None:
                    record.unread_entries.append(entry)  # named, not read: the cards say so
                continue
            model = parse_resource(raw)
            if model is None or not build.status_allowed(model):
                record.invalid[resource_type] += 1
                record.malformed.append(malformed_entry(raw))  # never silent: the cards name it
                continue
            record.facts.extend(fact_of(model, memberships))
    return _finished(record, relevant)


def _finished(record: PatientRecord, relevant: Relevance) -> PatientRecord:
    if record.invalid:
        log.info("skipped invalid resources: %s", dict(record.invalid))
    if record.unread_entries:
        record.unread_entries = _still_unread(record, relevant)
    return record


def _still_unread(record: PatientRecord, relevant: Relevance) -> list[UnreadEntry]:
    """The unread entries whose coded form could change a card, beside what the record read (catalogue
    unreadEntries; r34a F1): not a measurement the coded readings already show as far beyond its threshold,
    or taken at the same time (the same vital sign sent twice); not a swelling off the knee, on no side,
    beside a cause of both-leg oedema; not knee pain alone."""
    catalogue = record.catalogue
    window = catalogue.windows

    def coded(measurement: str) -> list[Fact]:
        oldest = record.now - window[catalogue.measurements[measurement]]
        return [f for f in record.facts if f.kind == "Observation" and f.current and f.quantity and f.when
                and measurement in f.value_sets and oldest <= f.when <= relevant.latest]

    def shown_already(entry: UnreadEntry) -> bool:
        for measurement in entry.measurements:
            readings = coded(measurement)
            if entry.when is not None and any(f.when == entry.when for f in readings):
                return True
            value = relevant.in_threshold_unit(measurement, entry.value) if entry.value else None
            if value is None:
                continue
            read = [v for v in (relevant.in_threshold_unit(measurement, f.quantity) for f in readings) if v is not None]
            sides = relevant.beyond(measurement, value)
            if ("high" in sides and any(v >= value for v in read)) or ("low" in sides and any(v <= value for v in read)):
                return True
        return False

    def beside_other_finding() -> bool:
        # a current finding coded in the finding window, or a coded vital sign beyond its threshold
        oldest = record.now - window["finding"]
        if any(f.kind in ("Condition", "Observation") and f.current and not f.quantity and not f.negative
               and f.when and oldest <= f.when and f.value_sets - relevant.entry_sets - PLACES for f in record.facts):
            return True
        return any(relevant.beyond(m, v) for m in relevant.unread_beyond for f in coded(m)
                   for v in [relevant.in_threshold_unit(m, f.quantity)] if v is not None)

    oedema_cause = catalogue.unread_oedema_cause
    explained = oedema_cause is not None and any(
        f.kind == "Condition" and f.current and oedema_cause in f.value_sets for f in record.facts)
    kept = [e for e in record.unread_entries if not shown_already(e) and not (e.oedema and explained)]
    if any(e.entry_condition for e in kept) and not (
            any(not e.entry_condition for e in kept) or beside_other_finding()):
        kept = [e for e in kept if not e.entry_condition]  # knee pain beside nothing raises no card, coded or not
    return kept


# -- validation ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PatientDemographics:
    """What the rules read of the Patient. Checked field by field rather than validating the whole
    resource: a Patient model costs about 0.7 ms, most of a small request's time, for two fields."""
    id: str
    birthDate: str | None  # noqa: N815 (the FHIR element name)
    gender: str | None
    deceasedBoolean: bool | None = None  # noqa: N815 (Patient.deceased[x]: no clinical cards: r34a N2)
    deceasedDateTime: str | None = None  # noqa: N815


_GENDERS = {"male", "female", "other", "unknown"}


def patient_demographics(patient: dict) -> PatientDemographics:
    birth = patient.get("birthDate")
    gender = patient.get("gender")
    died, deceased = patient.get("deceasedDateTime"), patient.get("deceasedBoolean")
    return PatientDemographics(
        id=patient.get("id") if isinstance(patient.get("id"), str) else "",
        birthDate=birth if isinstance(birth, str) and DATE.match(birth) else None,
        gender=gender if isinstance(gender, str) and gender in _GENDERS else None,
        deceasedBoolean=deceased if isinstance(deceased, bool) else None,
        deceasedDateTime=died if isinstance(died, str) and as_datetime(died) is not None else None,
    )


def parse_resource(raw: dict):
    """The model for a raw resource, or None when it is not valid FHIR R4(B). Empty values ("", null, {}, [])
    are read as absent, as FHIR JSON means them (elements are never empty): EHRs send them, and a heart rate
    142 whose coding had display "" was thrown away whole (r38b S6)."""
    model = _validated(raw)
    if model is None:
        pruned = _without_empty(raw)
        if pruned != raw and isinstance(pruned, dict):
            model = _validated(pruned)
    return model


def _validated(raw: dict):
    try:
        return get_fhir_model_class(raw["resourceType"]).model_validate(raw)
    except (ValidationError, KeyError, TypeError, ValueError):
        return None


_PRUNE_DEPTH = 32  # no FHIR R4 resource nests deeper; hostile input may (it is then left as it is, and invalid)


def _without_empty(value, depth: int = 0):
    """A raw JSON value without its empty strings, nulls, and the objects and arrays left empty by that."""
    if depth > _PRUNE_DEPTH:
        return value
    if isinstance(value, dict):
        kept = {key: _without_empty(item, depth + 1) for key, item in value.items()}
        return {key: item for key, item in kept.items() if item not in ("", None, {}, [])}
    if isinstance(value, list):
        kept = [_without_empty(item, depth + 1) for item in value]
        return [item for item in kept if item not in ("", None, {}, [])]
    return value


def malformed_entry(raw: dict) -> UnreadEntry:
    """A resource a rule would read that is not valid FHIR even so: named on the cards by its own words (its
    code's name, and an Observation's value as written), never read for meaning."""
    kind = raw.get("resourceType") if isinstance(raw.get("resourceType"), str) else "resource"
    concept = next((raw.get(key) for key in ("code", "medicationCodeableConcept", "vaccineCode")
                    if isinstance(raw.get(key), dict)), None)
    name = _concept_name(concept)
    if name is None and concept is not None:  # no words: its code, so that it can be found in the chart
        codings = concept.get("coding") if isinstance(concept.get("coding"), list) else ()
        name = next((c["code"] for c in codings if isinstance(c, dict) and isinstance(c.get("code"), str)), None)
    value = _quantity_text(raw.get("valueQuantity")) if kind == "Observation" else None
    first = None
    if kind == "Observation" and value is None and isinstance(raw.get("component"), list):
        # a panel: its measurements, which may be the red flag ('Systolic blood pressure 85 mmHg')
        measured = [f"{part} {amount}" for part, amount in ((_concept_name(c.get("code")), _quantity_text(
            c.get("valueQuantity"))) for c in raw["component"] if isinstance(c, dict)) if part and amount]
        value, first = ", ".join(measured) or None, (measured[0] if measured else None)
    text = f"{name}: {value}" if name and value else name or kind
    try:
        when = observation_time(raw) if kind == "Observation" else None
    except (TypeError, ValueError, AttributeError):
        when = None
    return UnreadEntry(kind, _shortened(text), when, short=first or _shortened(text))


# -- relevance: on the raw JSON, once ---------------------------------------------------------------------

@dataclass(frozen=True)
class Memberships:
    """The value sets a raw resource belongs to: by its code (or medicine), by its coded value, and by the
    codes of its components (a vital-signs or blood-pressure panel carries its measurements there)."""
    by_code: frozenset[str]
    by_value: frozenset[str] = NOTHING
    by_component: frozenset[str] = NOTHING
    # An entry with no code this service reads whose words name a finding it checks
    unread: UnreadEntry | None = None
    held: str | None = None  # an anticoagulant order or statement not being given: "held" or "not-started" (Fact.held)
    drug: str | None = None  # the anticoagulant it names (Fact.drug)
    # a text answer read by the fail-safe, which it could not place (a pregnancy status: Fact.uninterpreted)
    uninterpreted: bool = False


class Relevance:
    """Could any rule use this raw resource now? Its memberships if so, else None."""

    def __init__(self, value_sets: ValueSets, catalogue: Catalogue, now: datetime):
        self.__dict__.update(compiled_once(catalogue, Relevance._compile))
        self.value_sets = value_sets
        self.now = now
        windows = catalogue.windows
        self.oldest = {window: now - windows[window] for window in set(self.measurements.values())}
        self.latest = now + windows["future"]
        self.after_windows = (self.latest + timedelta(days=1)).strftime("%Y-%m-%d")  # a day after: any zone
        self.now, self.postpartum_since = now, now - windows["postpartum"]
        # A date written before the day before a window opens is outside it, whatever its time zone: the day's
        # ISO text decides without parsing (years of vital signs are most of a long record).
        self.before_window = {window: (oldest - timedelta(days=1)).strftime("%Y-%m-%d")
                              for window, oldest in self.oldest.items()}
        # The entries this service cannot read by code: the windows they are reported in (r31 review S3)
        widest = max([windows[w] for w in self.unread_windows.values()]
                     + [windows[self.measurements[vs]] for vs in self.unread_measured], default=timedelta(0))
        self.unread_before = (now - widest - timedelta(days=1)).strftime("%Y-%m-%d")
        # a problem-list entry naming a red-flag diagnosis or a clot is read in that diagnosis's window
        widest_condition = max([widest] + [windows[w] for w in self.unread_diagnoses.values()]
                               + ([windows[self.unread_clot_window]] if self.unread_clot_window else []))
        self.unread_condition_before = (now - widest_condition - timedelta(days=1)).strftime("%Y-%m-%d")
        self.unread_named_as, self.unread_categories, self.unread_starts = value_sets.display_phrases(
            self.unread_not_by_display)
        self._unread_names: dict[tuple, tuple] = {}  # per request (value sets are the caller's)
        self._typed_seen: dict[object, tuple[frozenset[str], bool]] = {}  # per request, as above
        self.unread_window_of = {kind: windows[window] for kind, window in self.unread_windows.items()}
        # Entries coded outside every value set: read for red flags only, in their window's days (r34b S2)
        self.coded_oldest = now - windows[self.coded_window] if self.coded_window else None
        self.coded_before = (self.coded_oldest - timedelta(days=1)).strftime("%Y-%m-%d") if self.coded_window else None
        self.windows = windows

    @staticmethod
    def _compile(catalogue: Catalogue) -> dict:
        """What depends on the catalogue alone (word lists turned into patterns): built once per catalogue."""
        self = SimpleNamespace()
        self.measurements = catalogue.measurements
        self.anticoagulant_words = catalogue.text_matches["anticoagulants"]
        self.anticoagulant_excluded = catalogue.text_excludes["anticoagulants"]
        self.held = _phrases(catalogue.held_phrases)
        self.unless_held = _phrases(catalogue.unless_held_phrases)
        self.not_started = _phrases(catalogue.not_started_phrases)
        self.prophylaxis_words, self.prophylaxis_medicines = catalogue.prophylaxis["anticoagulants"]
        self.prophylactic_doses = catalogue.prophylactic_doses
        self.anticoagulant_drugs = tuple(catalogue.anticoagulant_drugs.values())
        self.infusion_words = catalogue.text_lists["prophylactic-strength"].get("infusionWords", ())
        self.treatment_above, self.treatment_per_kg = catalogue.treatment_above, catalogue.treatment_per_kg
        companions = catalogue.text_lists["prophylactic-strength"].get("companionWords", ())
        self.companion = re.compile(r"\b(?:with|plus|and|\+)?\s*\b(?:%s)\b" % "|".join(map(re.escape, companions))) \
            if companions else None
        self.positive_words = frozenset(catalogue.text_matches[POSITIVE_RESULT])
        self.pregnant_words = frozenset(catalogue.text_matches.get(PREGNANCY_STATUS, ()))
        # "30/40", "28 weeks gestation": a gestation with its number (catalogue gestationWords)
        self.gestation = re.compile(r"\d\s*(?:%s)(?![\w/])(?!\s+ago\b)" % alternatives(catalogue.gestation_words)) \
            if catalogue.gestation_words else _NEVER
        self.delivered = _phrases(catalogue.postpartum_words)
        self.not_pregnant = _phrases(catalogue.not_pregnant_words)
        self.placed_answers = catalogue.absent_words | catalogue.unknown_words
        self.absent_start = re.compile(r"^(?:%s)\b" % "|".join(map(re.escape, catalogue.absent_starts))) \
            if catalogue.absent_starts else _NEVER
        self.negation_words = catalogue.negation_words
        self.result_status = catalogue.hygiene["resultStatus"]
        self.ignored_verification = catalogue.hygiene["ignoredVerification"] | catalogue.hygiene["refutedVerification"]
        self.history_status = catalogue.hygiene["historyClinicalStatus"]
        self.site_rules, self.site_gives = catalogue.site_rules, catalogue.site_gives
        self.site_texts = {site: (_phrases(words), _phrases(unless), _phrases(same))
                           for site, (words, unless, same) in catalogue.site_texts.items()}
        # What names a finding this service checks, in an entry it cannot read by code (catalogue unreadEntries):
        # a clot (the report reader's words), a red-flag finding, a leg finding beside a word naming the leg, a
        # measurement; value-set displays are matched per request (Relevance.__init__: they are the value sets')
        self.unread_windows = catalogue.unread_windows
        self.unread_not_by_display = catalogue.unread_not_by_display
        clots = catalogue.text_lists["negative-imaging"]
        clot = r"\b(?:(?:%s)(?:'?s|es)?|(?:%s)[\w-]*)\b" % (alternatives(clots["clotWords"]),
                                                           alternatives(clots.get("clotStems", ())))
        whole = catalogue.unread_whole_word_stems

        def named(stems) -> str:
            stems = set(stems) - catalogue.unread_except_stems
            parts = [r"\b(?:%s)" % alternatives(stems - whole) if stems - whole else "",
                     _phrases(stems & whole).pattern if stems & whole else ""]
            return "|".join(p for p in parts if p) or r"(?!x)x"
        self.unread_clot = re.compile(clot)
        # each finding's words, a red flag's with the words beside which they name something else ('Chest
        # infection': r34a F1)
        self.unread_groups = [(g, re.compile(named(g.stems))) for g in catalogue.finding_words]
        self.unread_leg = _phrases(catalogue.lower_limb_words)
        self.unread_measured = {vs: _phrases(words) for vs, words in catalogue.unread_measurement_words.items()}
        self.unread_not_words = _phrases(catalogue.unread_not_words)
        # What is no finding now, as the other text readers read it (r35a F4): advice or a relative ends what a
        # sentence states (ischaemicSignsNotAfter), a history or a prophylaxis clause states nothing of today
        self.unread_not_after = _phrases(catalogue.ischaemic_signs_not_after)
        self.unread_prophylaxis = _phrases(catalogue.prophylaxis["anticoagulants"][0])
        self.unread_history = (_phrases(catalogue.history_words), _phrases(catalogue.recent_time_words),
                               _phrases(catalogue.changed_words))
        self.finding_days = catalogue.windows["finding"].days
        # the calf or leg a site-less oedema's text names: the DVT-feature reader's places (r35a 104)
        self.oedema_text_places = _phrases(catalogue.leg_dvt_words.get("calf", ()) + catalogue.leg_dvt_words.get("leg", ()))
        self.unread_diagnoses = catalogue.unread_diagnoses
        self.unread_clot_window = catalogue.unread_clot_window
        # (comparison, threshold value, its unit) of each measurement an unread value is named beyond (r34a F1)
        self.unread_beyond = {vs: [(side, catalogue.thresholds[key].value, catalogue.thresholds[key].unit)
                                   for side, keys in sides.items() for key in keys]
                              for vs, sides in catalogue.unread_named_beyond.items()}
        self.plausible_ranges = catalogue.plausible_ranges
        self.entry_sets, entry_words = catalogue.unread_entry_condition
        self.entry_words = _phrases(entry_words) if entry_words else _NEVER
        self.oedema_sets = frozenset(v for g in catalogue.finding_words if LEG_SWELLING in g.value_sets for v in g.value_sets)
        self.swelling_sets = self.oedema_sets | {KNEE_EFFUSION}
        # Coded outside every value set: only red-flag words, cheaply found first (r34b S2); the readers decide
        self.coded_window = catalogue.unread_coded_window
        coded_words = [w for words in catalogue.ischaemic_signs.values() for w in words] + [
            w for kind, words in catalogue.leg_dvt_words.items() if kind not in ("calf", "leg", "denials") for w in words] + [
            w for kind, words in catalogue.hot_joint_words.items() if kind in catalogue.unread_coded_hot_kinds for w in words]
        pulses = catalogue.pulse_words
        self.coded_red_flag = re.compile("|".join(p for p in (
            clot, r"\b(?:%s)" % alternatives(coded_words) if coded_words else "",
            r"\b(?:%s)\b" % alternatives(pulses) if pulses else "") if p))
        self.coded_place = re.compile("|".join(p.pattern for p in (
            _phrases(catalogue.lower_limb_words), _phrases(catalogue.unread_coded_clot_places)) if p.pattern))
        return vars(self)

    def __call__(self, raw: dict) -> Memberships | None:
        kind = raw.get("resourceType")
        of_concept = self.value_sets.of_concept
        if kind == "Condition":
            found = Memberships(self._on_its_site(raw, self.value_sets.of_concept_disambiguated(raw.get("code")),
                                                  by_text=True))
        elif kind == "Observation":
            components = raw.get("component") if isinstance(raw.get("component"), list) else ()
            by_code = of_concept(raw.get("code"))
            by_component = NOTHING
            for component in components:
                if isinstance(component, dict):
                    by_component = by_component | of_concept(component.get("code"))
            answered = raw.get("valueCodeableConcept") is not None or raw.get("valueString") is not None
            if not answered:
                # Most of a long record, decided first: a code no value set holds, or a measurement (a vital
                # sign, a panel of them) long before its window. Neither is ever read.
                measured = by_code | by_component
                if not measured:
                    return self._unread_entry(raw)
                if measured <= self.measurements.keys():
                    day = self._day_taken(raw)
                    if day is not None and all(day < self.before_window[self.measurements[vs]] for vs in measured):
                        return None
            by_value = of_concept(raw.get("valueCodeableConcept"))
            if _whole_value(raw.get("valueString")) in self.positive_words:
                by_value = by_value | {POSITIVE_RESULT}  # "Positive" as text means what the code means
            guessed = False
            if PREGNANCY_STATUS in by_code and not by_value - {POSITIVE_RESULT}:
                # "Pregnant - 14 weeks" as text: what 77386006 means; "Post-partum day 10": the puerperium
                read, guessed = self._pregnancy_in_text(raw)
                by_value = by_value | ({read} if read else NOTHING)
            if by_code:
                by_code = by_code | (of_concept(raw.get("bodySite")) & PLACES)  # "calf swelling", left leg
                by_code = self._sited_by_text(raw, by_code)
            found = Memberships(by_code, by_value, by_component, uninterpreted=guessed)
            measured = found.by_code | found.by_component
            if measured and not found.by_value and not raw.get("valueCodeableConcept") \
                    and measured <= self.measurements.keys() and not self._inside_window(raw, measured):
                return None  # a measurement only matters inside its window: older ones are never read
        elif kind == "Procedure":
            # The side from a sided code or the bodySite, as for a Condition: which knee was replaced.
            found = Memberships(self._on_its_site(raw, of_concept(raw.get("code"))))
        elif kind == "DiagnosticReport":
            found = Memberships(of_concept(raw.get("code")) & (IMAGING | SIDES))
            if not found.by_code & IMAGING:
                return None
        elif kind in MEDICATION_KINDS:
            concept = medication_concept(raw)
            memberships = of_concept(concept)
            text = _all_text(concept)
            if not memberships and names_a(self.anticoagulant_words, text):
                memberships = frozenset({"anticoagulants"})
            if raw.get("doNotPerform") is True:
                # An order *not* to give the medicine (FHIR R4 MedicationRequest.doNotPerform) is never exposure to
                # it, whatever its status: read as an anticoagulant it hid a new DVT as treated (r31 review S2;
                # KB §1.8, §8.3: classify from what is given). An anticoagulant's is kept as held, for the card
                # to name (r32 S2: the order set aside was not shown beside 'start a DOAC').
                return Memberships(frozenset({"anticoagulants"}), held="not-started",
                                   drug=self._drug(concept, text)) if "anticoagulants" in memberships else None
            order_text = text + " " + _order_text(raw) + "".join(
                f" {_plain(value)} {unit}" for value, unit, kind in _structured_doses(raw) if kind == "dose")
            prophylactic_heparin = (names_word(self.prophylaxis_words, order_text)
                                    and names_a(self.prophylaxis_medicines, text))
            if HEPARIN_FLUSH in memberships or names_word(self.anticoagulant_excluded, order_text):
                memberships = memberships - {"anticoagulants", PROPHYLACTIC_STRENGTH}  # a flush or lock
            elif prophylactic_heparin:
                # no treatment, but prophylaxis-strength exposure, as the same product without the word is
                # (a D-dimer on it is not relied on: r34a W2, 'VTE prophylaxis' changed the DVT card)
                memberships = (memberships - {"anticoagulants"}) | {PROPHYLACTIC_STRENGTH}
            elif "anticoagulants" in memberships and _names_dose(self.prophylactic_doses, order_text):
                memberships = memberships | {PROPHYLACTIC_STRENGTH}  # exposure, not a DVT's treatment
            if PROPHYLACTIC_STRENGTH in memberships and (names_a(self.infusion_words, _affirmed(order_text.lower()))
                                                         or _has_rate(raw) or self._treatment_dose(raw, text)):
                memberships = memberships - {PROPHYLACTIC_STRENGTH}  # an infusion or the dose written treats
            # Not being given ("ON HOLD", "DO NOT GIVE - GI bleed"): no treatment, but named on the card, and its
            # effect may outlast the hold (r32 S2: warfarin withheld at INR 6.2 is anticoagulated)
            found = Memberships(memberships, held=self._held(raw) if "anticoagulants" in memberships else None,
                                drug=self._drug(concept, text) if "anticoagulants" in memberships else None)
        else:
            return None
        if DRAINAGE in found.by_code and raw.get("bodySite") and not found.by_code & PLACES:
            # a wound discharge whose bodySite is not the leg is not over a knee prosthesis; one with no bodySite
            # may be (prosthetic_joint._drainage: r34b S11)
            found = replace(found, by_code=found.by_code - {DRAINAGE})
        if found.by_code or found.by_value or found.by_component:
            return found
        return self._unread_entry(raw) if kind in ("Condition", "Observation") else None

    def _unread_entry(self, raw: dict) -> Memberships | None:
        """A Condition or Observation with no coding in a code system the value sets use (text only, a local
        code, WHO ICD-10), dated inside its window, whose words name a finding this service checks: not read,
        but named on the answer (catalogue unreadEntries; r31 review S3). Its words are never read for meaning:
        only to say that it is there, and only while its coded form could change a card (r34a F1: a normal
        vital sign, knee pain alone, an old symptom are not named). One coded in such a system but in none of
        our value sets is named for the red flags its words state (_coded_outside). None for anything else."""
        kind = raw.get("resourceType")
        if kind == "Observation":
            # years of flowsheet rows: decided on the day's text first, before any coding or word is read
            taken = raw.get("effectiveDateTime")
            if isinstance(taken, str) and taken < self.unread_before:
                return None
            status = raw.get("status")
            if not isinstance(status, str) or status not in self.result_status:  # hostile input: any JSON value
                return None
        readable = self.value_sets.readable
        code = raw.get("code")
        components = raw.get("component") if isinstance(raw.get("component"), list) else ()
        if readable(code) or any(isinstance(c, dict) and readable(c.get("code")) for c in components):
            # a number answers a measurement and states no sign: most of a long record (labs) ends here
            if not self.coded_window or raw.get("valueQuantity") is not None:
                return None
            return self._coded_outside(raw, kind)
        # An undated entry is never recent, as one coded outside our sets (r35a F4: an undated 'R leg swelling'
        # on the problem list was named at every chart opening, for ever); decided before its words are read
        if kind == "Condition":
            dated = self._condition_dates(raw)
            if not dated or max(dated).strftime("%Y-%m-%d") < self.unread_condition_before:
                return None
        elif observation_time(raw) is None:
            return None
        name = _concept_name(code)
        value = _concept_name(raw.get("valueCodeableConcept")) if isinstance(raw.get("valueCodeableConcept"), dict) \
            else raw.get("valueString") if isinstance(raw.get("valueString"), str) else _quantity_text(raw.get("valueQuantity"))
        text = self._current_words(self.unread_not_words.sub(" ", " ".join(
            t for t in (_all_text(code), value if kind == "Observation" else None) if t).lower()))
        # A WHO ICD-10 code in a category our ICD-10-CM codes use (I80.2, I26.9, R06.0): named by its code
        who = [c for c in self.value_sets.who_icd10_codes(code) if c[:3] in self.unread_categories]
        if not text.strip() and not who:
            return None
        key = (kind, text, tuple(who))  # a long record repeats its local rows' names: each is read once
        named = self._unread_names.get(key)
        if named is None:
            named = self._unread_names[key] = self._names(kind, text, who)
        is_named, measured, window, entry_condition, oedema = named
        if not is_named:
            return None
        quantity = None
        if measured:
            quantity = self._unread_value(raw, measured)
            if quantity is not None and self._within(measured, quantity):
                return None  # 'Pulse: 72 /min': a normal vital sign hides no red flag (r34a F1)
            if quantity is None and self._all_within(raw.get("valueString")):
                return None  # 'HR 88, RR 16, SpO2 98%': each normal, as one row each would be (r35a F4)
        if kind == "Condition":
            if _status_codes(raw.get("verificationStatus")) & self.ignored_verification:
                return None
            taken = max(dated, default=None)
            if taken is not None and taken < self.now - window:
                return None
        else:
            taken = observation_time(raw)
            # a row named as a measurement is read in that measurement's window (an old 'Pulse' was never read)
            oldest = min(self.oldest[self.measurements[vs]] for vs in measured) if measured \
                else self.now - window
            if taken is not None and (taken < oldest or taken > self.latest):
                return None
        quoted = (f"{name} (ICD-10 {who[0]})" if name and who else name) or (f"ICD-10 {who[0]}" if who else text)
        if kind == "Observation" and value and name:
            quoted = f"{name}: {value}"
        return Memberships(NOTHING, unread=UnreadEntry(
            kind, _shortened(quoted), taken, words=text, measurements=tuple(measured), value=quantity,
            entry_condition=entry_condition, oedema=oedema))

    def _current_words(self, text: str) -> str:
        """The words of an entry that may state a finding now: not what follows advice or a relative in its
        sentence ('Advised to return if calf swelling or SOB', 'Family history: mother had DVT': catalogue
        ischaemicSignsNotAfter), nor a clause of history ('History of DVT 2015': historyWords, a past year) or
        prophylaxis ('DVT prophylaxis - TED stockings'), as the text readers read them (r35a F4)."""
        rows, changed = [], False
        for row in _ROWS.split(text):
            cut = self.unread_not_after.search(row)
            clauses = [c for c in _CLAUSES.split(row[:cut.start()] if cut else row) if c.strip()]
            kept = [c for c in clauses if not self.unread_prophylaxis.search(c)
                    and not _historical(c, *self.unread_history, self.now.year, self.finding_days)]
            changed = changed or bool(cut) or len(kept) < len(clauses)
            rows.append(", ".join(kept))
        # unchanged, the words stay as written, for the denial reader ('SOB - resolved')
        return ". ".join(r for r in rows if r.strip()) if changed else text

    def _all_within(self, written: str | None) -> bool:
        """A text value of several readings ('HR 88, RR 16, SpO2 98%, T 37.0'), each clause a measurement's
        name and one number that reads within every threshold of it: like a normal vital sign on its own row."""
        if not isinstance(written, str):
            return False
        clauses = [c for c in re.split(r"[,;]", written.lower()) if c.strip()]
        for clause in clauses:
            measured = [vs for vs, words in self.unread_measured.items() if words.search(clause)]
            read = quantity_in_text(clause)
            if not measured or read is None or read[0] is not None:
                return False
            ranges = [self.plausible_ranges[vs] for vs in measured if vs in self.plausible_ranges]
            quantity = with_plausible_unit(read[1], read[2], ranges[0]) if len(ranges) == 1 else (read[1], read[2])
            if not self._within(measured, quantity):
                return False
        return len(clauses) > 1

    def _names(self, kind: str, text: str, who: list[str]) -> tuple:
        """Whether an entry's words (or WHO codes) name a finding this service checks, and how: (named, the
        measurements its name names, the window it is read in, whether it names only knee pain, whether only a
        swelling off the knee). Read once per distinct entry."""
        measured = [vs for vs, words in self.unread_measured.items() if words.search(text)] \
            if kind == "Observation" else []
        words = set(_WORDS.findall(text))
        groups = [g for g, pattern in self.unread_groups if pattern.search(text) and not words & g.not_beside]
        red_flag = any(g.red_flag for g in groups)
        leg_finding = any(not g.red_flag for g in groups) and bool(self.unread_leg.search(text))
        clot = bool(self.unread_clot.search(text))
        shown = self._named_as_display(text)
        by_code = frozenset(v for c in who for v in self.value_sets.extending(c)) - PLACES - self.unread_not_by_display
        if who:
            sets, named = by_code, True
        else:
            sets, named = shown, bool(measured or clot or red_flag or leg_finding or shown)
        if not named:
            return False, [], None, False, False
        # a red-flag diagnosis keeps the window the rules read it in; a symptom or sign, its kind's (r34a F1)
        window = max([self.unread_window_of[kind]] + [self.windows[self.unread_diagnoses[vs]] for vs in sets
                                                       if vs in self.unread_diagnoses]
                     + ([self.windows[self.unread_clot_window]] if clot and self.unread_clot_window else []))
        plain = not (measured or clot or red_flag)
        if who:
            only_knee = bool(by_code) and by_code <= self.entry_sets
            off_knee = bool(by_code) and by_code <= self.oedema_sets
        else:
            places = {m.group(0) for m in self.unread_leg.finditer(text)}
            knee = bool(self.entry_words.search(text))
            only_knee = plain and bool(groups) and all(g.value_sets & self.entry_sets for g in groups) and knee \
                and all(self.entry_words.fullmatch(p) for p in places) and shown <= self.entry_sets
            off_knee = plain and bool(groups) and not knee and all(g.value_sets <= self.swelling_sets for g in groups) \
                and any(g.value_sets & self.oedema_sets for g in groups) and shown <= self.oedema_sets
        return True, measured, window, only_knee, off_knee

    def _coded_outside(self, raw: dict, kind: str) -> Memberships | None:
        """An entry coded in a system the value sets use but in none of them, dated inside the window, whose
        words may state a red flag a code outside our sets hides (the Ps of limb ischaemia, DVT features of
        the leg, a clot, a hot knee: catalogue codedOutsideValueSets; r34b S2): named, for the record's
        readers to decide (_Builder.unread). Most of a long record ends at the date's text."""
        if kind == "Condition":
            days = [v[:10] for v in (raw.get("recordedDate"), raw.get("onsetDateTime"), raw.get("abatementDateTime"))
                    if isinstance(v, str)]
        else:
            day = self._day_taken(raw)
            days = [day] if day else []
        if not days or max(days) < self.coded_before:
            return None  # undated, or long before the window: never recent
        code = raw.get("code")
        value = _concept_name(raw.get("valueCodeableConcept")) if isinstance(raw.get("valueCodeableConcept"), dict) \
            else raw.get("valueString") if isinstance(raw.get("valueString"), str) else None
        text = " ".join(t for t in (_all_text(code), value if kind == "Observation" else None) if t).lower()
        key = ("coded", text)
        named = self._unread_names.get(key)
        if named is None:
            named = self._unread_names[key] = bool(self.coded_red_flag.search(text) and self.coded_place.search(text))
        if not named:
            return None
        components = raw.get("component") if isinstance(raw.get("component"), list) else ()
        if self.value_sets.of_concept(code) or any(isinstance(c, dict) and self.value_sets.of_concept(c.get("code"))
                                                   for c in components):
            return None  # in a value set, and set aside by its site or text ('Both ankles swollen'): read
        if kind == "Condition":
            # refuted, entered in error, or history (resolved, inactive): a code outside our sets on an old,
            # closed problem is no red flag of today (a resolved I82.90 'DVT' named at every chart opening in
            # a synthetic cohort: 25 patients in 300)
            if _status_codes(raw.get("verificationStatus")) & self.ignored_verification \
                    or _status_codes(raw.get("clinicalStatus")) & self.history_status:
                return None
            taken = max(self._condition_dates(raw), default=None)
        else:
            taken = observation_time(raw)
        if taken is None or taken < self.coded_oldest or taken > self.latest:
            return None
        name = _concept_name(code)
        quoted = f"{name}: {value}" if kind == "Observation" and value and name else name or text
        return Memberships(NOTHING, unread=UnreadEntry(kind, _shortened(quoted), taken, words=text, coded=True))

    @staticmethod
    def _condition_dates(raw: dict) -> list[datetime]:
        onset = raw.get("onsetPeriod") if isinstance(raw.get("onsetPeriod"), dict) else {}
        dated = [as_datetime(v) for v in (raw.get("recordedDate"), raw.get("onsetDateTime"), onset.get("start"),
                                          onset.get("end"), raw.get("abatementDateTime")) if isinstance(v, str)]
        return [d for d in dated if d is not None]

    def _unread_value(self, raw: dict, measured: list[str]) -> tuple[Decimal, str] | None:
        """An unread measurement's value as a number and its unit (UCUM, a missing one filled in where only
        one plausible range holds it), when the value is only that ('72', '36.8 Cel', '120/80'); else None."""
        quantity = raw.get("valueQuantity")
        if isinstance(quantity, dict):
            number = quantity.get("value")
            if isinstance(number, bool) or not isinstance(number, (int, float)) or quantity.get("comparator"):
                return None
            unit = quantity.get("code") if isinstance(quantity.get("code"), str) else quantity.get("unit")
            value, unit = Decimal(str(number)), canonical(unit if isinstance(unit, str) else "")
        elif isinstance(raw.get("valueString"), str):
            written = quantity_in_text(raw["valueString"])
            if written is not None and written[0] is None:
                value, unit = written[1], written[2]
            elif SYSTOLIC in measured and systolic_in_text(raw["valueString"]) is not None:
                value, unit = systolic_in_text(raw["valueString"]), "mm[Hg]"  # 'BP: 120/80'
            else:
                return None
        else:
            return None
        ranges = [self.plausible_ranges[vs] for vs in measured if vs in self.plausible_ranges]
        return with_plausible_unit(value, unit, ranges[0]) if len(ranges) == 1 else (value, unit)

    def in_threshold_unit(self, measurement: str, quantity: tuple[Decimal, str]) -> Decimal | None:
        """The value in the unit of the measurement's thresholds (a temperature in °F as °C), inside its
        plausible range; None when it does not read so."""
        gates = self.unread_beyond.get(measurement)
        if not gates:
            return None
        value, unit = quantity
        wanted = gates[0][2]
        if unit == "[degF]" and wanted == "Cel":
            value, unit = (value - 32) * 5 / 9, "Cel"
        if unit != wanted:
            return None
        ranges = self.plausible_ranges.get(measurement, {})
        if wanted in ranges and not Decimal(str(ranges[wanted][0])) <= value <= Decimal(str(ranges[wanted][1])):
            return None
        return value

    def beyond(self, measurement: str, value: Decimal) -> list[str]:
        """The sides ('high', 'low') on which a value (in the thresholds' unit) lies beyond a threshold the
        rules read the measurement against (catalogue unreadEntries namedBeyond)."""
        sides = []
        for side, limit, _ in self.unread_beyond.get(measurement, ()):
            if {"above": value > limit, "atLeast": value >= limit, "below": value < limit, "atMost": value <= limit}[side]:
                sides.append("high" if side in ("above", "atLeast") else "low")
        return sides

    def _within(self, measured: list[str], quantity: tuple[Decimal, str]) -> bool:
        """The value reads as a number under a measurement its name names, and under each it reads as it lies
        within every threshold; a measurement with no thresholds here (a D-dimer) is always named."""
        read = False
        for vs in measured:
            if vs not in self.unread_beyond:
                return False
            value = self.in_threshold_unit(vs, quantity)
            if value is None:
                continue
            if self.beyond(vs, value):
                return False
            read = True
        return read

    def _named_as_display(self, text: str) -> frozenset[str]:
        """The value sets the rules read whose concepts' displays the text holds, as whole words."""
        words = plain_words(text).split()
        shown, starts = self.unread_named_as, self.unread_starts
        found = [" ".join(words[i:i + n]) for i, word in enumerate(words) for n in starts.get(word, ())
                 if i + n <= len(words)]
        return frozenset(vs for phrase in found if phrase in shown for vs in self.value_sets.displayed_in(phrase)
                         if vs not in self.unread_not_by_display)

    def _pregnancy_in_text(self, raw: dict) -> tuple[str | None, bool]:
        """What a pregnancy status given as text says (textMatches pregnancy-status-observation): (PREGNANCY,
        False) for a pregnant answer, (POSTPARTUM, False) for a delivery within the postpartum window, (None,
        False) for an answer placed as not pregnant, or a delivery before that window; (PREGNANCY, True) for an
        answer none of the word lists places, read as the fail-safe reads any answer it cannot place, to be
        asked (r34b S6: 'Post-partum day 10' was read as not pregnant, silently)."""
        text = _raw_text_answer(raw)
        if not text or not text.strip():
            return None, False
        first = _whole_value(_CLAUSES.split(text, maxsplit=1)[0]) or ""
        if first in self.pregnant_words:
            return PREGNANCY, False
        lowered = " ".join(text.lower().split())
        for clause in _CLAUSES.split(lowered):
            if any(not self.negation_words & set(clause[:m.start()].split()[-3:]) for m in self.delivered.finditer(clause)):
                # "Not pregnant - delivered 2/52 ago": the puerperium, whatever the pregnancy answer before it;
                # a delivery dated only after the entry is one to come ("Delivery planned 12/12/2026")
                within = self._within_puerperium(lowered, raw)
                if within is not None:
                    return (POSTPARTUM if within else None), False
                break
        if lowered.split()[0] in self.negation_words:
            return None, False  # "Not pregnant", "No - 30/40 last year"
        word = first.split()[0] if first.split() else ""
        # "pregnat": the cautious reading of a misspelt answer (catalogue $gestationComment)
        if self.gestation.search(lowered) or (
                len(word) >= 6 and difflib.get_close_matches(word, ["pregnant"], n=1, cutoff=0.85)):
            return PREGNANCY, False
        if first in self.placed_answers or self.absent_start.match(first) or self.not_pregnant.search(lowered):
            return None, False  # "No", "Unknown", "Possible" (r30 S5), "Post-menopausal"
        return PREGNANCY, True

    def _within_puerperium(self, text: str, raw: dict) -> bool | None:
        """A delivery the text dates inside the postpartum window: the most recent of its readings (a date not
        after the entry, day/month or month/day; a year; a day, week or month count from the entry's date:
        "3/7" may be either); undated, the entry's own date decides, as for a coded delivery
        (PatientRecord.current). None when its only dates are after the entry."""
        taken = observation_time(raw) or self.now
        ages, dated = [], False
        for match in _DELIVERY_DATE.finditer(text):
            iso_year, iso_month, iso_day, first, second, year = match.groups()
            readings = [(iso_year, iso_month, iso_day)] if iso_year else [(year, second, first), (year, first, second)]
            for y, m, d in readings:
                for candidate in ([int(y) + (2000 if len(y) == 2 else 0)] if y else [taken.year, taken.year - 1]):
                    try:
                        day = taken.replace(year=candidate, month=int(m), day=int(d))
                    except ValueError:
                        continue
                    dated = True
                    if day <= taken:
                        ages.append(taken - day)
        # a date with its year is no count ("12/12/2026" is not 12 months); "12/11" or "3/7" alone may be either
        undated = _DELIVERY_DATE.sub(lambda m: " " if m.group(1) or m.group(6) else m.group(0), text)
        for year in _YEAR.findall(_DELIVERY_DATE.sub(" ", text)):
            dated = True
            if int(year) <= taken.year:
                ages.append(taken - min(taken, taken.replace(year=int(year), month=12, day=31)))
        for match in _DELIVERY_AGE.finditer(undated):
            days, number, shorthand, unit = match.groups()
            ages.append(timedelta(days=int(days)) if days else timedelta(
                days=int(number) * _DAYS_PER[shorthand or unit]))
        if dated and not ages:
            return None
        return not ages or (taken - min(ages)).date() >= self.postpartum_since.date()  # "6/52 ago" is within

    def _treatment_dose(self, raw: dict, medicine_text: str) -> bool:
        """The dose written (dosage text or structured dose) is a treatment dose, whatever the product's
        strength (catalogue prophylactic-strength treatmentAbove / treatmentPerKgFrom, KB §8.3)."""
        named = medicine_text.lower()
        medicine = next((m for m in self.treatment_above if m in named), None)
        above = self.treatment_above.get(medicine)
        per_kg = self.treatment_per_kg.get(medicine)
        texts = _dosage_texts(raw)
        if self.companion is not None:  # "with aspirin 75 mg": that dose is the aspirin's
            texts = [self.companion.split(text.lower(), maxsplit=1)[0] for text in texts]
        amounts = [_amount_in(text) for text in texts]
        amounts = [a for found in amounts for a in found] + _structured_doses(raw)
        # The product's own strength ("enoxaparin 20 MG/0.2 ML"), for a dose given as a number of syringes.
        strength = next((value for value, unit, kind in _amount_in(named) if kind == "dose" and above
                         and unit == above[1]), None)
        for value, unit, kind in amounts:
            if kind == "count" and value > 1 and above and strength is not None and value * strength > above[0]:
                return True  # "2 tablets" of 2.5 mg is 5 mg; 2 syringes of 20 mg is still 40 mg
            if kind == "per-kg" and per_kg and unit == per_kg[1] and value >= per_kg[0]:
                return True
            if kind == "dose" and above and unit == above[1] and value > above[0]:
                return True
        return False

    def _on_its_site(self, raw: dict, memberships: frozenset[str], by_text: bool = False) -> frozenset[str]:
        """A Condition's leg memberships as its code, bodySite or laterality place it (KB §8.8; the catalogue's
        siteRules): a site-less oedema on a leg is leg swelling; on the arm or on both legs it is not. With
        `by_text` (a Condition), code.text is a carrier of site when there is no bodySite, as an Observation's
        text answer is (_sited_by_text): 80068009 'Swelling of limb' as "Swelling L arm after IV cannula" is
        not the leg (r31 review F2)."""
        if not memberships:
            return memberships
        named_leg = False
        if by_text and not raw.get("bodySite"):
            code = raw.get("code")
            text = code.get("text") if isinstance(code, dict) else None
            memberships = self._site_words(text, memberships)
            if not memberships:
                return memberships
            # text is the fourth carrier of site (KB §8.8 rule 1): a site-less oedema code as "Swollen tender R
            # calf" is on the leg, as with a leg bodySite (r35a 104: M79.89 so written was neither read nor named)
            named_leg = isinstance(text, str) and any(source in memberships for source, _ in self.site_gives.values()) \
                and bool(self.oedema_text_places.search(text.lower()))
        of_concept = self.value_sets.of_concept
        sites = of_concept(raw.get("code"))
        if named_leg:
            sites = sites | {LOWER_LIMB}
        body_sites = raw.get("bodySite") if isinstance(raw.get("bodySite"), list) else ()
        for site in body_sites:
            sites = sites | of_concept(site)
            extensions = site.get("extension") if isinstance(site, dict) else None
            for extension in extensions if isinstance(extensions, list) else ():
                if isinstance(extension, dict):
                    sites = sites | of_concept(extension.get("valueCodeableConcept"))
        for site, (source, added) in self.site_gives.items():
            if site in sites and source in memberships:
                memberships = memberships | added  # a site-less oedema on the leg is leg swelling
        for site, removed in self.site_rules.items():
            if site in sites:
                memberships = memberships - removed
        # The side a scan must cover; the leg an ischaemic sign is on.
        return memberships | (sites & PLACES) if memberships else memberships

    def _drug(self, concept, text: str) -> str | None:
        """Which anticoagulant the medicine is (catalogue anticoagulants.drugs): its RxNorm code, else a word of
        its name (orders often carry text only); None for one the catalogue does not tell apart (an LMWH,
        heparin). The rules check it against the patient (r38b S3: pregnancy, APS, the eGFR)."""
        codings = _get(concept, "coding") if concept is not None else None
        codes = {_get(c, "code") for c in (codings if isinstance(codings, list) else ()) if _get(c, "system") == RXNORM}
        for drug in self.anticoagulant_drugs:
            if codes & drug.rxnorm:
                return drug.key
        return next((drug.key for drug in self.anticoagulant_drugs if names_a(drug.words, text)), None)

    def _held(self, raw: dict) -> str | None:
        """An order whose dosage text or note says it is not being given now ("ON HOLD", "DO NOT GIVE -
        contraindicated", "to start once Hb checked", "patient refuses"), not a hold that ended or one only
        planned or conditional ("restarted 19/11", "to be held if platelets < 50", "no longer contraindicated")
        (catalogue heldPhrases, unlessHeldPhrases). The notes count too: a pharmacist's "Not yet started -
        awaiting OGD" sits there, not in the dosage (r31 review S2, KB §8.3). "not-started" when it says it was
        never started (catalogue notStartedPhrases), else "held"; None when it is being given."""
        text = " ".join(_dosage_texts(raw) + _note_texts(raw)).lower()
        if not self.held.search(text) or self.unless_held.search(text):
            return None
        return "not-started" if self.not_started.search(text) else "held"

    def _sited_by_text(self, raw: dict, memberships: frozenset[str]) -> frozenset[str]:
        """A finding's text answer naming the arm, or both legs, and no leg or single side ("L arm swollen after
        cannula", "Both ankles swollen"): the leg memberships it would give are not the leg's (siteRules)."""
        if raw.get("bodySite"):
            return memberships  # a bodySite names the site: it wins over words
        return self._site_words(_raw_text_answer(raw), memberships)

    def _site_words(self, text: str | None, memberships: frozenset[str]) -> frozenset[str]:
        """The leg memberships a text naming the arm, or both legs, and no leg or single side takes away
        (siteRules textWords, unlessTextWords)."""
        if not isinstance(text, str) or not text:
            return memberships
        text = text.lower()
        for site, (words, unless, same) in self.site_texts.items():
            # "R=L": both sides named to say they are the same, not that one differs (r30 review F3)
            if words.search(text) and not unless.search(same.sub(" ", text)):
                memberships = memberships - self.site_rules[site]
        return memberships

    @staticmethod
    def _day_taken(raw: dict) -> str | None:
        """The day an Observation was taken as its ISO text (YYYY-MM-DD), when observation_time would read it
        from effectiveDateTime or effectiveInstant; else None."""
        taken = raw.get("effectiveDateTime")
        if taken is None:
            if raw.get("effectivePeriod") is not None:
                return None
            taken = raw.get("effectiveInstant")
        if not isinstance(taken, str) or len(taken) < 10 or DATE.match(taken[:10]) is None:
            return None
        return taken[:10]

    def long_before(self, observation) -> bool:
        """An Observation (prefetch/lean.py _Measured: typed codes and time) with no answer, whose codes are
        all measurements, taken on a day before each of their windows opens: the same decision __call__ makes
        first for it, without decoding its head; or, coded outside every value set, taken before the unread-entry
        windows (years of vital signs and routine results are most of a long record: issue 13)."""
        if observation.valueString is not None and bytes(observation.valueString) != b"null":
            return False  # an answer in words: read on the head path
        codes = self._typed_codes
        measured, readable = codes(observation.code)
        for component in observation.component or ():
            in_sets, read = codes(component.code)
            measured, readable = measured | in_sets, readable or read
        taken = observation.effectiveDateTime
        if observation.valueCodeableConcept is not None:
            # A coded answer to a question no value set holds (smoking status, blood group, years of them),
            # answered by a code in none either, before the unread-entry windows: as the head path decides
            # (no membership, then _unread_entry on the day's text). Anything else: read on the head path.
            return not measured and not codes(observation.valueCodeableConcept)[0] \
                and isinstance(taken, str) and taken < self.unread_before
        if not measured:  # a code no value set holds: as _unread_entry decides first, on the day's text, then
            # for a number answering a code in a system we read (a routine result: it states no sign)
            if isinstance(taken, str) and taken < self.unread_before:
                return True
            quantity = observation.valueQuantity
            return readable and quantity is not None and bytes(quantity) != b"null"
        if not measured <= self.measurements.keys() or not isinstance(taken, str) \
                or len(taken) < 10 or DATE.match(taken[:10]) is None:
            return False
        day = taken[:10]
        return day > self.after_windows or all(day < self.before_window[self.measurements[vs]] for vs in measured)

    def _typed_codes(self, concept) -> tuple[frozenset[str], bool]:
        """(the value sets, whether a coding is in a code system they use) of a typed concept (lean._Concept),
        worked out once per distinct concept in a request: a long record repeats a few codes thousands of times."""
        try:
            found = self._typed_seen.get(concept)
        except TypeError:  # a code that is not a string (hostile input): unhashable, looked up as it is
            found, concept_key = None, None
        else:
            concept_key = concept
        if found is None:
            as_raw = None if concept is None or concept.coding is None else {
                "coding": [{"system": c.system, "code": c.code} for c in concept.coding]}
            found = (self.value_sets.of_concept(as_raw), self.value_sets.readable(as_raw))
            if concept_key is not None and len(self._typed_seen) < 4096:  # codes come from requests: bounded
                self._typed_seen[concept_key] = found
        return found

    def _inside_window(self, raw: dict, by_code: frozenset[str]) -> bool:
        taken = observation_time(raw)
        if taken is None:
            # a time written but not as FHIR writes it ('22/11/2026 11:00') may be today's: not valid FHIR, so
            # named on the cards (build_record), never dropped as if it were old (r38b S6)
            return any(raw.get(key) is not None for key in ("effectiveDateTime", "effectiveInstant", "effectivePeriod"))
        return taken <= self.latest and any(taken >= self.oldest[self.measurements[vs]] for vs in by_code)


def medication_concept(request):
    """The medicine a MedicationRequest (raw dict or model) names: its CodeableConcept, or the code of the
    contained Medication it references."""
    concept = _get(request, "medicationCodeableConcept")
    if concept is not None:
        return concept
    reference = _get(_get(request, "medicationReference"), "reference")
    if isinstance(reference, str) and reference.startswith("#"):
        contained = _get(request, "contained")
        for resource in contained if isinstance(contained, list) else ():
            if _get(resource, "id") == reference[1:] and _get(resource, "code") is not None:
                return _get(resource, "code")
    # A reference to a Medication elsewhere (Epic-style APIs) often carries only its name as the display.
    display = _get(_get(request, "medicationReference"), "display")
    return {"text": display} if isinstance(display, str) and display.strip() else None


def _order_text(raw: dict) -> str:
    """The free text of a raw MedicationRequest's (or MedicationStatement's, MedicationAdministration's)
    dosage instructions and reasons."""
    parts = []
    for element, field in (("dosageInstruction", "text"), ("dosage", "text"), ("reasonCode", "text"),
                           ("note", "text")):
        items = raw.get(element)
        items = [items] if isinstance(items, dict) else items  # an administration has one dosage
        for item in items if isinstance(items, list) else ():
            value = _get(item, field)
            if isinstance(value, str):
                parts.append(value)
    return " ".join(parts)


_DOSE = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*(mg|units)\b(\s*/\s*kg\b)?")
_COUNT = re.compile(r"\b([2-9]|two|three|four)\s*(?:x\s*|×\s*)?(?:tablets?|tabs?|syringes?|capsules?|caps?)\b"
                    r"|\b([2-9])\s*(?:x|×)\s*\d")
_DAILY_TOTAL_AFTER = re.compile(r"\s*(?:per\s+(?:day|24\s*h)|/\s*(?:day|d|24\s*h)\b|a\s+day|daily\s+total|in\s+24)")
_CONCENTRATION_AFTER = re.compile(r"\s*(?:/|per)\s*(?:ml|mL|0\.\d+\s*ml|\d+\s*ml)\b|\s*(?:daily\s+)?in\s+(?:\w+\s+)?divided")
_PLANNED_AFTER = re.compile(r"[^.;]{0,25}?\b(?:if|pending|unless|once\s+(?!daily\b|a\s+day\b|per\b|weekly\b|only\b|"
                            r"nightly\b|at\b|in\b|each\b|every\b))")
_PLANNED_BEFORE = re.compile(r"\b(?:if|plan|planned|consider|pending|to be|will be|will|intend|aim)\b[^.;]{0,40}$"
                             # "40 mg until weight known, then 1.5 mg/kg": the step after "then" is to come, unless
                             # it is a change already made ("then increased to 1.5 mg/kg") (r21 review)
                             r"|\b(?:then|thereafter|subsequently|followed by)\b(?![^.;]*\b(?:increased|decreased|reduced|"
                             r"changed|switched|stepped|escalated|titrated|went|now)\b)[^.;]{0,40}$")
# A dose to be given later: "1.5 mg/kg when weighed", "step down to 40 mg after 3 months", "from tomorrow"
_FUTURE_AFTER = re.compile(r"[^.;]{0,30}?\b(?:when|after|tomorrow|from\s+(?:next|day|week|\d)|on\s+discharge|"
                           r"in\s+\d+\s*(?:days?|weeks?|months?))\b")
_RESTATED = re.compile(r"^\s*(?:[a-z]+\s*){0,2}(?:[(\[]\s*(?:=|i\.e\.?,?|ie)?|=|i\.e\.?,?)\s*$")  # "120 mg (1.5 mg/kg)": the same dose again, per kg
_CHANGE_BETWEEN = re.compile(r"→|->|=>|>|\b(?:now|to|changed|reduced|decreased|increased|switched|stepped|"
                             r"step|stopped)\b")
_FROM_BEFORE = re.compile(r"\b(?:from|previously|was|instead of|down from|up from)\s*$")
_TOTAL_BEFORE = re.compile(r"\btotal(?:\s+(?:daily\s+)?(?:dose\s+)?(?:of\s+)?)?\s*$")
_COUNT_UNITS = {"tablet", "tablets", "tab", "tabs", "{tablet}", "{tbl}", "tbl", "syringe", "syringes", "{syringe}",
                "capsule", "capsules", "{capsule}", "cap"}
_UNIT_NAMES = {"mg": "mg", "milligram": "mg", "milligrams": "mg", "u": "units", "[iu]": "units", "iu": "units",
               "unit": "units", "units": "units", "unt": "units", "[u]": "units"}


def _affirmed(text: str) -> str:
    """The text without its negated clauses: "Not for continuous infusion", "no aPTT monitoring" say nothing
    of an infusion."""
    return " ".join(c for c in re.split(r"[.;,\n]", text) if not re.search(r"\b(?:not|no|never|avoid|without)\b", c))


def _dosages(raw: dict) -> list[dict]:
    """The Dosage elements of an order or statement (dosageInstruction, dosage[]) or an administration (dosage)."""
    found = []
    for element in ("dosageInstruction", "dosage"):
        items = raw.get(element)
        items = [items] if isinstance(items, dict) else items
        found.extend(item for item in (items if isinstance(items, list) else ()) if isinstance(item, dict))
    return found


def _status_codes(concept: object) -> frozenset[str]:
    """The string codes of a raw status CodeableConcept (hostile input: anything else is skipped)."""
    codings = concept.get("coding") if isinstance(concept, dict) else None
    return frozenset(c["code"] for c in codings if isinstance(c, dict) and isinstance(c.get("code"), str)) \
        if isinstance(codings, list) else frozenset()


def _dosage_texts(raw: dict) -> list[str]:
    """The dosage instruction texts of an order, statement or administration (not the product's name)."""
    return [item["text"] for item in _dosages(raw) if isinstance(item.get("text"), str)]


def _raw_text_answer(raw: dict) -> str | None:
    """A raw Observation's answer as text: its valueString, else its valueCodeableConcept's text."""
    value = raw.get("valueCodeableConcept")
    return raw.get("valueString") if isinstance(raw.get("valueString"), str) else (
        value.get("text") if isinstance(value, dict) and isinstance(value.get("text"), str) else None)


def _note_texts(raw: dict) -> list[str]:
    """The texts of a raw resource's notes (Annotation.text)."""
    notes = raw.get("note")
    return [n["text"] for n in (notes if isinstance(notes, list) else ()) if isinstance(n, dict)
            and isinstance(n.get("text"), str)]


def _amount_in(text: str) -> list[tuple[Decimal, str, str]]:
    """Single doses named in a dosage text: (value, "mg"/"units", "dose"/"per-kg"), and tablet counts. A daily
    total ("15,000 units per day", "(total 5 mg/day)") is no single dose and is left out."""
    plain = re.sub(r"(?<=\d),(?=\d{3})", "", text.lower())
    plain = re.sub(r"(\d)\s*(?:unt|iu|\[iu\]|u)\b", r"\1 units", plain)
    matches = [m for m in _DOSE.finditer(plain)
               if not _DAILY_TOTAL_AFTER.match(plain, m.end()) and not _TOTAL_BEFORE.search(plain[:m.start()])
               and not _CONCENTRATION_AFTER.match(plain, m.end()) and not _FROM_BEFORE.search(plain[:m.start()])
               and not _PLANNED_AFTER.match(plain, m.end()) and not _PLANNED_BEFORE.search(plain[:m.start()])
               and not _FUTURE_AFTER.match(plain, m.end())]
    found = [(Decimal(m.group(1)), m.group(2), "per-kg" if m.group(3) else "dose") for m in matches]
    # The first dose written is the anticoagulant's: later numbers are other medicines ("; omeprazole 20 mg"),
    # a previous dose, a vial; a per-kg dose anywhere still counts. After a change marker the dose written
    # after it is the current one, per kg or not: "5 mg BD → 2.5 mg BD", "1 mg/kg BD → 40 mg OD" (r17, r18
    # reviews); only within a few words, so another medicine's dose further on is not taken for a change.
    # A planned dose ("increase to 1.5 mg/kg if confirmed", "If DVT confirmed give ...") is not current.
    chain = list(zip(found, matches))
    current = None
    previous = chain[0][1] if chain else None
    for f, m in chain[1:]:
        between = plain[previous.end():m.start()]
        if _RESTATED.match(between):
            continue  # the dose restated per kg: the chain goes on from it
        if m.start() - previous.end() > 40 or not _CHANGE_BETWEEN.search(between):
            break
        current, previous = f, m
    if current is not None:
        found = [current]
    else:
        found = [f for f in found if f[2] == "dose"][:1] + [f for f in found if f[2] == "per-kg"]
    words = {"two": 2, "three": 3, "four": 4}
    for m in _COUNT.finditer(plain):
        count = m.group(1) or m.group(2)
        found.append((Decimal(words.get(count, count)), "", "count"))
    return found


def _structured_doses(raw: dict) -> list[tuple[Decimal, str, str]]:
    """doseAndRate.doseQuantity of an order or statement, or an administration's dosage.dose."""
    quantities = []
    for item in _dosages(raw):
        quantities.append(item.get("dose"))
        for rate in item.get("doseAndRate") if isinstance(item.get("doseAndRate"), list) else ():
            if isinstance(rate, dict):
                quantities.append(rate.get("doseQuantity"))
    found = []
    for quantity in quantities:
        if not isinstance(quantity, dict) or not isinstance(quantity.get("value"), (int, float)) \
                or isinstance(quantity.get("value"), bool):
            continue
        value = Decimal(str(quantity["value"]))
        unit = str(quantity.get("code") or quantity.get("unit") or "").strip().lower()
        if unit in _COUNT_UNITS:
            found.append((value, "", "count"))
        elif unit.endswith("/kg") and _UNIT_NAMES.get(unit[:-3]):
            found.append((value, _UNIT_NAMES[unit[:-3]], "per-kg"))
        elif _UNIT_NAMES.get(unit):
            found.append((value, _UNIT_NAMES[unit], "dose"))
    return found


def _get(obj: object, name: str):
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def _has_rate(raw: dict) -> bool:
    """A dose rate in an order's doseAndRate or an administration's dosage: an infusion."""
    dosages = raw.get("dosageInstruction") or raw.get("dosage")
    dosages = [dosages] if isinstance(dosages, dict) else dosages if isinstance(dosages, list) else []
    for dosage in dosages:
        if not isinstance(dosage, dict):
            continue
        if dosage.get("rateQuantity") or dosage.get("rateRatio"):
            return True
        rates = dosage.get("doseAndRate")
        for rate in rates if isinstance(rates, list) else ():
            if isinstance(rate, dict) and (rate.get("rateQuantity") or rate.get("rateRatio") or rate.get("rateRange")):
                return True
    return False


def _as_written(original: str | None, piece: str) -> str:
    """A piece of a normalised text (lower case, single spaces) as the original writes it, for a card to
    quote; the piece itself when it cannot be found there."""
    words = piece.split()
    if not isinstance(original, str) or not words:
        return piece
    found = re.search(r"\s+".join(map(re.escape, words)), original, re.IGNORECASE)
    return found.group(0) if found else piece


_QUERY_TAIL = re.compile(r"[\s,;.]*(?:\s[-–]+)?(?:^|[\s,;(])\?([a-z][^?]*?)[\s.)]*$", re.IGNORECASE)  # " ?PE" at the end


_NEVER = re.compile(r"(?!x)x")  # matches nothing: no finding's own words


def _shortened(quoted: str) -> str:
    quoted = " ".join(quoted.split())
    return quoted if len(quoted) <= 80 else quoted[:77].rstrip() + "..."


def _quantity_text(quantity) -> str | None:
    """A raw Quantity as written ("39.1 Cel"), for naming an entry the service cannot read (r32 S6: 'Temp'
    was named without its 39.1)."""
    if not isinstance(quantity, dict) or isinstance(quantity.get("value"), bool) \
            or not isinstance(quantity.get("value"), (int, float)):
        return None
    unit = quantity.get("unit") or quantity.get("code")
    return f"{quantity.get('comparator') or ''}{quantity['value']:g} {unit if isinstance(unit, str) else ''}".strip()


def _without_queries(text: str | None, about: re.Pattern | None, answers: frozenset[str] = frozenset()) -> str | None:
    """The answer without the differentials queried after it: "SOB since this morning ?PE", "Yes, ?anxiety",
    "SOB - ?PE ?chest infection" state the finding and ask its cause (r30 review S6: such an answer was
    read as a doubt and asked first). A query about the finding itself ("Yes ?SOB"), a bare "?" ("LOC ?"),
    a label's question mark ("Full sentences? No", "SOB ?no": an answer word follows) and a question standing
    alone ("?LOC - witness says no") stay."""
    while text and about is not None:
        query = _QUERY_TAIL.search(text)
        asked = query.group(1).strip().lower() if query else ""
        if not asked or about.search(asked) or asked.split()[0] in answers or not text[:query.start()].strip():
            break
        text = text[:query.start()]
    return text


def _whole_value(text) -> str | None:
    """A text result as a whole, for an exact match: "Positive." and " POS " alike."""
    return " ".join(text.lower().rstrip(".").split()) if isinstance(text, str) else None


def _names_dose(doses: dict[str, tuple[str, ...]], text: str) -> bool:
    """The text names a medicine together with one of its prophylaxis doses ("apixaban 2.5 MG Oral Tablet";
    "enoxaparin ... 40mg once daily")."""
    plain = re.sub(r"(?<=\d),(?=\d{3})", "", text.lower())
    plain = re.sub(r"(\d)\s*(mg|units?|unt|iu|\[iu\])\b", lambda m: f"{m.group(1)} units"
                   if m.group(2) != "mg" else f"{m.group(1)} mg", plain)
    return any(medicine in plain and any(re.search(r"(?<![\d.])" + re.escape(dose) + r"\b", plain) for dose in found)
               for medicine, found in doses.items())


def names_a(words: tuple[str, ...], text: str) -> bool:
    return any(word in text.lower() for word in words)


def names_word(words: tuple[str, ...], text: str) -> bool:
    """A whole word of the list in the text ("lock" in "heparin lock flush", not in "nerve block")."""
    found = set(re.findall(r"[a-z]+(?:-[a-z]+)*", text.lower()))
    return any(word in found for word in words)


def _concept_name(concept) -> str | None:
    """A CodeableConcept's (raw dict) name as the record writes it: its text, else its first display."""
    if not isinstance(concept, dict):
        return None
    if isinstance(concept.get("text"), str) and concept["text"].strip():
        return concept["text"].strip()
    codings = concept.get("coding") if isinstance(concept.get("coding"), list) else ()
    return next((c["display"].strip() for c in codings if isinstance(c, dict) and isinstance(c.get("display"), str)
                 and c["display"].strip()), None)


def _all_text(concept) -> str:
    """Every text and display of a CodeableConcept (raw dict or model), for a match by name."""
    if concept is None:
        return ""
    codings = _get(concept, "coding")
    parts = [_get(concept, "text")] + [_get(c, "display") for c in (codings if isinstance(codings, list) else ())]
    return " ".join(p for p in parts if isinstance(p, str))


def _historical(clause: str, history: re.Pattern, recent: re.Pattern, changed: re.Pattern, year_now: int,
                finding_days: int) -> bool:
    """A clause about the past ("Breathless last year only", "Previous syncope 2019"), not "since" then
    (catalogue historyWords, recentTimeWords, changedWords)."""
    words = clause.split()
    if {"since", "now", "today", "currently", "still"} & set(words) or changed.search(clause):
        return False  # "SOB worse than usual": a change from the usual, now (r30 review)
    # A past year dates it whatever place it names ("Collapsed at home in 2019": r27 review)
    if any(int(year) < year_now for year in _YEAR.findall(clause)):
        return True
    # "2 yrs ago", "3/12 ago", "6/52": history when longer ago than the findings window (r28 review);
    # "1/52 ago", "3 days ago" are the presentation
    ago = _AGO.search(clause)
    if ago:
        return int(ago.group(1)) * _DAYS_PER[ago.group(2) or ago.group(3)] > finding_days
    return bool(history.search(clause) or _YEAR.search(clause)) and not recent.search(clause)


# -- facts -----------------------------------------------------------------------------------------------

class _Builder:
    def __init__(self, value_sets: ValueSets, catalogue: Catalogue, now: datetime, birth: datetime | None = None):
        self.__dict__.update(compiled_once(catalogue, _Builder._compile))
        self.value_sets = value_sets
        self._now = now
        self._birth = birth  # Patient.birthDate: places an onsetAge in time
        self._own_words: dict[frozenset[str], re.Pattern | None] = {}  # per request: its keys are the caller's
        self.for_type = {"Condition": self.condition, "Observation": self.observation,
                         "MedicationRequest": self.medication, "MedicationStatement": self.statement,
                         "MedicationAdministration": self.administration, "Procedure": self.procedure,
                         "DiagnosticReport": self.report}
        self.status_codes = {"Observation": self.hygiene["observationStatusCodes"],
                             "DiagnosticReport": self.hygiene["reportStatusCodes"]}

    def status_allowed(self, model) -> bool:
        """A result's status is one FHIR R4 allows (recordHygiene observationStatusCodes, reportStatusCodes):
        fhir.resources does not check required bindings, and a heart rate 142 'finalised' was read as not final
        and dropped without a word (r38b S6)."""
        allowed = self.status_codes.get(model.get_resource_type())
        return allowed is None or model.status in allowed

    @staticmethod
    def _compile(catalogue: Catalogue) -> dict:
        """What depends on the catalogue alone (about 1,400 words turned into patterns, 1.5 ms): built once
        per catalogue, not per request."""
        self = SimpleNamespace()
        self.hygiene = catalogue.hygiene
        self.absent_answers = catalogue.absent_answers
        self.absent_words = catalogue.absent_words
        # Unknown is not found, for a finding; for a scan's result it is not negative either (never closes).
        self.unknown_answers = catalogue.unknown_answers
        self.unknown_words = catalogue.unknown_words
        self.present_answers, self.present_words = catalogue.present_answers, catalogue.present_words
        self.absent_start = re.compile(r"^(?:%s)\b" % "|".join(map(re.escape, catalogue.absent_starts)))
        self.unknown_start = re.compile(r"^(?:%s)\b" % "|".join(map(re.escape, catalogue.unknown_starts)))
        self.normal_end = catalogue.normal_end_words
        self.absent_contrast = re.compile(r"\b(?:%s)\b" % "|".join(map(re.escape, catalogue.absent_contrasts)))
        self.function = _phrases(catalogue.normal_functions)
        self.recurrence = _phrases(catalogue.recurrence_words)
        self.present_phrase = _phrases(catalogue.present_phrases)
        self.absent_tail = re.compile(r"(?<![\w/'])(?:%s)$" % alternatives(catalogue.absent_tail_words) or r"(?!x)x")
        self.finding_noun = re.compile(r"(?:%s)[\w-]*" % "|".join(map(re.escape, catalogue.finding_noun_stems))
                                       if catalogue.finding_noun_stems else r"(?!x)x")
        self.finding_stem = re.compile(r"\b(?:%s)" % "|".join(map(re.escape, catalogue.finding_stems))
                                       if catalogue.finding_stems else r"(?!x)x")
        self.function_negation = _phrases(catalogue.function_negations)
        self.finding_words = catalogue.finding_words
        self.any_finding_word = _stems(s for g in catalogue.finding_words for s in g.stems)
        self.red_flag_word = _stems(s for g in catalogue.finding_words if g.red_flag for s in g.stems)
        self.intensifier = re.compile(r"^(?:%s)\b" % "|".join(map(re.escape, catalogue.intensifier_starts))
                                      if catalogue.intensifier_starts else r"(?!x)x")
        self.history = _phrases(catalogue.history_words)
        self.recent = _phrases(catalogue.recent_time_words)
        self.prior_episode = _phrases(catalogue.prior_episode_words)
        self.episode_over = _phrases(catalogue.episode_over_words)
        self.episodic_sets = frozenset(v for g in catalogue.finding_words if g.red_flag and g.episodic for v in g.value_sets)
        # A finding at its usual level ("Chronic SOB, unchanged"): each group's baseline clauses and their exceptions
        self.baseline = [(g.value_sets, re.compile(r"^(?:%s)$" % alternatives(g.baseline)),
                          re.compile(r"(?:^|\s)(?:%s)$" % alternatives(g.baseline_tails or g.baseline)),
                          _phrases(g.not_baseline, marks=True)) for g in catalogue.finding_words if g.baseline]
        self.changed = _phrases(catalogue.changed_words)
        self.course_denied = catalogue.course_denied_replies
        self.course_asked = catalogue.course_asked_words
        self.red_flag_sets = frozenset(v for g in catalogue.finding_words if g.red_flag for v in g.value_sets)
        # Each red-flag finding a text can state beside another's answer: its coded value sets and its words.
        self.red_flag_groups = tuple(
            (g, sets, _stems(g.stems)) for g in catalogue.finding_words
            for sets in [frozenset(g.value_sets - catalogue.measurements.keys())] if g.red_flag and sets)
        self.negation_words = catalogue.negation_words
        self.resolved_words = catalogue.resolved_words
        continuing = sorted(catalogue.continuing_denials, key=len, reverse=True)
        self.continuing = re.compile(r"(?:[\s,]+(?:%s))+[.!]*$" % "|".join(map(re.escape, continuing))
                                     if continuing else r"(?!x)x")
        leads = sorted(catalogue.answer_leads, key=len, reverse=True)
        self.answer_lead = re.compile(r"^(?:(?:%s)\b\s*)+" % "|".join(map(re.escape, leads))) if leads else None
        self.measurements = catalogue.measurements
        self.confirmation_read = catalogue.confirmation_read
        self.plausible_ranges = catalogue.plausible_ranges
        self.reports = ReportReader(catalogue)
        self.ischaemic_sign_words = {kind: _stems(words) for kind, words in catalogue.ischaemic_signs.items()}
        # "no sensation deficit", "no feeling of change": a denial, though its first words name a loss
        self.loss_not_before = re.compile(r"\s*(?:of\s+)?(?:%s)\b" % alternatives(catalogue.pulse_loss_not_before))
        self.finding_days = catalogue.windows["finding"].days
        self.hot_joint_words = {kind: _phrases(words) for kind, words in catalogue.hot_joint_words.items()}
        self.not_the_knee = _phrases(catalogue.hot_joint_not_with)
        # the body parts a hot or swollen word may qualify: the knee, or another (r34b S5)
        self.part = re.compile("|".join(f"(?P<{name}>{_phrases(words).pattern})" for name, words in (
            ("knee", catalogue.hot_joint_knee_words), ("other", catalogue.hot_joint_other_parts))))
        self.knee_drainage = _phrases(catalogue.knee_drainage_words)
        self.bruise = _phrases(catalogue.bruise_words)  # r36a 080: a bruise's colour is no P and no hot knee
        self.bruise_colour = _phrases(catalogue.bruise_colour_words)
        self.signs_not_after = _phrases(catalogue.ischaemic_signs_not_after)
        self.near_denials = catalogue.near_denials
        self.list_statement = _phrases(catalogue.list_statement_words, marks=True)
        self.answer_words = catalogue.absent_words | catalogue.unknown_words | _YES
        words = dict(catalogue.leg_dvt_words)
        calf, leg = words.pop("calf", ()), words.pop("leg", ())
        self.leg_dvt_denied = _phrases(words.pop("denials", ()))  # "non-tender": a denial in one word
        # the calf or leg its words must name: only the calf's tenderness is a Wells item ('leg sore' is the row's pain)
        self.leg_dvt_words = {value_set(kind): (_phrases(calf if kind == "calf-pain" else calf + leg), _phrases(found))
                              for kind, found in words.items()}
        self.not_this_leg = _phrases(catalogue.leg_dvt_not_with)
        self.leg_places = _phrases(calf + leg)
        # the words of a negated list of leg features ("not red, swollen, tender"): features, places, redness
        self.leg_list_word = _phrases(sorted({w for found in words.values() for w in found} | set(calf + leg)
                                             | {w for hot in catalogue.hot_joint_words.values() for w in hot}
                                             | set(catalogue.leg_dvt_words.get("denials", ()))))
        # what an entry coded outside our value sets must state beside (r34b S2: catalogue codedOutsideValueSets)
        self.lower_limb = _phrases(catalogue.lower_limb_words)
        clots = catalogue.text_lists["negative-imaging"]
        clot = r"\b(?:(?:%s)(?:'?s|es)?|(?:%s)[\w-]*)\b" % (alternatives(clots["clotWords"]),
                                                            alternatives(clots.get("clotStems", ())))
        self.clot_named = re.compile(clot)
        self.clot_place = _phrases(catalogue.unread_coded_clot_places)
        self.knee_named = _phrases(catalogue.unread_entry_condition[1])
        self.coded_hot_kinds = catalogue.unread_coded_hot_kinds
        # with the reading that follows it, if any ("blood glucose 6.2", "blood pressure 120/80")
        self.not_finding = re.compile(_phrases(catalogue.not_finding_phrases).pattern
                                      + r"(?:\s*[:=]?\s*\d+(?:\.\d+)?(?:\s*/\s*\d+)?(?:\s*(?:mmol/l|mmol|mg/dl|mmhg))?)?")
        pulse, loss, lead, other = (alternatives(words) for words in (
            catalogue.pulse_words, catalogue.pulse_loss_words, catalogue.pulse_loss_leads, catalogue.pulse_loss_not_before))
        between = r"(?:[^\s,.;]+\s+){0,2}"  # up to two words, never across a comma or full stop
        self.pulse_lost = re.compile(
            rf"(?<![\w/-])(?:(?:{lead})\s+{between}(?:{pulse})(?![\w/])(?!\s+(?:{other})\b)"
            rf"|(?:{pulse})\s*[:?]?\s+{between}(?:{loss})(?![\w/]))"
            if pulse and loss and lead else r"(?!x)x")
        return vars(self)

    def condition(self, condition, relevant: Memberships) -> list[Fact]:
        verification = _status_code(condition.verificationStatus)
        if verification in self.hygiene["ignoredVerification"]:
            return []
        memberships = relevant.by_code
        if verification in self.hygiene["refutedVerification"]:
            # Ruled out "by diagnostic and clinical evidence": a negative test, dated when it was recorded.
            when = as_datetime(condition.recordedDate) or as_datetime(condition.abatementDateTime)
            return [Fact("Condition", memberships, when, False,
                         self._evidence("Condition", condition, condition.code, when, verification="refuted"),
                         negative=True)]
        clinical = _status_code(condition.clinicalStatus)
        abated = any(getattr(condition, name, None) for name in
                     ("abatementDateTime", "abatementAge", "abatementPeriod", "abatementRange", "abatementString"))
        current = clinical not in self.hygiene["historyClinicalStatus"] and not (abated and clinical is None)
        onset = as_datetime(condition.onsetDateTime) or as_datetime(
            condition.onsetPeriod.start if condition.onsetPeriod else None)
        if clinical in self.hygiene["newEpisodeClinicalStatus"]:
            onset = None  # a recurrence or relapse: the onset is the first episode's; this one is as recorded
        recorded = as_datetime(condition.recordedDate)
        # Recency is the latest the record speaks of the problem: swelling that began 3 weeks ago but was
        # recorded today is a current finding. Which rules read a recorded onset months back as a chronic
        # finding re-recorded is theirs to say (PatientRecord.began_long_ago, catalogue chronic-finding: r36a).
        when = max((d for d in (onset, recorded) if d is not None), default=None)
        if onset is None and clinical not in self.hygiene["newEpisodeClinicalStatus"]:
            onset = self._onset_by_age(condition, recorded)  # the onset only: it dates nothing undated
        # No verificationStatus is not "confirmed" (FHIR R4 gives none a default): "?DVT for duplex" must not
        # read as a diagnosed clot. Only where a rule reads confirmation does the card say so.
        if verification in self.hygiene["unconfirmedVerification"]:
            state = "unconfirmed"
        elif verification is None and memberships & self.confirmation_read:
            state = "unrecorded"
        else:
            state = None
        ended = as_datetime(condition.abatementDateTime) or as_datetime(
            condition.abatementPeriod.end if condition.abatementPeriod else None)
        # A problem that is history says so on the card ("status resolved 2026-11-01"): a red flag that came and went
        # inside its window still counts for some rules (PatientRecord.recent_episodes).
        status = None if current else (clinical or "abated") + (f" {ended.date().isoformat()}" if ended else "")
        fact = Fact("Condition", memberships, when, current,
                    self._evidence("Condition", condition, condition.code, when, verification=state, status=status),
                    onset=onset, ended=ended)
        text = condition.code.text if condition.code is not None and isinstance(condition.code.text, str) else None
        # The diagnosis's own words: its code.text and its notes, read alike (r36a 080: 'R knee swollen since
        # fall, bruised red-purple' raised two cards as code.text and none as a note)
        texts = [(t, f"“{t.strip()}”") for t in [text] if t and t.strip()] + [
            (n.text, f"“{n.text.strip()}” (note)") for n in getattr(condition, "note", None) or ()
            if isinstance(n.text, str) and n.text.strip()]
        if memberships & (LEG_PAIN_ROWS | ISCHAEMIC_SIGNS):
            # "Knee pain - L foot cold and pale, no pulses felt": the Ps the diagnosis's own text names (r33 S2)
            stated = [(signs, quoted) for words, quoted in texts for signs in [self._ischaemic_signs(words)] if signs]
            if stated:
                fact = replace(fact, signs=frozenset().union(*(signs for signs, _ in stated)),
                               evidence=replace(fact.evidence, value=stated[0][1]))
        if KNEE_EFFUSION in memberships:
            for words, _ in texts:
                fact = self._hot_effusion(fact, words)
        found = [f for words, quoted in texts for f in self._findings_in_words(words, fact, quoted)]
        return [fact] + found + self._red_flags_in_notes(condition, memberships, when, current, "Condition")

    def _onset_by_age(self, condition, recorded: datetime | None) -> datetime | None:
        """An onsetAge (or an onsetRange's upper age) as the latest moment it can mean: 'at 45' is before the
        46th birthday; never after the recordedDate (or now). Read only in UCUM years, months, weeks or days;
        without a birthDate, none (r36a: the brief names onsetAge beside onsetDateTime)."""
        age = condition.onsetAge or (condition.onsetRange.high if condition.onsetRange else None)
        days = _UCUM_AGE_DAYS.get(getattr(age, "code", None)) if age is not None else None
        if self._birth is None or days is None or age.value is None or age.value < 0 \
                or (age.system is not None and age.system != "http://unitsofmeasure.org"):
            return None
        try:
            latest = self._birth + timedelta(days=float(age.value + 1) * days)
        except OverflowError:
            return None
        return min(latest, recorded or self._now, self._now)

    def unread(self, entry: UnreadEntry) -> UnreadEntry | None:
        """An entry the relevance check named, as the text readers see it (r34a F1, r34b S2): one coded
        outside our value sets only when its words state a red flag of the leg (the Ps, DVT features, a clot,
        a hot knee); any other not when every clause is denied ('L calf: no swelling, no tenderness')."""
        words = entry.words
        if entry.coded:
            limb = bool(self.lower_limb.search(words))
            clot = bool(self.clot_named.search(words) and (limb or self.clot_place.search(words))
                        and self._not_the_finding(words, self.any_finding_word) is not True)
            stated = ((limb and self._ischaemic_signs(words)) or self._dvt_features_in_words(words) or clot
                      or (self.knee_named.search(words) and self._hot_joint(words) & self.coded_hot_kinds))
            return entry if stated else None
        if self._not_the_finding(self._answer_part(words) or words, self.any_finding_word) is True:
            return None
        if entry.oedema and self.reports.sides(words):
            entry = replace(entry, oedema=False)  # 'L ankle swollen': one leg, a DVT feature's side
        return entry

    def _findings_in_words(self, text: str | None, fact: Fact, quoted: str | None = None) -> list[Fact]:
        """A knee, calf or leg pain diagnosis whose own text names DVT features, a hot swollen knee or pus from
        the knee ("Knee pain - swollen L calf ?DVT"): those findings, as on a flowsheet pain row (legDvtWords,
        hotJointWords, kneeDrainageWords; r32 review S1: such text on a coded pain Condition was never read)."""
        if not text or not fact.value_sets & LEG_PAIN_ROWS:
            return []
        stated = self._dvt_stated(text, fact.value_sets)
        found = [(*stated, frozenset())] if stated else []
        joint = self._hot_joint(text) if KNEE_PAIN in fact.value_sets else frozenset()
        if joint:
            found.append((frozenset({KNEE_EFFUSION}), "a hot or swollen knee", joint))
        if KNEE_PAIN in fact.value_sets and self._drained(text):
            found.append((frozenset({DRAINAGE, LOWER_LIMB}), "pus from the knee", frozenset()))  # r34b S11
        return [replace(fact, value_sets=sets | (fact.value_sets & PLACES), joint=kinds,
                        evidence=replace(fact.evidence, value=f"{quoted or '“' + text.strip() + '”'} (read as {name})"))
                for sets, name, kinds in found]

    def _is_absent(self, observation, measured: bool, by_value: frozenset[str] = NOTHING,
                   by_code: frozenset[str] = NOTHING, set_aside: frozenset[str] = NOTHING) -> bool:
        """An Observation recording a finding as absent ("calf pain: no") or unknown must not count as the
        finding; for a finding (not a measurement, whose numbers and flags are read where its value is) only
        an answer that affirms it counts (catalogue absentAnswers presentCodes/presentWords)."""
        concept = observation.valueCodeableConcept
        text_only = concept is not None and not concept.coding and isinstance(concept.text, str)
        about = self._words_of(by_code)
        written = _without_queries(self._answer_text(observation), about, self.answer_words)
        text = self._answer_part(written)
        # the label may be what names the finding: "LOC – nil ongoing, one episode this am"
        if text and self._episode_stated(written, by_code, about):
            return False  # "No further haemoptysis since Tuesday": it happened (catalogue priorEpisodeWords)
        if observation.valueBoolean is False or text == "" or text in self.absent_words or text in self.unknown_words:
            return True
        if concept is not None and any((c.system, c.code) in self.unknown_answers for c in concept.coding or ()):
            return True
        if not measured and (observation.dataAbsentReason is not None and observation.valueString is None
                             and observation.valueCodeableConcept is None and observation.valueBoolean is None
                             or _flags(observation) & self.hygiene["negativeInterpretation"]):
            return True
        if text and self._not_the_finding(text, about, set_aside):
            return True  # "No SOB at rest or on exertion", "No SOB, no chest pain"; not "Not at rest, breathless on exertion"
        if concept is not None and any((c.system, c.code) in self.absent_answers for c in concept.coding or ()):
            return True
        if written and self._at_baseline(written, by_code):
            return True  # "SOBOE - usual for him, no worse": the usual breathlessness, not a new one (r30 F2)
        return not measured and not self._affirms(observation, text, text_only, by_value, about)

    def _at_baseline(self, text: str, by_code: frozenset[str]) -> bool:
        """An answer stating the finding at the person's usual level: a clause that is or ends in one of its
        group's baselineClauses, and no other clause with a notBaselineWord (catalogue "$baselineComment")."""
        clauses = [c.strip() for c in _CLAUSES.split(text.lower()) if c.strip()]
        for value_sets, whole, tail, new in self.baseline:
            if by_code & value_sets and any(whole.match(c) or tail.search(c) for c in clauses) \
                    and not any(new.search(c) for c in clauses if not whole.match(c)):
                return True
        return False

    def _is_answer_word(self, reply: str) -> bool:
        return (reply in self.absent_words or reply in self.unknown_words or reply in _YES or reply in self.present_words
                or bool(self.absent_start.match(reply)))

    def _episode_stated(self, text: str, by_code: frozenset[str], about: re.Pattern | None) -> bool:
        """A denial of a red-flag finding that says it happened: 'No further haemoptysis since Tuesday', 'No
        syncope since the collapse at home' - unless a history dates the episode (catalogue priorEpisodeWords)."""
        if about is None or not by_code & self.red_flag_sets:
            return False
        lowered = text.lower()
        if _YEAR.search(lowered) or (self.history.search(lowered) and not self.recent.search(lowered)):
            return False
        # the finding named, or the row's own when the text names no finding ("One episode this am" on a syncope row)
        if self.prior_episode.search(lowered) and (about.search(lowered) or not self.any_finding_word.search(lowered)):
            return True
        if by_code & self.episodic_sets:
            clauses = [c.strip() for c in _CLAUSES.split(lowered) if c.strip()]
            for i, clause in enumerate(clauses):
                # the event named in the clause, or by a bare label before it ("Haemoptysis - nil ongoing")
                named = about.search(clause) or (i > 0 and about.search(clauses[i - 1]) and len(clauses[i - 1].split()) <= 2
                                                 and not self.negation_words & set(clauses[i - 1].split())
                                                 and not self.any_finding_word.search(clause))
                if named and self.episode_over.search(clause):
                    return True  # an event said to be over happened: "settled since yesterday"; not "no new symptoms"
        since = re.search(r"\bsince\b(.*)", lowered)
        if since and by_code & self.episodic_sets and self.recent.search(since.group(1)) and about.search(lowered):
            return True  # "Nil haemoptysis since Tuesday": an event dates the watch that followed it (r28 review)
        return bool(since and about.search(since.group(1)) and self.absent_start.match(lowered))

    def _recurs(self, clause: str, start: int = 0) -> bool:
        """A recurrence word not itself denied ('recurred this morning'; not 'not recurred', 'no recurrence',
        'hasn't returned': r26 review)."""
        return any(not self._denied_before(clause, m.start()) for m in self.recurrence.finditer(clause, start))

    def _denied_before(self, clause: str, position: int) -> bool:
        """A negation word among the two words before `position` ("not recurred", "hasn't returned")."""
        return bool(self.negation_words & set(clause[:position].split()[-2:]))

    def _answer_part(self, text: str | None) -> str | None:
        """The answer in a text: without a leading "label:" or "label?" of up to three words (the question),
        or a leading subject or reporting word ("Patient not breathless", "Pt states no SOB"). A question
        naming a normal function stays, as the answer is about it ("Sensation: absent")."""
        if not text:
            return text
        # "Syncope resolved? No", "Syncope: resolved? No": not resolved, the finding is there (r25 review)
        asked = _RESOLVED_ASKED.search(text.lower())
        if asked and (asked.group(1) in self.resolved_words or asked.group(1) in self.course_asked) \
                and (asked.group(2).strip() in self.absent_words or asked.group(2).strip() in self.course_denied):
            # "SOB gone? no" is "SOB not gone": the finding, in its own words when it named them (r26 review)
            return " ".join(f"{text.lower()[:asked.start(1)].strip(' :-')} not {asked.group(1)}".split())
        bracketed = _BRACKETED_ANSWER.match(text)  # "SOB (no)"; not "No SOB (hx asthma)", a note (r26 review)
        if bracketed and self._is_answer_word(bracketed.group(2).strip().lower()):
            text = f"{bracketed.group(1)}: {bracketed.group(2)}"
        for mark in (":", "?", "=", " - ", " – ", " -- ", " — ", " | ", "/"):
            question, _, answer = text.partition(mark)
            about_function = bool(self.function.search(question))  # "Able to move toes: no"
            # "SOB - no", "SOB = no", "SOB/no": after these marks only an answer word is an answer ("Denies SOB/CP"
            # is a list of findings).
            reply = answer.strip().lower()
            # "?LOC - witness says no": a question asked with a leading "?" is answered by what follows it
            short = mark in (":", "?") or question.strip().startswith("?") or (reply in self.absent_words or reply in self.unknown_words
                                           or reply in _YES or bool(self.absent_start.match(reply)))
            if mark == "/" and (_NUMBER.search(question[-3:]) or _NUMBER.match(answer.strip())):
                continue  # "3/10", "5/5", "1/2": a score, not a question
            if answer.strip() and question.strip() and short and len(question.split()) <= (6 if about_function else 3):
                text = f"{question.strip()} {answer.strip()}" if about_function else answer.strip()
                break
        if self.answer_lead is not None:
            text = self.answer_lead.sub("", text).strip() or text
        return text

    def _affirms(self, observation, text: str | None, text_only: bool, by_value: frozenset[str],
                 about: re.Pattern | None = None) -> bool:
        """A finding's answer that says it is there. Recognised absent and unknown answers were set aside
        before this; what is left and not recognised here counts too (fail-safe), shown as written."""
        if observation.valueBoolean is True:
            return True
        number = observation.valueInteger if observation.valueInteger is not None else (
            observation.valueQuantity.value if observation.valueQuantity is not None else None)
        if number is not None:
            return number > 0  # a score or a count: 0 is none
        concept = observation.valueCodeableConcept
        if concept is not None and not text_only:
            if by_value or any((c.system, c.code) in self.present_answers for c in concept.coding or ()):
                return True
            # A code outside every list (a local flowsheet's "Yes" or "Unable to assess"): read by its text.
            words = self._answer_part(_whole_value(_concept_text(concept)))
            if words is None or words == "":
                return True  # nothing to read it by: it still names an answer to this finding (fail-safe)
            return not self._not_the_finding(words, about)
        if text is not None:
            lead = _LEADING_NUMBER.match(text)
            if lead and not (text in self.present_words):
                return Decimal(lead.group(1)) > 0  # "0", "0/10" absent; "3/10", "2 cm" there
            return True  # recognised as affirmative, or not recognised at all: the fail-safe reading
        # No value[x] we read: the Observation records the finding itself (or a range, a time of onset).
        return True

    def _words_of(self, by_code: frozenset[str]) -> re.Pattern | None:
        """The words of the finding an Observation of these value sets asks about (catalogue findingWords)."""
        if by_code not in self._own_words:
            stems = [s for g in self.finding_words if g.value_sets & by_code for s in g.stems]
            self._own_words[by_code] = _stems(stems) if stems else None
        return self._own_words[by_code]

    def _about_another(self, part: str, about: re.Pattern | None) -> bool:
        """A row or clause naming another finding's words and none of this one's (catalogue findingWords)."""
        return about is not None and not about.search(part) and bool(self.any_finding_word.search(part))

    def _not_the_finding(self, text: str, about: re.Pattern | None = None,
                         set_aside: frozenset[str] = NOTHING) -> bool | None:
        """A text answer recognised as absent or unknown: every clause unknown ("Unable to assess - sedated"),
        or every clause absent with no contrast or course word ("No SOB. No chest pain"; not "Not able to
        complete sentences", "No SOB at rest but breathless on exertion")."""
        if text in self.absent_words or text in self.unknown_words:
            return True
        # A flowsheet row list ("SOB: no; chest pain: no | haemoptysis: nil"): each row's answer, its label dropped;
        # a row about another finding is not this one's answer ("SOB: no. Calf pain: yes"), unless it states a red flag.
        rows, other_red_flag, all_rows = [], False, [r.strip() for r in _ROWS.split(text) if r.strip()]
        for row in all_rows:
            if len(all_rows) > 1 and self._about_another(row, about):
                answer = self._answer_part(row) or row
                polarity = self._function_clause(answer.lower())
                if polarity is True:
                    return False  # "SOB: no. Sats 88% RA": a measured finding beside the answer is never set aside
                other_red_flag |= bool(self.red_flag_word.search(row)) and polarity is None and not self._absent_clause(
                    answer) and row not in set_aside  # read as that finding's own answer (_red_flags_beside)
                continue
            rows.append(self._answer_part(row))
        if other_red_flag:
            return None  # "SOB: no. Haemoptysis: yes": a red flag stated beside this answer is never set aside
        if not rows:
            return None  # it answers another finding only: not known for this one (counted, marked)
        # One comma list ("Denies SOB, CP, haemoptysis") is a row; "No chest pain; gasping" is two.
        list_like = len(all_rows) <= 1
        if len(rows) < len(all_rows) or not list_like:
            text = ", ".join(row for row in rows if row)
        clauses = [c.strip() for c in _CLAUSES.split(text) if c.strip()]
        if not clauses:
            return False
        if all(self._historical(c) for c in clauses):
            return True  # only a history ("Hx of vasovagal syncope", "Syncope 2 yrs ago"): not the finding now
        # A normal function, negated or not, decides its clause (catalogue absentAnswers $functionComment).
        read = [(clause, self._function_clause(clause)) for clause in clauses]
        if any(polarity is True for _, polarity in read):
            return False
        # A normal-function word inside this finding's own words does not make it normal ("Pink spit with clots"
        # on a haemoptysis Observation; r22 review); a measured value still decides ("Sats 98% on air").
        read = [(clause, None if polarity is False and not _NUMBER.search(clause)
                 and self._names_own(self.function.sub(" ", clause), about) else polarity) for clause, polarity in read]
        normal = any(polarity is False for _, polarity in read)
        clauses = [clause for clause, polarity in read if polarity is None]
        # A clause about another finding is not this one's answer ("No effusion, mild warmth"), unless it states a
        # red flag ("No SOB, coughing blood").
        mine = [c for c in clauses if not self._about_another(c, about)]
        governed = list_like and bool(clauses) and self._absent_clause(clauses[0])  # "Denies SOB, CP or cough"
        if any(self.red_flag_word.search(c) and not self._absent_clause(c) and not (governed and self._bare_list(c))
               for c in clauses if c not in mine and c not in set_aside):
            return None
        if clauses and not mine:
            return True if normal else None
        clauses = mine
        if not clauses:
            return True
        # This finding negated by its own words, beside clauses that name no finding at all, is absent: they are
        # the negation's context ("Fell to the floor, no LOC"; "Dizzy on standing, did not pass out").
        if about is not None and any(about.search(c) and self._absent_here(c, about) for c in clauses) and all(
                (about.search(c) and self._absent_here(c, about)) or self._context(c)
                or (self._absent_clause(c) and not self.any_finding_word.search(c)) for c in clauses):
            return True
        # ("Collapsed at home in 2019" after "No syncope" is its history: r27 review)
        if any(self.present_phrase.search(c) and not self._historical(c) for c in _CLAUSES.split(text)):
            return False  # "came to on the floor" states the finding wherever it stands
        text = ", ".join(clauses)
        first, rest = clauses[0], clauses[1:]
        # What follows the answer may explain it ("Unknown - pt confused", "Nil SOB. Mobilising well"); a clause
        # naming the finding or its course afterwards is an answer of its own ("No chest pain. SOB on exertion").
        # A later clause in this finding's own words states it now, unless it is its history ("SOB: no.
        # Breathless last year only") or negated ("No, hasn't had any SOB") (r22, r23 reviews).
        explained = all((self._absent_here(c, about) or self._historical(c)
                         or not (self._names_presence(c) or self._names_own(c, about)))
                        and not (self._recurs(c) and not self._absent_here(c, about))
                        and not self._earlier_then(c)
                        for c in rest if not _TIMING.match(c))
        # A later clause with a finding's word ("No seizure activity, brief LOC"; "No redness, large effusion")
        # may state the finding or continue the negated list ("Denies SOB, CP, haemoptysis"): not known, so
        # counted (no red flag hidden) and marked as not interpreted (never critical on its own).
        doubtful = any(not self._absent_here(c, about) and any(self.finding_noun.fullmatch(w) for w in c.split())
                       and not self._historical(c) and not (list_like and self._bare_list(c)) for c in rest)
        if (self.unknown_start.match(first) or first in self.unknown_words) and explained:
            return None if doubtful else True
        # History first, denied now ("Prior syncope, none recently"): the denial is the answer (r24 review).
        denied_after_history = (self._historical(first) and (self._names_own(first, about) or len(first.split()) <= 2)
                                and any(self._absent_here(c, about) for c in rest))
        if not ((self._absent_here(first, about) or denied_after_history) and explained):
            # "denys SOB": a denial misspelt, perhaps: not known, so counted and marked (catalogue nearDenials)
            return None if self._near_denial(first) and self._names_own(first, about) else False
        # A contrast or course word after the negation keeps the finding: "Not resolved", "No sensation"; the
        # start word itself ("Resolved 2 days ago", "Sensation normal") is not one.
        start = self.absent_start.match(first)
        # Only in the negated clause itself: a course word in a later one ("No chest pain, feels better")
        # does not undo it; a finding named there was caught above.
        if self._contrast(first, start.end() if start else 0):
            return False
        return None if doubtful else True

    def _near_denial(self, clause: str) -> bool:
        """The clause opens with a word spelt close to a denial verb that is no start word itself."""
        word = clause.split()[0] if clause.split() else ""
        return (len(word) >= 4 and word not in self.near_denials and not self.absent_start.match(clause)
                and bool(difflib.get_close_matches(word, self.near_denials, n=1, cutoff=0.7)))

    def _shown_answer(self, text: str, by_code: frozenset[str], code=None,
                      set_aside: frozenset[str] = NOTHING) -> tuple[str, bool]:
        """A finding's text answer as the card shows it, and whether the reader counted it only because it
        could not read it (the fail-safe): then it is marked, so the clinician asks rather than takes it as
        the finding, and it cannot make a card critical on its own (engine)."""
        if by_code <= self.measurements.keys():
            return text, False
        about = self._words_of(by_code)
        answer = self._answer_part(_without_queries(_whole_value(text), about, self.answer_words)) or ""
        words = set(_WORDS.findall(answer))
        clauses = [c.strip() for c in _CLAUSES.split(answer) if c.strip()]
        display = {w for w in _WORDS.findall((_concept_text(code) or "").lower()) if len(w) > 3}
        if self._episode_stated(_whole_value(text) or "", by_code, about):
            return text, False  # "One episode this am": an episode stated is the finding, read, not guessed
        if self._not_the_finding(answer, about, set_aside) is None or _ASKED.search(answer):
            # "LOC ?", "Syncope?": the finding asked about, not stated (r27 review)
            return f"“{text}” (answer not interpreted: ask now)", True
        if self.absent_start.match(answer):
            return text, False  # a negation read as the finding: the reader found what it negates ("No better")
        if (answer in self.present_words or words & self.present_words or _LEADING_NUMBER.match(answer)
                or self.present_phrase.search(answer) or self.finding_stem.search(answer) or words & display
                or self._names_own(answer, about)
                or any(self._function_clause(c) is not None for c in clauses)):
            return text, False
        return f"“{text}” (answer not interpreted: ask now)", True

    def _function_clause(self, clause: str) -> bool | None:
        """True: the clause states the finding (a normal function negated, or measured outside normal);
        False: its absence (a normal function stated); None: it names no normal function."""
        fio2 = _FIO2.search(clause)
        if fio2:  # "FiO2 0.21" is air; more is oxygen given
            value = Decimal(fio2.group(1))
            return value > (21 if fio2.group(2) or value > 1 else Decimal("0.21"))
        numbers = _NUMBER.findall(clause)
        if _SATS.search(clause) and _OXYGEN.search(clause) and not _ROOM_AIR.search(clause):
            return True  # a saturation on supplemental oxygen is an oxygen need, whatever its number (r18 review)
        if numbers and not _POWER.search(clause):
            grade = _PULSE_GRADE.search(clause)
            if grade and _PULSE.search(clause):
                return int(grade.group(1)) < 2  # 0 absent, 1+ diminished, 2+ normal
            if _REFILL.search(clause):
                return _slow_refill(clause)
            if _SATS.search(clause):
                return Decimal(numbers[0]) < 95
            if _RATE.search(clause):
                return Decimal(numbers[0]) > 20
            return None  # a number the reader cannot place
        if not self.function.search(clause):
            return None
        if _NEGATED_LOSS.search(clause):
            return False  # "no memory loss", "no sensory deficit": the loss is what is negated
        # The negation must govern the function: just before it ("no sensation", "not managing full
        # sentences") or after it ("sensation absent", "CRT prolonged"); not "No SOB after mobilising".
        for match in self.function.finditer(clause):
            before = clause[:match.start()].split()[-4:]
            for index, word in enumerate(before):
                # governed unless a finding stands between ("No SOB after mobilising": the "no" is SOB's)
                if self.function_negation.fullmatch(word) and not any(
                        w in self.present_words for w in before[index + 1:]):
                    return True
            if self.function_negation.search(clause, match.end()):
                return True
        return False

    def _absent_here(self, clause: str, about: re.Pattern | None) -> bool:
        """Absent as a clause, or this finding's own words just after a negation ("Knee has never swollen")."""
        if self._absent_clause(clause):
            return True
        if about is None or self.intensifier.match(clause):
            return False
        for match in about.finditer(clause):
            if any(word in self.negation_words for word in clause[:match.start()].split()[-3:]) \
                    and not self._contrast(clause, match.end()):  # not "... until today"
                return True
            after = clause[match.end():].split()[:4]
            for index, word in enumerate(after):  # "Breathlessness resolved 2 weeks ago"; not "not resolved"
                if word in self.resolved_words and not any(w in self.negation_words for w in after[:index]) \
                        and not self._recurs(clause, match.end()):  # not "resolved then recurred"
                    return True
        return False

    def _contrast(self, clause: str, after: int) -> bool:
        """A contrast or course word after `after` ("... until today", "Not resolved"), once the words that say a
        denial still holds are taken off its end ("No SOB until now", "No haemoptysis as yet": r25 review)."""
        clause = self.continuing.sub("", clause)
        # A recurrence word under its own negation is no contrast: "settled, not recurred" (r26 review)
        return any(not (self.recurrence.fullmatch(m.group(0)) and self._denied_before(clause, m.start()))
                   for m in self.absent_contrast.finditer(clause, after))

    def _historical(self, clause: str) -> bool:
        return _historical(clause, self.history, self.recent, self.changed, self._now.year, self.finding_days)

    def _earlier_then(self, clause: str) -> bool:
        """ "Not breathless now - was earlier today": a later clause saying it was there within the presentation."""
        words = clause.split()
        return bool(words) and words[0] in ("was", "were", "had", "did", "but") and bool(self.recent.search(clause)) \
            and not self.negation_words & set(words)

    @staticmethod
    def _names_own(clause: str, about: re.Pattern | None) -> bool:
        """The clause names this Observation's finding in its own words ("No injury. Passed out in the shower")."""
        return about is not None and bool(about.search(clause))

    def _bare_list(self, clause: str) -> bool:
        """Only findings' words and list joiners, up to six words: a negated list goes on ("Denies SOB, CP or
        cough", "chest pain and haemoptysis", "coughing up blood or blackouts": r27 review)."""
        words = list(re.finditer(r"\S+", clause))
        if not words or len(words) > 6:
            return False
        covered = [False] * len(words)
        for match in self.any_finding_word.finditer(clause):  # a finding's words, each to the end of its word
            for i, word in enumerate(words):
                if word.start() < match.end() and word.end() > match.start():
                    covered[i] = True
        named = False
        for word, inside in zip(words, covered):
            text = word.group(0).strip(",.;")
            if inside or self.finding_noun.fullmatch(text):
                named = True
            elif text not in _LIST_JOINERS:
                return False
        return named

    def _context(self, clause: str) -> bool:
        """A clause that names no finding, no present word, no normal function and no number."""
        return not (self.any_finding_word.search(clause) or self.finding_noun.search(clause) or self._earlier_then(clause)
                    or self._recurs(clause)
                    or any(word in self.present_words for word in _WORDS.findall(clause))
                    or self.function.search(clause) or _NUMBER.search(clause))

    def _names_presence(self, clause: str) -> bool:
        number = _LEADING_NUMBER.match(clause)
        return any(word in self.present_words for word in _WORDS.findall(clause)) or bool(
            number and Decimal(number.group(1)) > 0)

    def _absent_clause(self, clause: str) -> bool:
        if self.intensifier.match(clause):
            return False  # "Never been this breathless": the finding, worse than ever
        start = self.absent_start.match(clause)
        if start and self._contrast(clause, start.end()):
            return False  # "Wasn't breathless until today", "Not resolved": the finding is there
        if clause in self.absent_words or start or self.unknown_start.match(clause):
            return True
        words = clause.split()
        if len(words) <= 5 and (self.absent_tail.search(clause) or _PAIN_FREE.search(clause)):
            return True  # "Effusion not present", "Patellar tap negative", "Chest pain free since admission"
        # "Chest clear", "Lying flat comfortably"; not "Knee not dry"
        return len(words) <= 4 and words[-1] in self.normal_end and not self.function_negation.search(clause)

    def observation(self, observation, relevant: Memberships) -> list[Fact]:
        facts = self._observation(observation, relevant)
        if facts and observation.status in self.hygiene["pendingResultStatus"]:
            # Not scored (KB §8.6: only final, amended, corrected), but never silent: a monitor's SpO₂ 84 %
            # posted as preliminary is shown as pending (ClinicalEngine._pending; r31 review S4).
            facts = [replace(f, pending=True, evidence=replace(f.evidence, status=observation.status)) for f in facts]
        return facts

    def _observation(self, observation, relevant: Memberships) -> list[Fact]:
        """The Observation as a fact, and each component that is a measurement as a fact of its own (the
        vital-signs panel 85353-1 and the blood-pressure panel 85354-9 carry their values there)."""
        by_code, by_value = relevant.by_code, relevant.by_value
        if by_code & IMAGING:
            if observation.status in self.hygiene["withdrawnResultStatus"]:
                return []  # a study cancelled or entered in error is no study
            return [self._imaging_observation(observation, by_code)]
        measured = bool(by_code) and by_code <= self.measurements.keys()
        when = observation_time(observation)
        status = observation.status if isinstance(observation.status, str) else None
        final = status in self.hygiene["resultStatus"]
        answer = self._answer_text(observation)
        beside = [] if measured else self._red_flags_beside(answer, by_code)
        elsewhere = [self._beside_fact(observation, answer, value_sets, finding, when, final) if not doubt else
                     self._doubt_fact(observation, piece, value_sets, when, final)
                     for value_sets, finding, piece, doubt in beside if value_sets]
        set_aside = frozenset(piece for _, _, piece, _ in beside)
        sign_row = bool(by_code & ISCHAEMIC_SIGNS)
        signs = self._ischaemic_signs(answer) if sign_row else NOTHING
        if not by_code and not by_value:
            # A panel of findings (a review of systems): each coded component is a finding of its own
            return [f for component in observation.component or ()
                    for f in self._component(observation, component, when, final)]
        if by_code & LEG_PAIN_ROWS:
            # "L calf swollen and tender" on a knee-pain row: DVT features in the nurse's words (legDvtWords)
            stated = self._dvt_stated(answer, by_code)
            if stated:  # one entry, as the nurse wrote it: "(read as leg swelling and calf tenderness)"
                kinds, name = stated
                elsewhere = elsewhere + [self._beside_fact(
                    observation, answer, kinds | (by_code & PLACES), name, when, final)]
        if KNEE_PAIN in by_code:
            # "R knee swollen, hot": a hot swollen knee, read as an effusion (catalogue hotJointWords), with
            # the kinds it states (a hot knee without markers is the septic-arthritis warning: r30 S8) -
            # whatever the pain's own answer ("Hot swollen R knee, ankle ok": r34b S5)
            elsewhere = elsewhere + self._knee_in_words(observation, answer, by_code, when, final)
        # a pregnancy status's text was read when its relevance was (Relevance._pregnancy_in_text)
        pregnancy_read = PREGNANCY_STATUS in by_code and bool(by_value & {PREGNANCY, POSTPARTUM})
        if not signs and not pregnancy_read and self._is_absent(
                observation, measured=measured, by_value=by_value, by_code=by_code, set_aside=set_aside):
            return elsewhere + self._red_flags_in_notes(observation, by_code, when, final)
        if not sign_row and by_code & LEG_PAIN_ROWS:
            signs = self._ischaemic_signs(answer)  # only once the pain itself is affirmed
        facts = [f for component in observation.component or ()
                 for f in self._component(observation, component, when, final)]
        # "95% on 15L NRB": the saturation's own text, and the oxygen it was taken on
        written = _written_value(observation)
        on_oxygen = oxygen_after_saturation(written) if OXYGEN_SATURATION in by_code else None
        measured_text = on_oxygen[0] if on_oxygen else written
        if by_code & BLOOD_PRESSURE and observation.valueQuantity is None and systolic_in_text(measured_text):
            by_code = by_code | {SYSTOLIC}  # "85/50" on a blood-pressure panel: its systolic pressure, read
        panel = (observation.valueQuantity is None and by_value == NOTHING and by_code <= self.measurements.keys()
                 and self._text_quantity(measured_text, "", by_code) is None)
        if (by_code or by_value) and not panel:
            fact = self._observation_fact(observation, by_code, by_value, when, final, set_aside, measured_text)
            if KNEE_EFFUSION in by_code:
                fact = self._hot_effusion(fact, answer)
            if pregnancy_read:
                fact = self._pregnancy_status(fact, observation, relevant)
            facts.insert(0, replace(fact, signs=signs, uninterpreted=fact.uninterpreted and not signs) if signs else fact)
        if on_oxygen and on_oxygen[1] > 0:
            # "95% on 15L NRB": the oxygen the saturation was taken on is an oxygen need of its own (r29 review)
            facts.append(Fact("Observation", frozenset({OXYGEN_FLOW}), when, final,
                              self._evidence("Observation", observation, observation.code, when,
                                             value=observation.valueString.strip()),
                              quantity=(on_oxygen[1], "L/min")))
        return facts + elsewhere + self._red_flags_in_notes(observation, by_code, when, final)

    def _knee_in_words(self, observation, answer: str | None, by_code: frozenset[str], when, final: bool) -> list[Fact]:
        """What a knee-pain row's words state of the knee beyond its pain: a hot or swollen knee (an effusion,
        with its kinds), pus from it (its wound's drainage: catalogue kneeDrainageWords, r34b S11)."""
        found = []
        joint = self._hot_joint(answer)
        if joint:
            found.append(replace(self._beside_fact(
                observation, answer, frozenset({KNEE_EFFUSION}) | (by_code & PLACES), "a hot or swollen knee",
                when, final), joint=joint))
        if self._drained(answer):
            found.append(self._beside_fact(observation, answer, frozenset({DRAINAGE, LOWER_LIMB}) | (by_code & PLACES),
                                           "pus from the knee", when, final))
        return found

    @staticmethod
    def _pregnancy_status(fact: Fact, observation, relevant: Memberships) -> Fact:
        """A pregnancy status as its text was read: postpartum, pregnant, or an answer no word list places,
        counted as pregnant and marked to be asked (r34b S6), never a finding's answer read by its words."""
        written = _concept_text(observation.valueCodeableConcept) or observation.valueString
        if not isinstance(written, str) or observation.valueCodeableConcept is not None and observation.valueCodeableConcept.coding:
            return fact
        shown = " ".join(written.split())
        value = (f"“{shown}” (answer not interpreted: ask now)" if relevant.uninterpreted
                 else f"“{shown}” (read as postpartum)" if POSTPARTUM in relevant.by_value else shown)
        return replace(fact, uninterpreted=relevant.uninterpreted, evidence=replace(fact.evidence, value=value))

    def _hot_effusion(self, fact: Fact, text: str | None) -> Fact:
        """An effusion entry whose own words say it is hot ("R knee effusion, hot and red"; an effusion row
        "Large, hot, red"): a hot swollen knee, the effusion its swelling (r34b S5)."""
        joint = self._hot_joint(text)
        if "hot" not in joint:
            return fact
        return replace(fact, joint=joint | {"swollen"}, uninterpreted=False, evidence=replace(
            fact.evidence, value=f"“{' '.join(text.split())}” (read as a hot swollen knee)"))

    def _hot_joint(self, text: str | None) -> frozenset[str]:
        """The kinds (catalogue hotJointWords: swollen, hot) of the clauses naming a swollen or hot joint that
        are neither a denial, a question nor a history, nor about another part of the body, a thing, advice or
        a relative (catalogue hotJointNotWith); empty when none does."""
        found = set()
        # lower case, as every other reader: "Hot swollen R knee" is the commonest form (r33 S1); a bruise's
        # red is not a hot joint's (r36a 080)
        text = _without_queries(self._without_bruise_colours((text or "").lower()), _NEVER, self.answer_words)
        for clause in (c.strip() for c in _CLAUSES.split(text or "") if c.strip() and "?" not in c):
            for kind, words in self.hot_joint_words.items():
                if words.search(clause) and not self._historical(clause) and not self.not_the_knee.search(clause) and not (
                        self._absent_here(clause, words) or self.negation_words & set(clause.split()[:3])) \
                        and any(self._of_the_knee(clause, m.start(), m.end()) for m in words.finditer(clause)):
                    found.add(kind)
        return frozenset(found)

    def _of_the_knee(self, clause: str, start: int, end: int) -> bool:
        """Whether the words at start:end qualify the knee: the body part nearest to them is the knee, or a
        list of parts that holds it ("R knee and ankle hot"), or the clause names no other part (the row's
        own knee). "Knee pain with swollen calf": the calf's (catalogue $hotJointComment, r34b S5)."""
        groups: list[list] = []  # [start, end, names the knee]
        for part in self.part.finditer(clause):
            between = clause[groups[-1][1]:part.start()] if groups else ""
            if groups and all(w in _LIST_JOINERS or w in _SIDE_WORDS for w in _WORDS.findall(between) or ["and"]) \
                    and not re.search(r"[^\w\s&/+]", between):
                groups[-1][1] = part.end()
                groups[-1][2] = groups[-1][2] or part.group("knee") is not None
            else:
                groups.append([part.start(), part.end(), part.group("knee") is not None])
        if not any(not knee for _, _, knee in groups):
            return True
        # nearest by characters; a tie goes to the knee (the cautious reading)
        nearest = min(groups, key=lambda g: (max(g[0] - end, start - g[1], 0), not g[2]))
        return nearest[2]

    def _drained(self, text: str | None) -> bool:
        """A clause naming pus or a sinus tract of this knee that is neither a denial, a question nor a history,
        nor advice, a thing or a relative (catalogue kneeDrainageWords, hotJointNotWith; r34b S11)."""
        text = _without_queries((text or "").lower(), _NEVER, self.answer_words)
        words = self.knee_drainage
        return any(words.search(clause) and not self._historical(clause) and not self.not_the_knee.search(clause)
                   and not (self._absent_here(clause, words) or self.negation_words & set(clause.split()[:3]))
                   and any(self._of_the_knee(clause, m.start(), m.end()) for m in words.finditer(clause))
                   for clause in (c.strip() for c in _CLAUSES.split(text or "") if c.strip() and "?" not in c))

    def _dvt_stated(self, text: str | None, memberships: frozenset[str]) -> tuple[frozenset[str], str] | None:
        """The DVT features a text states beyond the entry's own codes, and how the card names them ("leg
        swelling and calf tenderness"), or None."""
        stated = sorted(self._dvt_features_in_words(text) - memberships, key=list(DVT_FEATURE_NAMES).index)
        return (frozenset(stated), " and ".join(DVT_FEATURE_NAMES[kind] for kind in stated)) if stated else None

    def _dvt_features_in_words(self, text: str | None) -> frozenset[str]:
        """The leg DVT features (leg-swelling, calf-pain) a clause states of the calf or leg that is neither a
        denial, a question nor a history, nor about both legs, another limb, advice or a relative (catalogue
        legDvtWords, legDvtNotWith)."""
        found = set()
        text = _without_queries(text, _NEVER, self.answer_words)  # "L calf swollen ?DVT": its cause queried
        for row in _ROWS.split((text or "").lower()):
            # The calf or leg a clause names is the subject of the clauses after it in its sentence that name no
            # part of their own ("L calf non-tender, swollen"); a negation opening a list governs its bare
            # clauses ("not red, swollen, tender") up to a contrast word (r34b S4)
            subject = ""
            for part in _CONTRAST_SPLIT.split(row):
                governed = False
                for clause in (c.strip() for c in _CLAUSES.split(part) if c.strip()):
                    if "?" in clause:
                        continue
                    own = self.leg_dvt_denied.sub(" ", clause)  # "non-tender": a denial of its own feature only
                    if self.leg_places.search(clause):
                        subject = clause
                    elif self.part.search(clause):
                        subject = ""  # "Calves SNT, L knee swollen": the knee's
                    negated = bool(self.negation_words & set(own.split()[:3]))
                    if negated or not (governed and self._leg_list(clause)):
                        governed = negated
                    else:
                        continue  # "No calf swelling, tenderness or redness": still the denial's
                    placed = clause if clause is subject else f"{subject} {own}" if subject else ""
                    if not placed or self._historical(clause) or self.not_this_leg.search(placed):
                        continue
                    for kind, (places, words) in self.leg_dvt_words.items():
                        if places.search(placed) and words.search(own) and not (self._absent_here(own, words) or negated):
                            found.add(kind)
        return frozenset(found)

    def _leg_list(self, clause: str) -> bool:
        """Only leg features, places, redness and list joiners: a clause a negation before it still governs."""
        rest = self.leg_list_word.sub(" ", clause)
        return rest != clause and all(w in _LIST_JOINERS for w in rest.split())

    def _without_bruise_colours(self, text: str) -> str:
        """The text with a bruise's colour words blanked (catalogue bruiseWords, bruiseColourWords; r36a 080): a
        colour in a bruise word's clause with no body part between them ('bruised red-purple'), or in a later
        clause of its sentence that names no part of its own ('R knee bruised, red-purple'). 'Knee bruised,
        foot purple' keeps the foot's colour."""
        if not self.bruise.search(text):
            return text
        rows = []
        for row in re.split(r"(%s)" % _ROWS.pattern, text):
            pieces, bruised = [], False
            for piece in re.split(r"(%s)" % _CLAUSES.pattern, row or ""):
                marks = [m.start() for m in self.bruise.finditer(piece or "")]
                parts = [m.start() for m in self.part.finditer(piece or "")] + [
                    m.start() for m in self.lower_limb.finditer(piece or "")]
                if marks:
                    bruised = True
                elif parts:
                    bruised = False
                if bruised and piece:
                    piece = self.bruise_colour.sub(
                        lambda m, marks=marks, parts=parts: " " * len(m.group(0))
                        if self._bruise_colour(m.start(), marks, parts) else m.group(0), piece)
                pieces.append(piece or "")
            rows.append("".join(pieces))
        return "".join(rows)

    @staticmethod
    def _bruise_colour(at: int, marks: list[int], parts: list[int]) -> bool:
        """The colour at `at` is a bruise's: no body part between it and the nearest bruise word of its clause,
        or, in a clause with no bruise word (a later one of the sentence), no body part in the clause at all."""
        if not marks:
            return not parts
        return any(not any(min(b, at) < p < max(b, at) for p in parts) for b in marks)

    def _ischaemic_signs(self, text: str | None) -> frozenset[str]:
        """The Ps of limb ischaemia the entry's text states, each clause read on its own (catalogue
        ischaemicSigns): 'R foot cold, pale, no pulses palpable' names three; a bruise's colour is none."""
        found = set()
        text = self._without_bruise_colours((text or "").lower())
        # Advice, a condition or a relative: what follows it in its sentence is no sign now ("advised to return
        # if foot goes cold or numb": catalogue ischaemicSignsNotAfter, r34b F1)
        text = ". ".join(row[:cut.start()] if (cut := self.signs_not_after.search(row)) else row
                         for row in _ROWS.split((text or "").lower()))
        # A pulse stated lost, read on the sentence: its label and answer may sit either side of a ':' or '?'
        if any(self.pulse_lost.search(s) and not self._historical(s) for s in _ROWS.split(text or "")):
            found.add("pulseless")
        for clause in (c.strip() for c in _CLAUSES.split(text or "") if c.strip()):
            if _slow_refill(clause) and not self._historical(clause):
                found.add("pallor")  # "CRT 5 sec": the skin's perfusion (catalogue "$ischaemicSignsComment")
            for kind, words in self.ischaemic_sign_words.items():
                if kind == "motor" and _PULSE.search(clause):
                    continue  # "PT weak": a weak pulse
                sign = words.search(clause)
                # a sign worded as a loss ("no feeling in toes", "no sensation below ankle") is no denial of it
                as_loss = kind == "pulseless" or (sign is not None and sign.group(0).split()[0] in self.negation_words
                                                  and not self.loss_not_before.match(clause, sign.end()))
                if sign and not self._historical(clause) and (as_loss or not (
                        self._absent_here(clause, words) or self.negation_words & set(clause.split()[:3]))):
                    found.add(kind)
        return frozenset(found)

    def _red_flags_beside(self, text: str | None, by_code: frozenset[str]) -> list[tuple[frozenset[str] | None, str, str, bool]]:
        """Red-flag findings stated in their own words in a row or clause about another finding than this
        Observation's ('Denies SOB. Pleuritic chest pain since this morning' on a dyspnoea Observation), each
        read as that finding's own answer: present (its value sets, its name, the piece, False) or absent (None,
        ..., the piece, False: 'No SOB. Fainted in 2019, nothing since'); either way the piece is no longer this
        answer's doubt. A piece its reading cannot place is that finding's doubt (its value sets, ..., True):
        counted as it, marked not interpreted, and the card asks about it, not about the finding denied (r34b
        S12: 'Ask about breathlessness now' on 'No SOB, chest pain at rest'). A history ('Chest pain last year')
        is placed; a question ('No SOB. ?chest pain') or one of the group's notBeside words ('Chest wall
        tender') stays in the answer (r24, r25 reviews)."""
        about = self._words_of(by_code)
        written, text = text or "", self._answer_part(text)
        if about is None or not text:
            return []
        all_rows = [r.strip() for r in _ROWS.split(text) if r.strip()]
        pieces = []  # (as _not_the_finding sees it, its answer)
        doubted: set[str] = set()  # clauses a negation before them may govern: only a denial of their own places them
        for row in all_rows:
            if len(all_rows) > 1 and self._about_another(row, about):
                answer = self._answer_part(row) or row
                if self._function_clause(answer.lower()) is None:
                    pieces.append((row, answer))
                continue
            answer = self._answer_part(row) if len(all_rows) > 1 else row
            clauses = [c.strip() for c in _CLAUSES.split(answer or "") if c.strip()]
            if len(all_rows) <= 1 and clauses and self._absent_clause(clauses[0]):
                # One negated list ("No SOB, chest pain or haemoptysis"): the negation governs its comma clauses
                # of bare findings; what a contrast word sets apart is a statement of its own ("No SOB, but coughed
                # blood"), and so is a clause with a positive mark, an onset or a recent time anywhere in it
                # ("No SOB, chest pain ++", "nil SOB, CP ++ on inspiration", "No SOB, pleuritic chest pain since
                # this am": r27, r34b S12; catalogue listStatementWords). Any other clause the negation may or may
                # not govern ("No SOB, chest pain at rest") is its own finding's doubt, unless it denies itself.
                contrasted = _CONTRAST_SPLIT.split(answer, maxsplit=1)
                after = [c.strip() for c in _CLAUSES.split(contrasted[1]) if c.strip()] if len(contrasted) > 1 else []
                rest = [c for c in clauses[1:] if c not in after and (self._stated_now(c) or not self._bare_list(c))]
                doubted.update(c for c in rest if not self._stated_now(c))
                clauses = after + rest
            pieces += [(c, c) for c in clauses if self._about_another(c, about) and self._function_clause(c) is None]
        found = []
        for piece, answer in pieces:
            lowered = answer.lower()
            if re.search(r"(?:\?|\bquery\b|\bq\b|\bpossible\b)\s*" + re.escape(piece.lower()), written) \
                    or "?" in piece or self.unknown_start.match(lowered):
                continue  # "No SOB. ?chest pain": a question, still this answer's (a queried differential: _without_queries)
            if self._historical(lowered):
                found.append((None, "history", piece, False))  # "No SOB. Chest pain last year": not a finding now
                continue
            for group, sets, words in self.red_flag_groups:
                if not words.search(piece.lower()):
                    continue
                if any(w in group.not_beside for w in _WORDS.findall(lowered)):
                    break
                # "CP ++", "CP +ve (pleuritic)": a positive mark after the finding states it (r27 review)
                reading = False if _POSITIVE_TAIL.search(lowered) or _POSITIVE_MARK.search(lowered) \
                    else self._not_the_finding(lowered, self._words_of(sets))
                if reading is not None and not (piece in doubted and not reading):
                    found.append((None if reading else sets, group.finding, piece, False))
                else:
                    found.append((sets, group.finding, piece, True))  # that finding's doubt, to be asked
                break
        return found

    def _stated_now(self, clause: str) -> bool:
        """A positive mark, an onset or a recent time in the clause (catalogue listStatementWords, recentTimeWords)."""
        lowered = clause.lower()
        return bool(self.list_statement.search(lowered) or self.recent.search(lowered) or _POSITIVE_MARK.search(lowered)
                    or _POSITIVE_TAIL.search(lowered))

    def _beside_fact(self, observation, answer: str, value_sets: frozenset[str], finding: str, when,
                     final: bool) -> Fact:
        written = observation.valueString if isinstance(observation.valueString, str) else (
            observation.valueCodeableConcept.text if observation.valueCodeableConcept else None)
        value = f"“{_as_written(written, answer)}” (read as {finding})"  # the nurse's words, as written
        return Fact("Observation", value_sets, when, final,
                    self._evidence("Observation", observation, observation.code, when, value=value))

    def _doubt_fact(self, observation, piece: str, value_sets: frozenset[str], when, final: bool) -> Fact:
        """A piece about another finding that the reading cannot place: counted as that finding (fail-safe),
        marked, so that the card asks about it (r34b S12)."""
        written = observation.valueString if isinstance(observation.valueString, str) else (
            observation.valueCodeableConcept.text if observation.valueCodeableConcept else None)
        return Fact("Observation", value_sets, when, final, self._evidence(
            "Observation", observation, observation.code, when,
            value=f"“{_as_written(written, piece)}” (answer not interpreted: ask now)"), uninterpreted=True)

    def _answer_text(self, observation) -> str | None:
        """The answer as text: valueString, or a coded answer given as text only; the phrases that name no
        finding ('blood pressure', 'bloods': catalogue notFindingPhrases) set aside."""
        text = _whole_value(observation.valueString)
        concept = observation.valueCodeableConcept
        if text is None and concept is not None and not concept.coding and isinstance(concept.text, str):
            text = _whole_value(concept.text)
        return self._without_other_phrases(text)

    def _without_other_phrases(self, text: str | None) -> str | None:
        if not text:
            return text
        plain = " ".join(self.not_finding.sub(" ", text).split())
        if plain == text:
            return text
        if not (self.any_finding_word.search(plain) or self.finding_noun.search(plain)
                or set(_WORDS.findall(plain)) & self.present_words):
            return ""  # it speaks only of things that are not the finding ("Bloods taken"): no answer to it
        return plain

    def _observation_fact(self, observation, by_code, by_value, when, final: bool,
                          set_aside: frozenset[str], measured_text: str | None) -> Fact:
        """measured_text: the value as written, without the oxygen a saturation names (observation())."""
        quantity = None
        value_text = None
        uninterpreted = False
        comparator = None
        in_text = self._text_quantity(measured_text, _written_value(observation), by_code) \
            if by_code & self.measurements.keys() else None
        if observation.valueQuantity is not None and observation.valueQuantity.value is not None:
            q = observation.valueQuantity
            quantity, comparator = self._quantity(q.value, q.code or q.unit, by_code), q.comparator
            value_text = f"{q.comparator or ''}{_plain(q.value)} {q.unit or q.code or ''}".strip()
        elif in_text is not None:
            quantity, comparator, value_text = in_text
        elif observation.valueCodeableConcept is not None:
            value_text = _concept_text(observation.valueCodeableConcept)
            concept = observation.valueCodeableConcept
            if value_text and not by_value and not any(
                    (c.system, c.code) in self.present_answers for c in concept.coding or ()):
                value_text, uninterpreted = self._shown_answer(value_text, by_code, observation.code, set_aside)
        elif isinstance(observation.valueString, str):
            value_text, uninterpreted = self._shown_answer(observation.valueString, by_code, observation.code,
                                                           set_aside)
        elif observation.valueInteger is not None:
            value_text = str(observation.valueInteger)  # a score: the card shows why it counted
        elif observation.valueBoolean is not None:
            value_text = "yes" if observation.valueBoolean else "no"
        interpretation = frozenset(
            coding.code for concept in (observation.interpretation or ()) for coding in (concept.coding or ())
            if coding.code)
        high, high_unit = None, None
        for reference_range in observation.referenceRange or ():
            if reference_range.high is not None and reference_range.high.value is not None:
                high = Decimal(str(reference_range.high.value))
                high_unit = canonical(reference_range.high.code or reference_range.high.unit)
                break
        flags = tuple(sorted(interpretation)) if value_text else ()
        if interpretation & _POSITIVE_FLAGS:
            uninterpreted = False  # flagged positive by the system that recorded it: read, not guessed
        return Fact("Observation", by_code, when, final,
                    self._evidence("Observation", observation, observation.code, when, value=value_text,
                                   flags=flags),
                    quantity=quantity, comparator=comparator,
                    interpretation=interpretation, reference_high=high, reference_unit=high_unit,
                    value_sets_of_value=by_value, uninterpreted=uninterpreted)

    def _imaging_observation(self, observation, by_code) -> Fact:
        """A scan's result as an Observation: negative when answered absent or negative, flagged normal or
        negative, or worded as a negative report."""
        when = observation_time(observation)
        flags = _flags(observation)
        # Its text is a report, read as one (ReportReader), never by its first word: "No compressibility of
        # the femoral vein, consistent with DVT" is a clot.
        coded = observation.valueBoolean is False or (observation.valueCodeableConcept is not None and any(
            (c.system, c.code) in self.absent_answers for c in observation.valueCodeableConcept.coding or ()))
        reading = self.reports.read(observation.valueString) if observation.valueString else None
        negative = (self._negative(by_code, reading) if observation.valueString
                    else coded or bool(flags & self.hygiene["negativeInterpretation"]))
        return Fact("Observation", self._sided(by_code, observation.valueString), when, observation.status in self.hygiene["resultStatus"],
                    self._evidence("Observation", observation, observation.code, when,
                                   value=_concept_text(observation.valueCodeableConcept) or observation.valueString),
                    negative=negative, unread=reading == UNREAD,
                    shown=self._shows(by_code, observation.valueString, reading),
                    superficial=negative and reading == SUPERFICIAL)

    def report(self, report, relevant: Memberships) -> list[Fact]:
        """A scan's DiagnosticReport: negative when its coded conclusion is a negative answer or its
        conclusion is worded as a negative report (catalogue textMatches "negative-imaging")."""
        if report.status in self.hygiene["withdrawnResultStatus"]:
            return []  # a study cancelled or entered in error is no study
        period = report.effectivePeriod
        when = as_datetime(report.effectiveDateTime) or as_datetime(
            (period.end or period.start) if period else None) or as_datetime(report.issued)
        coded = any((c.system, c.code) in self.absent_answers
                    for concept in (report.conclusionCode or ()) for c in (concept.coding or ()))
        # The words decide when there are any: a coded "Negative" over "nonocclusive thrombus" is not. Without a
        # conclusion, the report's plain-text form is its words (r26 review: a negative scan whose text was only
        # in presentedForm was 'not read as negative' and its scan re-ordered).
        text = report.conclusion if isinstance(report.conclusion, str) and report.conclusion.strip() \
            else _presented_text(report)
        reading = self.reports.read(text) if text else None
        negative = self._negative(relevant.by_code, reading) if text else coded
        shown = text if text is None or len(text) <= _SHOWN_REPORT else text[:_SHOWN_REPORT].rstrip() + " …"
        return [Fact("DiagnosticReport", self._sided(relevant.by_code, text), when, report.status in self.hygiene["resultStatus"],
                     self._evidence("DiagnosticReport", report, report.code, when, value=shown),
                     negative=negative, unread=reading == UNREAD,
                     shown=self._shows(relevant.by_code, text, reading),
                     superficial=negative and reading == SUPERFICIAL)]

    @staticmethod
    def _negative(by_code: frozenset[str], reading) -> bool:
        """Negative for the clot the study looks for: a leg-vein scan saying no DVT with a superficial vein
        thrombosis shown answered the DVT question (r38a F5); a CTPA only when read negative."""
        return reading == NEGATIVE or (reading == SUPERFICIAL and DVT_IMAGING in by_code and PE_IMAGING not in by_code)

    def _shows(self, by_code: frozenset[str], text, reading) -> bool:
        """Whether a study's report shows its clot in plain words: a PE on a CTPA, a proximal DVT on a leg scan."""
        return (self.reports.shows_pe if PE_IMAGING in by_code else self.reports.shows_dvt)(text, reading)

    def _sided(self, memberships: frozenset[str], text) -> frozenset[str]:
        """A leg-vein study coded without a side takes the side its conclusion names (KB §8.7); a CTPA has
        no side ("right lower lobe" is a lung)."""
        if memberships & SIDES or DVT_IMAGING not in memberships:
            return memberships
        return memberships | self.reports.sides(text)

    def _component(self, observation, component, when, final: bool) -> list[Fact]:
        """A component that is a measurement (heart rate in a vital-signs panel, systolic pressure in a
        blood-pressure panel) as its own fact, dated and statused as its Observation; one that is a finding
        (a review-of-systems panel: dyspnoea No, chest pain Yes) read as an Observation of its own, its
        answer read as any finding's is (r27 review: such a chest pain was never read)."""
        coded = self.value_sets.of_concept(component.code)
        measured = coded & self.measurements.keys()
        q = component.valueQuantity
        if coded and not measured:
            view = _ComponentView(observation, component)
            by_code = coded | (self.value_sets.of_concept(observation.bodySite) & PLACES if observation.bodySite else NOTHING)
            return self.observation(view, Memberships(by_code, self.value_sets.of_concept(component.valueCodeableConcept)))
        if not measured:
            return []
        if q is not None and q.value is not None:
            value_text = f"{_plain(q.value)} {q.unit or q.code or ''}".strip()
            quantity, comparator = self._quantity(q.value, q.code or q.unit, measured), q.comparator
        else:
            written = _written_value(component)
            in_text = self._text_quantity(written, written, measured)
            if in_text is None:
                return []
            quantity, comparator, value_text = in_text
        return [Fact("Observation", frozenset(measured), when, final,
                     self._evidence("Observation", observation, component.code, when, value=value_text),
                     quantity=quantity, comparator=comparator)]

    def _red_flags_in_notes(self, resource, by_code: frozenset[str], when, current: bool,
                            kind: str = "Observation") -> list[Fact]:
        """Red flags a note on the entry states, each read as that finding's own answer, as in a row about
        another finding (a dyspnoea row 'No' with the note 'c/o pleuritic CP L side since 0600'; a leg-swelling
        Condition noted 'pleuritic chest pain and SOB since yesterday': r27 review). Only a statement the
        reading places counts; a note restating the entry's own finding is the entry's answer's business."""
        texts = [n.text for n in getattr(resource, "note", None) or () if isinstance(n.text, str) and n.text.strip()]
        facts = []
        for text in texts:
            for value_sets, finding, piece, doubt in self._red_flags_beside(
                    self._without_other_phrases(_whole_value(text)) or text.lower(), by_code):
                if value_sets and not doubt:
                    value = f"“{_as_written(text, piece)}” (note, read as {finding})"
                    facts.append(Fact(kind, value_sets, when, current,
                                      self._evidence(kind, resource, resource.code, when, value=value)))
        return facts

    def _text_quantity(self, text: str | None, shown: str | None, measured: frozenset[str]):
        """(quantity, comparator, the value as the card shows it) of a measurement written as text ("40%",
        "112"): read as its number, never guessed from words (units.quantity_in_text); else None."""
        in_text = quantity_in_text(text)
        if in_text is None:
            systolic = systolic_in_text(text) if measured & BLOOD_PRESSURE else None
            if systolic is None:
                return None
            in_text = None, systolic, "mm[Hg]"  # "85/50": the systolic pressure (r28 review)
        comparator, value, unit = in_text
        return self._quantity(value, unit, measured), comparator, shown.strip()

    def _quantity(self, number, unit_text: str | None, measured: frozenset[str]) -> tuple[Decimal, str]:
        """(value, UCUM unit) as far as the unit can be read without guessing (record/units.py)."""
        value, unit = Decimal(str(number)), canonical(unit_text)
        ranged = sorted(measured & self.plausible_ranges.keys())
        return with_plausible_unit(value, unit, self.plausible_ranges[ranged[0]]) if ranged else (value, unit)

    def medication(self, request, relevant: Memberships) -> list[Fact]:
        concept = self._medicine(request)
        when = as_datetime(request.authoredOn)
        # A proposal or plan is no order (FHIR R4 MedicationRequest.intent): neither current nor a course.
        if request.intent is not None and request.intent not in self.hygiene["orderIntent"]:
            return []
        # An order left "active" whose own period is over (its dosage's boundsPeriod, its dispenseRequest's
        # validityPeriod: an apixaban order of 2022 never closed) is a course that ended, as a statement whose
        # effectivePeriod ended is: current treatment it is not (r31 review S2, KB §8.3).
        ended = _order_end(request)
        current, status = self._course(request.status, self.hygiene["orderStatus"], ended)
        held = relevant.held
        if request.status in self.hygiene.get("heldOrderStatus", ()) and "anticoagulants" in relevant.by_code \
                and not (ended and ended < self._now):
            # FHIR's own 'on-hold': an open order not being given, as a held text says (r35a W2, r35b W2: it
            # read 'no active anticoagulant found', with the order itself unnamed)
            current, held = True, held or "held"
        if request.doNotPerform:
            status = f"{status}, do not perform" if status else "do not perform"
        return [Fact("MedicationRequest", relevant.by_code, when, current,
                     self._evidence("MedicationRequest", request, concept, when, status=status,
                                    dosage=_dosage_shown(request, notes=bool(held))), ended=ended,
                     held=held, drug=relevant.drug)]

    def _course(self, status: str | None, current_statuses, ended: datetime | None) -> tuple[bool, str | None]:
        """(current, status shown) of an order or statement: current when its status is, and the period it
        gives itself is not over; one whose period is over reads as "completed", an ended course
        (PatientRecord.ended_courses), whatever its status still says."""
        current = status in current_statuses and not (ended and ended < self._now)
        return current, ("completed" if status in current_statuses and not current else status)

    def statement(self, statement, relevant: Memberships) -> list[Fact]:
        """Taking it (active, the period not over) or a course that ended; dated from when it began."""
        concept = self._medicine(statement)
        period = statement.effectivePeriod
        began = as_datetime(statement.effectiveDateTime) or as_datetime(period.start if period else None) \
            or as_datetime(statement.dateAsserted)
        ended = as_datetime(period.end if period else None)
        current, status = self._course(statement.status, self.hygiene["statementStatus"], ended)
        return [Fact("MedicationStatement", relevant.by_code, began, current,
                     self._evidence("MedicationStatement", statement, concept, began, status=status,
                                    dosage=_dosage_shown(statement, notes=bool(relevant.held))), ended=ended,
                     held=relevant.held, drug=relevant.drug)]

    def administration(self, administration, relevant: Memberships) -> list[Fact]:
        """A dose given: current while inside the catalogue's "administration" window (facts.medicines). An
        infusion still running (in progress, a period begun and not ended) is being given now, however long ago
        it began (r36b S4: heparin started 60 h ago, still running, read as no anticoagulation); the card shows
        when it began."""
        concept = self._medicine(administration)
        period = administration.effectivePeriod
        when = as_datetime(administration.effectiveDateTime) or as_datetime(
            (period.end or period.start) if period else None)
        given = when
        if administration.status == "in-progress" and administration.effectiveDateTime is None and period \
                and period.start and not period.end and when is not None and when <= self._now:
            given = self._now
        return [Fact("MedicationAdministration", relevant.by_code, given,
                     administration.status in self.hygiene["administrationStatus"],
                     self._evidence("MedicationAdministration", administration, concept, when,
                                    status=administration.status, value=_reason_shown(administration),
                                    dosage=_dosage_shown(administration, notes=bool(relevant.held))),
                     held=relevant.held, drug=relevant.drug)]

    @staticmethod
    def _medicine(resource):
        concept = medication_concept(resource)
        if isinstance(concept, dict):  # the name from a medicationReference display
            concept = get_fhir_model_class("CodeableConcept").model_validate(concept)
        return concept

    def procedure(self, procedure, relevant: Memberships) -> list[Fact]:
        memberships = relevant.by_code
        when = as_datetime(procedure.performedDateTime) or as_datetime(
            (procedure.performedPeriod.end or procedure.performedPeriod.start) if procedure.performedPeriod else None)
        return [Fact("Procedure", memberships, when, procedure.status in self.hygiene["procedureStatus"],
                      self._evidence("Procedure", procedure, procedure.code, when))]

    def _evidence(self, kind: str, resource, concept, when, **details) -> Evidence:
        matched = [c for c in (concept.coding or ()) if self.value_sets.of_coding(c)] if concept else []
        displays = [c.display for c in matched if c.display]
        # sent without words ('display': "" is read as absent): named by the value set's display (r41 W2)
        display = " / ".join(dict.fromkeys(displays)) or _concept_text(concept) or next(
            (name for name in map(self.value_sets.display_of, matched) if name), None)
        codes = tuple((SYSTEM_NAMES.get(c.system, c.system), c.code) for c in matched)
        return Evidence(f"{kind}/{resource.id or '(no id)'}", display, codes, when, **details)


def _order_end(request) -> datetime | None:
    """When a MedicationRequest's own period ends, as far as it says: the later of its dispenseRequest
    validityPeriod end and its dosage's boundsPeriod end (the latter only when every dosage instruction is
    bounded: an open-ended line after a bounded loading dose runs on). The later one, so that either period
    still running keeps the order current."""
    ends = []
    dosages = _get(request, "dosageInstruction") or ()
    bounds = [as_datetime(_get(_get(_get(_get(d, "timing"), "repeat"), "boundsPeriod"), "end")) for d in dosages]
    if bounds and all(bounds):
        ends.append(max(bounds))
    validity = as_datetime(_get(_get(_get(request, "dispenseRequest"), "validityPeriod"), "end"))
    if validity is not None:
        ends.append(validity)
    return max(ends) if ends else None


_DOSAGE_SHOWN = 80  # characters of a dosage text on an evidence line


def _reason_shown(administration) -> str | None:
    """Why a dose was not given, as charted ("Patient refused"): a refused dose is the reason an order is not
    treatment (r34b S7)."""
    for reason in _get(administration, "statusReason") or ():
        words = _concept_text(reason)
        if words:
            return " ".join(words.split())[:_DOSAGE_SHOWN]
    return None


def _dosage_shown(resource, notes: bool = False) -> str | None:
    """The dosage text of an order, statement or administration as a card shows it beside the medicine: the
    texts joined, white space collapsed, shortened with an ellipsis. A "DO NOT GIVE" must be visible on the
    evidence of the treatment it denies (r31 review S2); for a held one, its notes too, where a pharmacist's
    "Not yet started - awaiting OGD" is written."""
    items = _get(resource, "dosageInstruction") or _get(resource, "dosage") or ()
    items = [items] if not isinstance(items, (list, tuple)) else items
    texts = [t for t in (_get(d, "text") for d in items) if isinstance(t, str)]
    texts += [t for t in (_get(n, "text") for n in (_get(resource, "note") or ())) if isinstance(t, str)] if notes else []
    texts = [" ".join(t.split()) for t in texts if t.strip()]
    text = "; ".join(texts)
    if not text:
        return None
    return text if len(text) <= _DOSAGE_SHOWN else text[:_DOSAGE_SHOWN - 1].rstrip() + "…"


class _ComponentView:
    """An Observation's component seen as an Observation of its own: its code and answer, the parent's id,
    status, time and notes."""
    _OWN = frozenset({"code", "valueQuantity", "valueCodeableConcept", "valueString", "valueBoolean", "valueInteger",
                      "valueRange", "valueRatio", "valueSampledData", "valueTime", "valueDateTime", "valuePeriod",
                      "dataAbsentReason", "interpretation", "referenceRange"})

    def __init__(self, observation, component):
        self._observation, self._component = observation, component

    def __getattr__(self, name: str):
        if name in self._OWN:
            return getattr(self._component, name, None)
        if name in ("component", "note"):
            return None  # the parent's notes are read once, on the parent
        return getattr(self._observation, name)


def _written_value(element) -> str | None:
    """An Observation's or component's value as written when it is text or a whole number: a measurement
    may be recorded either way ("40%", 112), and units.quantity_in_text reads it."""
    if isinstance(element.valueString, str):
        return element.valueString
    return None if element.valueInteger is None else str(element.valueInteger)


_SHOWN_REPORT = 400  # characters of a report's text a card shows
_PRESENTED_LIMIT = 64 * 1024  # a plain-text report longer than this is not a radiology conclusion: not read


def _presented_text(report) -> str | None:
    """A report's plain-text presentedForm (UTF-8; the validated model holds its base64 data decoded), or None
    when there is none to read."""
    for attachment in report.presentedForm or ():
        content_type = (attachment.contentType or "").split(";")[0].strip().lower()
        data = attachment.data
        if content_type != "text/plain" or not isinstance(data, bytes) or len(data) > _PRESENTED_LIMIT:
            continue
        text = data.decode("utf-8", errors="replace").strip()
        if text:
            return text
    return None


def _flags(observation) -> set[str]:
    """The interpretation codes of an Observation (v3 ObservationInterpretation: N, NEG, H, ...)."""
    return {c.code for concept in (observation.interpretation or ()) for c in (concept.coding or ())}


def observation_time(observation) -> datetime | None:
    """When an Observation (raw dict or model) was taken: the first of effectiveDateTime, effectiveInstant,
    effectivePeriod end or start, and issued that is a date."""
    period = _get(observation, "effectivePeriod")
    for value in (_get(observation, "effectiveDateTime"), _get(observation, "effectiveInstant"),
                  _get(period, "end"), _get(period, "start"), _get(observation, "issued")):
        moment = as_datetime(value)
        if moment is not None:
            return moment
    return None


def _concept_text(concept) -> str | None:
    if concept is None:
        return None
    if concept.text:
        return concept.text
    for coding in concept.coding or ():
        if coding.display:
            return coding.display
    return None


def _status_code(concept) -> str | None:
    if concept is None:
        return None
    for coding in concept.coding or ():
        if coding.code:
            return coding.code
    return None


def _plain(value) -> str:
    text = format(Decimal(str(value)).normalize(), "f")
    return text


# An Age's UCUM unit in days (a year as 365.25, a month as a twelfth of it): Condition.onsetAge placed in time
_UCUM_AGE_DAYS = {"a": 365.25, "mo": 365.25 / 12, "wk": 7, "d": 1}


def _age(birth: datetime | None, now: datetime) -> int | None:
    if birth is None or birth > now:
        return None
    years = now.year - birth.year - ((now.month, now.day) < (birth.month, birth.day))
    return years


def _slow_refill(clause: str) -> bool:
    """A capillary refill stated longer than 2 seconds ("CRT 5 sec", "cap refill >3s"); "CRT <2 sec" is normal."""
    number = _NUMBER.search(clause) if _REFILL.search(clause) else None
    return number is not None and Decimal(number.group(1)) > 2 and "<" not in clause


def _stems(stems) -> re.Pattern:
    """Words beginning with any of `stems` (catalogue findingWords)."""
    return re.compile(r"\b(?:%s)" % alternatives(set(stems)) if stems else r"(?!x)x")


def _phrases(words, marks: bool = False) -> re.Pattern:
    """Any of the words or phrases as whole words ("0/5", "can't" included); with marks, a word that is only
    marks ("++") wherever it stands ("SOB++")."""
    pattern = r"(?<![\w/'])(?:%s)(?![\w/'])" % alternatives(words) if words else r"(?!x)x"
    signs = [w for w in words if not any(ch.isalnum() for ch in w)] if marks else []
    return re.compile(pattern + ("|" + alternatives(signs) if signs else ""))
