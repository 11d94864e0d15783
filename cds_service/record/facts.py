"""The patient's facts, as the rules ask for them: which value sets are present, how recently, with what
value, and from which resource — so that a card can say why it fired. Built by record/build.py; the
questions take only declared names (content/catalogue.py), and their windows are the catalogue's."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from decimal import Decimal

from ..content.catalogue import Catalogue, Name, require, value_set
from ..content.terminology import NOTHING

# A value that only answers the code ("Dyspnoea: Positive") affirms the code's finding; it names no concept.
ANSWER_VALUES = frozenset({value_set("positive-result")})


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
    # a Condition not confirmed: "unconfirmed" as recorded, or "unrecorded"; "treated" is a clot of unrecorded
    # verification that a rule reads as diagnosed, and the card says why (signals.diagnosed, r38a F1)
    verification: str | None = None
    dosage: str | None = None  # a medicine's dosage text as written, shortened: "DO NOT GIVE" shows (r31 review S2)


@dataclass(frozen=True)
class Fact:
    kind: str  # Condition | Observation | MedicationRequest | MedicationStatement | MedicationAdministration |
    # Procedure | DiagnosticReport
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
    ended: datetime | None = None  # Condition abatement (when the problem ended), when recorded
    negative: bool = False  # a test that found nothing (a negative scan, a refuted Condition)
    unread: bool = False  # a report's text the reader could not place: neither negative nor showing a clot
    superficial: bool = False  # a leg-vein report negative for DVT that shows a superficial vein thrombosis
    shown: bool = False  # a report that shows its clot in plain words (ReportReader.shows_dvt, shows_pe), whole text read
    uninterpreted: bool = False  # a finding's text answer counted only because it could not be read (fail-safe)
    signs: frozenset[str] = frozenset()  # the Ps of limb ischaemia its text names ("cold, pale, no pulses")
    # the kinds of a hot swollen knee its text states (catalogue hotJointWords: "swollen", "hot"; r30 S8)
    joint: frozenset[str] = frozenset()
    pending: bool = False  # a result not yet final (preliminary, registered): not scored, shown as pending
    # a medicine ordered or stated but not being given: "held" ("ON HOLD", "DO NOT GIVE": doses may have been
    # taken until now) or "not-started" ("to start once Hb checked", doNotPerform); None when it is given
    held: str | None = None
    drug: str | None = None  # the anticoagulant a medicine names (catalogue anticoagulants.drugs: by RxNorm code, else by word)

    @property
    def confirmed(self) -> bool:
        return self.evidence.verification in (None, "treated")


@dataclass(frozen=True)
class UnreadEntry:
    """A Condition or Observation the service cannot read by code whose words name a finding it checks
    (catalogue unreadEntries; r31 review S3): quoted on the cards, never read for meaning."""
    kind: str  # Condition | Observation
    text: str  # its words as the card quotes them
    when: datetime | None = None
    words: str = ""  # its words, lower case, as they were matched
    measurements: tuple[str, ...] = ()  # the measurements its name names ('Pulse'), for an Observation
    value: tuple[Decimal, str] | None = None  # its value as a number in a unit the rules read it in, if it reads so
    entry_condition: bool = False  # it names nothing but this service's entry condition (knee pain)
    oedema: bool = False  # it names nothing but a swelling that is not the knee's ('Swollen ankles')
    coded: bool = False  # coded in a system the value sets use, but in none of them: read for red flags only
    short: str = ""  # a not-valid entry's first reading, short enough for a summary ('Systolic blood pressure 80 mmHg')


@dataclass
class PatientRecord:
    now: datetime
    age: int | None
    sex: str | None
    catalogue: Catalogue
    facts: list[Fact] = field(default_factory=list)
    patient_id: str = ""
    invalid: Counter = field(default_factory=Counter)  # resource type -> resources skipped as invalid FHIR
    unavailable: dict[str, str] = field(default_factory=dict)  # resource type -> why it could not be read
    partial: dict[str, str] = field(default_factory=dict)  # resource type -> what of it was not read, and why
    # Conditions and Observations with no code this service reads whose words name a finding it checks:
    # (resource type, the entry's words as written), for the cards to quote (r31 review S3)
    unread_entries: list[UnreadEntry] = field(default_factory=list)
    # Resources a rule would read that are not valid FHIR: named on the cards, not read (r38b S6)
    malformed: list[UnreadEntry] = field(default_factory=list)
    # Patient.deceased[x]: true, or a date of death by now (r34a N2); when, if the record gives it
    deceased: bool = False
    died: datetime | None = None

    # -- questions the rules ask, by declared names (catalogue.py) ----------------------------------------
    def current(self, value_set: Name, window: Name | None = None, undated: bool = False) -> list[Fact]:
        """Current Conditions (and final Observations coded as findings) in the value set, newest first;
        with a window, only those dated inside it (an undated fact is never "recent": it cannot make an
        acute card fire at every chart opening) — unless `undated`, when an undated Condition counts too
        (the EHR calls it active, and for a pregnancy or a "?DVT" that must not vanish)."""
        require(value_set, "value-set")
        found = []
        for fact in self.facts:
            if not fact.current or fact.kind not in ("Condition", "Observation"):
                continue
            if value_set not in fact.value_sets and value_set not in fact.value_sets_of_value:
                continue
            if fact.kind == "Observation" and fact.value_sets_of_value - ANSWER_VALUES and value_set in fact.value_sets:
                continue  # an Observation *about* the concept (e.g. pregnancy status) is read by its value
            if window and not self._inside(fact, window) \
                    and not (undated and fact.when is None and fact.kind == "Condition"):
                continue
            found.append(fact)
        return _newest_first(found)

    def results(self, value_set: Name, window: Name) -> list[Fact]:
        """Final Observations coded in the value set (a test, whatever its value), dated inside the window,
        newest first: the rule reads the value or the laboratory's flag."""
        require(value_set, "value-set")
        return _newest_first(f for f in self.facts if f.kind == "Observation" and f.current
                             and value_set in f.value_sets and self._inside(f, window))

    def history(self, value_set: Name) -> list[Fact]:
        require(value_set, "value-set")
        return _newest_first(f for f in self.facts if f.kind == "Condition" and not f.current
                             and not f.negative and value_set in f.value_sets)

    def recent_episodes(self, value_set: Name, window: Name) -> list[Fact]:
        """Conditions in the value set that are history (resolved, inactive, in remission, abated) but whose
        episode happened inside the window: a syncope yesterday, recorded as resolved, still happened. The
        episode is dated by when it ended, else began, else was recorded — so an old problem imported today
        as resolved is not recent."""
        require(value_set, "value-set")
        window_key = require(window, "window")
        return _newest_first(f for f in self.history(value_set)
                             if self._inside_window(replace(f, when=f.ended or f.onset or f.when), window_key))

    def measurements(self, value_set: Name) -> list[Fact]:
        """Final Observations with a numeric value, coded in the value set, inside the window the catalogue
        reads that measurement in, newest first."""
        window = self.catalogue.measurements[require(value_set, "measurement")]
        return _newest_first(f for f in self.facts if f.kind == "Observation" and f.current and f.quantity
                             and value_set in f.value_sets and self._inside_window(f, window))

    def latest(self, value_set: Name) -> Fact | None:
        found = self.measurements(value_set)
        return found[0] if found else None

    def medicines(self, value_set: Name) -> list[Fact]:
        """The medicine taken now: an active order or statement, or a dose given within the catalogue's
        "administration" window."""
        require(value_set, "value-set")
        return [f for f in self.facts if f.current and not f.held and value_set in f.value_sets
                and (f.kind in ("MedicationRequest", "MedicationStatement")
                     or (f.kind == "MedicationAdministration" and self._inside_window(f, "administration")))]

    def doses_not_given(self, value_set: Name) -> list[Fact]:
        """Doses of the medicine charted as not given (refused, omitted: notGivenAdministrationStatus) inside
        the catalogue's "administration" window, newest first."""
        require(value_set, "value-set")
        not_given = self.catalogue.hygiene.get("notGivenAdministrationStatus", ())
        return _newest_first(f for f in self.facts if f.kind == "MedicationAdministration" and value_set in f.value_sets
                             and f.evidence.status in not_given and self._inside_window(f, "administration"))

    def held(self, value_set: Name) -> list[Fact]:
        """Orders or statements of the medicine, still open, that say it is not being given now (held, not to
        be given, not started, refused; doNotPerform), newest first."""
        require(value_set, "value-set")
        return _newest_first(f for f in self.facts if f.held and f.current and value_set in f.value_sets
                             and f.kind in ("MedicationRequest", "MedicationStatement"))

    def ended_courses(self, value_set: Name) -> list[Fact]:
        """Orders or statements of the medicine that were completed or stopped, and doses given before."""
        require(value_set, "value-set")
        ended = self.catalogue.hygiene["endedCourseStatus"]
        return _newest_first(f for f in self.facts if value_set in f.value_sets and (
            (f.kind in ("MedicationRequest", "MedicationStatement") and f.evidence.status in ended)
            or (f.kind == "MedicationAdministration" and f.current)))

    def studies(self, study: Name, window: Name) -> list[Fact]:
        """Imaging studies in the value set dated inside the window, whatever their status or result."""
        require(study, "value-set")
        return _newest_first(f for f in self.facts if f.kind in ("DiagnosticReport", "Observation")
                             and study in f.value_sets and self._inside(f, window))

    def negative_tests(self, study: Name, condition: Name) -> list[Fact]:
        """Dated, final tests that found nothing, newest first: a study in `study` reported negative, or a
        Condition in `condition` refuted, unless a later study of the kind was not read as negative."""
        require(study, "value-set")
        require(condition, "value-set")
        negative = [f for f in self.facts if f.negative and f.when is not None and (
            (f.kind in ("DiagnosticReport", "Observation") and f.current and study in f.value_sets)
            or (f.kind == "Condition" and condition in f.value_sets))]
        # The latest report wins: a later study of the same kind not read as negative (an amended report
        # naming a clot, a positive repeat scan) undoes every earlier negative.
        # An amendment stored as its own report may carry the same study time: a tie goes to the one that is
        # not negative (the safe reading).
        later = [f.when for f in self.facts if f.kind in ("DiagnosticReport", "Observation") and not f.negative
                 and f.when is not None and study in f.value_sets]
        return _newest_first(f for f in negative if not any(when >= f.when for when in later))

    def procedures(self, value_set: Name, window: Name | None = None) -> list[Fact]:
        """Done Procedures in the value set, newest first; with a window, only those performed inside it."""
        require(value_set, "value-set")
        return _newest_first(f for f in self.facts if f.kind == "Procedure" and f.current
                             and value_set in f.value_sets and (window is None or self._inside(f, window)))

    def older_than(self, fact: Fact, window: Name) -> bool:
        """The fact began (onset, else first recorded) before the window; undated facts are not."""
        began = fact.onset or fact.when
        return began is not None and began < self.now - self.catalogue.window(window)

    def began_long_ago(self, fact: Fact, *windows: Name) -> bool:
        """The finding's recorded onset lies before every one of these windows, and it did not end inside them:
        a chronic finding re-recorded (a venous swelling of 2023 coded again today), whatever its recordedDate
        says (r36a 006, 012). Without a recorded onset the recordedDate is all the record has: not long ago."""
        if fact.onset is None:
            return False
        start = self.now - max(self.catalogue.window(w) for w in windows)
        return fact.onset < start and not (fact.ended is not None and fact.ended >= start)

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
