"""The patient's facts, as the rules ask for them: which value sets are present, how recently, with what
value, and from which resource — so that a card can say why it fired.

Data hygiene lives here, once, for every rule:
- Conditions that are entered-in-error or refuted are ignored; resolved, inactive or in remission (or
  abated) are history, not current; any other clinical status (and none) is current.
- Observations count only when final, amended or corrected.
- MedicationRequests count only when active; Procedures only when completed (or in progress).
- Findings are "recent" within a window chosen per kind of fact (cards/catalogue.json, shown in
  cards/README.md): stale vital signs never trigger an acute rule.
The statuses, answer codes and text matches these rules use are the catalogue's "recordHygiene",
"absentAnswers" and "textMatches".
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal

from .catalogue import Catalogue, Name, require
from .terminology import NOTHING, SYSTEM_NAMES, ValueSets


@dataclass(frozen=True)
class Evidence:
    """One resource that supports a finding, as structured facts: the card renders them in words."""
    reference: str  # e.g. "Condition/abc"
    display: str | None  # the matched codings' displays, or the concept's text, as the record has them
    codes: tuple[tuple[str, str], ...]  # (code system name, code) of the matched codings
    when: datetime | None
    value: str | None = None  # the recorded value as written (number, comparator, unit), or a coded answer
    flags: tuple[str, ...] = ()  # the laboratory's interpretation codes
    status: str | None = None  # a MedicationRequest's status
    unconfirmed: bool = False  # a Condition recorded as provisional, differential or unconfirmed


@dataclass(frozen=True)
class Fact:
    kind: str  # Condition | Observation | MedicationRequest | Procedure
    value_sets: frozenset[str]
    when: datetime | None
    current: bool  # a current problem, a final result, an active order, a done procedure
    evidence: Evidence
    quantity: tuple[Decimal, str] | None = None  # (value, UCUM code or unit) for Observations
    comparator: str | None = None  # "<", "<=", ">=", ">" as reported (e.g. D-dimer "<0.27")
    interpretation: frozenset[str] = NOTHING  # Observation.interpretation codes, e.g. {"H"}
    reference_high: Decimal | None = None
    reference_unit: str | None = None
    value_sets_of_value: frozenset[str] = NOTHING  # Observation.valueCodeableConcept memberships
    onset: datetime | None = None  # Condition onset (when the problem began), when recorded

    @property
    def confirmed(self) -> bool:
        return not self.evidence.unconfirmed


@dataclass
class PatientRecord:
    now: datetime
    age: int | None
    sex: str | None
    catalogue: Catalogue
    facts: list[Fact] = field(default_factory=list)
    patient_id: str = ""

    # -- questions the rules ask, by declared names (catalogue.py) ----------------------------------------
    def current(self, value_set: Name, window: Name | None = None) -> list[Fact]:
        """Current Conditions (and final Observations coded as findings) in the value set, newest first;
        with a window, only those dated inside it (an undated fact is never "recent": it cannot make an
        acute card fire at every chart opening)."""
        require(value_set, "value-set")
        found = []
        for fact in self.facts:
            if not fact.current or fact.kind not in ("Condition", "Observation"):
                continue
            if value_set not in fact.value_sets and value_set not in fact.value_sets_of_value:
                continue
            if fact.kind == "Observation" and fact.value_sets_of_value and value_set in fact.value_sets:
                continue  # an Observation *about* the concept (e.g. pregnancy status) is read by its value
            if window and not self._inside(fact, window):
                continue
            found.append(fact)
        return _newest_first(found)

    def history(self, value_set: Name) -> list[Fact]:
        require(value_set, "value-set")
        return _newest_first(f for f in self.facts if f.kind == "Condition" and not f.current
                             and value_set in f.value_sets)

    def measurements(self, value_set: Name) -> list[Fact]:
        """Final Observations with a numeric value, coded in the value set, inside the window the catalogue
        reads that measurement in, newest first."""
        window = self.catalogue.measurements[require(value_set, "value-set")]
        return _newest_first(f for f in self.facts if f.kind == "Observation" and f.current and f.quantity
                             and value_set in f.value_sets and self._inside_window(f, window))

    def latest(self, value_set: Name) -> Fact | None:
        found = self.measurements(value_set)
        return found[0] if found else None

    def active_orders(self, value_set: Name) -> list[Fact]:
        require(value_set, "value-set")
        return [f for f in self.facts if f.kind == "MedicationRequest" and f.current and value_set in f.value_sets]

    def procedures(self, value_set: Name, window: Name) -> list[Fact]:
        require(value_set, "value-set")
        return _newest_first(f for f in self.facts if f.kind == "Procedure" and f.current
                             and value_set in f.value_sets and self._inside(f, window))

    def older_than(self, fact: Fact, window: Name) -> bool:
        """The fact began (onset, else first recorded) before the window; undated facts are not."""
        began = fact.onset or fact.when
        return began is not None and began < self.now - self.catalogue.window(window)

    def threshold(self, name: Name) -> Decimal:
        return self.catalogue.threshold(name)

    def _inside(self, fact: Fact, window: Name) -> bool:
        return self._inside_window(fact, require(window, "window"))

    def _inside_window(self, fact: Fact, window_key: str) -> bool:
        if fact.when is None:
            return False
        windows = self.catalogue.windows
        return self.now - windows[window_key] <= fact.when <= self.now + windows["future"]


def _newest_first(facts: Iterable[Fact]) -> list[Fact]:
    epoch = datetime.min.replace(tzinfo=timezone.utc)
    return sorted(facts, key=lambda f: f.when or epoch, reverse=True)


# -- building the record from parsed FHIR ----------------------------------------------------------------

def build_record(parsed, value_sets: ValueSets, catalogue: Catalogue, now: datetime) -> PatientRecord:
    patient = parsed.patient
    birth = as_datetime(patient.birthDate)
    record = PatientRecord(now=now, age=_age(birth, now), sex=patient.gender, catalogue=catalogue,
                           patient_id=patient.id)
    build = _Builder(value_sets, catalogue)
    builders = (("Condition", build.condition), ("Observation", build.observation),
                ("MedicationRequest", build.medication), ("Procedure", build.procedure))
    for resource_type, fact_of in builders:
        for resource in parsed.resources.get(resource_type, ()):
            fact = fact_of(resource)
            if fact:
                record.facts.append(fact)
    return record


def names_a(words: tuple[str, ...], text: str) -> bool:
    text = text.lower()
    return any(word in text for word in words)


class _Builder:
    def __init__(self, value_sets: ValueSets, catalogue: Catalogue):
        self.value_sets = value_sets
        self.hygiene = catalogue.hygiene
        self.absent_answers = catalogue.absent_answers
        self.panels = catalogue.panels
        self.anticoagulant_words = catalogue.text_matches["anticoagulants"]

    def condition(self, condition) -> Fact | None:
        verification = _status_code(condition.verificationStatus)
        if verification in self.hygiene["ignoredVerification"]:
            return None
        memberships = self.value_sets.of_concept_disambiguated(condition.code)
        if not memberships:
            return None
        clinical = _status_code(condition.clinicalStatus)
        abated = any(getattr(condition, name, None) for name in
                     ("abatementDateTime", "abatementAge", "abatementPeriod", "abatementRange", "abatementString"))
        current = clinical not in self.hygiene["historyClinicalStatus"] and not (abated and clinical is None)
        onset = as_datetime(condition.onsetDateTime) or as_datetime(
            condition.onsetPeriod.start if condition.onsetPeriod else None)
        recorded = as_datetime(condition.recordedDate)
        # Recency is the latest the record speaks of the problem: swelling that began 3 weeks ago but was
        # recorded today is a current finding.
        when = max((d for d in (onset, recorded) if d is not None), default=None)
        unconfirmed = verification in self.hygiene["unconfirmedVerification"]
        return Fact("Condition", memberships, when, current,
                    self._evidence("Condition", condition, condition.code, when, unconfirmed=unconfirmed),
                    onset=onset)

    def _is_absent(self, observation) -> bool:
        """An Observation recording a finding as absent ("calf pain: no") must not count as the finding."""
        if observation.valueBoolean is False:
            return True
        concept = observation.valueCodeableConcept
        return concept is not None and any((c.system, c.code) in self.absent_answers for c in concept.coding or ())

    def observation(self, observation) -> Fact | None:
        of_concept = self.value_sets.of_concept
        by_code = of_concept(observation.code)
        by_value = of_concept(observation.valueCodeableConcept)
        if not by_code and not by_value:
            return None
        if self._is_absent(observation):
            return None
        for panel, component_set in self.panels.items():
            if panel in by_code:
                return self._component(observation, component_set)
        when = _observation_time(observation)
        quantity = None
        value_text = None
        if observation.valueQuantity is not None and observation.valueQuantity.value is not None:
            q = observation.valueQuantity
            unit = q.code or q.unit or ""
            quantity = (Decimal(str(q.value)), unit)
            value_text = f"{q.comparator or ''}{_plain(q.value)} {q.unit or q.code or ''}".strip()
        elif observation.valueCodeableConcept is not None:
            value_text = _concept_text(observation.valueCodeableConcept)
        interpretation = frozenset(
            coding.code for concept in (observation.interpretation or ()) for coding in (concept.coding or ())
            if coding.code)
        high, high_unit = None, None
        for reference_range in observation.referenceRange or ():
            if reference_range.high is not None and reference_range.high.value is not None:
                high = Decimal(str(reference_range.high.value))
                high_unit = reference_range.high.code or reference_range.high.unit
                break
        status = observation.status if isinstance(observation.status, str) else None
        flags = tuple(sorted(interpretation)) if value_text else ()
        return Fact("Observation", by_code, when, status in self.hygiene["resultStatus"],
                    self._evidence("Observation", observation, observation.code, when, value=value_text,
                                   flags=flags),
                    quantity=quantity,
                    comparator=observation.valueQuantity.comparator if observation.valueQuantity else None,
                    interpretation=interpretation, reference_high=high, reference_unit=high_unit,
                    value_sets_of_value=by_value)

    def _component(self, observation, value_set: str) -> Fact | None:
        """A panel's component (e.g. systolic pressure in the blood pressure panel) as its own measurement."""
        for component in observation.component or ():
            if value_set in self.value_sets.of_concept(component.code) and component.valueQuantity is not None \
                    and component.valueQuantity.value is not None:
                q = component.valueQuantity
                when = _observation_time(observation)
                status = observation.status if isinstance(observation.status, str) else None
                value_text = f"{_plain(q.value)} {q.unit or q.code or ''}".strip()
                return Fact("Observation", frozenset({value_set}), when, status in self.hygiene["resultStatus"],
                            self._evidence("Observation", observation, component.code, when, value=value_text),
                            quantity=(Decimal(str(q.value)), q.code or q.unit or ""))
        return None

    def medication(self, request) -> Fact | None:
        concept = request.medicationCodeableConcept
        if concept is None and request.medicationReference is not None:
            concept = _contained_medication_code(request)
        memberships = self.value_sets.of_concept(concept)
        if not memberships and names_a(self.anticoagulant_words, _all_text(concept)):
            memberships = frozenset({"anticoagulants"})
        if not memberships:
            return None
        when = as_datetime(request.authoredOn)
        return Fact("MedicationRequest", memberships, when, request.status in self.hygiene["orderStatus"],
                    self._evidence("MedicationRequest", request, concept, when, status=request.status))

    def procedure(self, procedure) -> Fact | None:
        memberships = self.value_sets.of_concept(procedure.code)
        if not memberships:
            return None
        when = as_datetime(procedure.performedDateTime) or as_datetime(
            (procedure.performedPeriod.end or procedure.performedPeriod.start) if procedure.performedPeriod else None)
        return Fact("Procedure", memberships, when, procedure.status in self.hygiene["procedureStatus"],
                    self._evidence("Procedure", procedure, procedure.code, when))

    def _evidence(self, kind: str, resource, concept, when, **details) -> Evidence:
        matched = [c for c in (concept.coding or ()) if self.value_sets.of_coding(c)] if concept else []
        displays = [c.display for c in matched if c.display]
        display = " / ".join(dict.fromkeys(displays)) or _concept_text(concept)
        codes = tuple((SYSTEM_NAMES.get(c.system, c.system), c.code) for c in matched)
        return Evidence(f"{kind}/{resource.id or '(no id)'}", display, codes, when, **details)


def _observation_time(observation) -> datetime | None:
    period = observation.effectivePeriod
    return observation_time(observation.effectiveDateTime, observation.effectiveInstant,
                            period.end if period else None, period.start if period else None, observation.issued)


def observation_time(effective_date_time, effective_instant, period_end, period_start, issued) -> datetime | None:
    """When an Observation was taken: the first of these that is a date, in this order (model values or the
    raw JSON's strings alike)."""
    for value in (effective_date_time, effective_instant, period_end, period_start, issued):
        moment = as_datetime(value)
        if moment is not None:
            return moment
    return None


def _all_text(concept) -> str:
    if concept is None:
        return ""
    parts = [concept.text or ""] + [c.display or "" for c in concept.coding or ()]
    return " ".join(parts)


def _contained_medication_code(request):
    reference = request.medicationReference.reference or ""
    if reference.startswith("#"):
        for resource in request.contained or ():
            if getattr(resource, "id", None) == reference[1:] and getattr(resource, "code", None) is not None:
                return resource.code
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


def as_datetime(value) -> datetime | None:
    """FHIR date, dateTime or instant (model value or partial string) as an aware UTC datetime.
    A partial date stands for its first day; a date without a time for its start."""
    if value is None:
        return None
    if isinstance(value, datetime):
        try:
            return value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)
        except OverflowError:  # year 1 at +14:00, year 9999 at -14:00: outside what UTC can hold
            return None
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    if isinstance(value, str):
        try:
            if len(value) > 10:
                return as_datetime(datetime.fromisoformat(value.replace("Z", "+00:00")))
            parts = value.split("-")
            return datetime(int(parts[0]), int(parts[1]) if len(parts) > 1 else 1,
                            int(parts[2]) if len(parts) > 2 else 1, tzinfo=timezone.utc)
        except (ValueError, IndexError, OverflowError):
            return None
    return None


def _age(birth: datetime | None, now: datetime) -> int | None:
    if birth is None or birth > now:
        return None
    years = now.year - birth.year - ((now.month, now.day) < (birth.month, birth.day))
    return years
