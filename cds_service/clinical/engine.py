"""The clinical engine: the catalogue, value sets and card templates loaded and checked once at start-up;
for each request, the record (record/build.py), the rules and the cards."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from ..content import catalogue as names
from .cards import CardTemplates
from ..content.catalogue import Catalogue
from .rules import Finding, Say, evaluate, signals
from ..content.terminology import ValueSets
from ..record import PatientRecord, build_record
from ..record.build import Relevance

REPO_ROOT = Path(__file__).resolve().parents[2]
INCOMPLETE_CHECK = names.topic("incomplete-check")
UNINTERPRETED_NOTE = names.phrase("common", "note.uninterpreted-answer")
PENDING_NOTE, PENDING_ALSO = names.phrase("common", "note.pending-results"), names.phrase("common", "note.pending-also")
AGE_UNKNOWN = names.phrase("common", "note.age-unknown")
# Entries with no code this service reads that name a finding it checks (r31 review S3)
UNREAD_ENTRY, UNREAD_ENTRIES = names.phrase("common", "note.unread-entry"), names.phrase("common", "note.unread-entries")
UNREAD_COUNT = {(kind, many): names.phrase("common", f"unread-entries.{kind}.{'many' if many else 'one'}")
                for kind in ("Condition", "Observation") for many in (False, True)}
UNREAD_AND, UNREAD_MORE = names.phrase("common", "unread-entries.and"), names.phrase("common", "unread-entries.more")
# Entries a rule would read that are not valid FHIR (r38b S6: a heart rate 142 vanished without a word)
MALFORMED = {many: names.phrase("common", f"note.malformed-{'entries' if many else 'entry'}") for many in (False, True)}
MALFORMED_LEAD = {many: names.phrase("common", f"lead.malformed-reading{'s' if many else ''}") for many in (False, True)}
MALFORMED_LEAD_NAMED = names.phrase("common", "lead.malformed-reading.named")
DIED, DIED_ON = names.phrase("incomplete-check", "deceased.undated"), names.phrase("incomplete-check", "deceased.on")
DOUBTFUL_PREGNANCY = names.phrase("common", "note.doubtful-pregnancy")
WHO = {key: names.phrase("common", f"who.{key}") for key in ("male-aged", "aged", "male-undated")}
_QUOTED = 5  # the entries a line quotes; the rest are counted
_RANK = {"critical": 0, "warning": 1, "info": 2}

@dataclass(frozen=True)
class Issued:
    """A card and the finding it was rendered from: topic and indicator are read from the finding."""
    finding: Finding
    card: dict

    @property
    def topic(self) -> str:
        return str(self.finding.topic)

    @property
    def indicator(self) -> str:
        return self.finding.indicator


class ClinicalEngine:
    def __init__(self, valueset_dir: Path | str | None = None, cards_dir: Path | str | None = None):
        cards_folder = Path(cards_dir) if cards_dir else REPO_ROOT / "cards"
        self.catalogue = Catalogue.load(cards_folder)
        self.value_sets = ValueSets.load(Path(valueset_dir) if valueset_dir else REPO_ROOT / "valueset",
                                         self.catalogue.shared_codes)
        self.templates = CardTemplates.load(cards_folder, self.catalogue)
        # Every name a rule declared (at import) must exist in what was just loaded.
        self.catalogue.check(names.declared(), self.value_sets.ids, self.templates.phrases())
        # What a card says when a refining source could not be read (catalogue "refiningSources").
        self.unread = {kind: (topics, names.phrase("common", key))
                       for kind, (topics, key) in self.catalogue.refining_sources.items()}
        # How a card names a resource type it could not read (cards/common.json "source.<type>").
        self.source_names = {key.removeprefix("source."): words for key, words in self.templates.common.items()
                             if key.startswith("source.")}

    def relevant(self, now: datetime):
        """Whether any rule can use a raw resource (or its head: prefetch/lean.py) at `now`."""
        relevance = Relevance(self.value_sets, self.catalogue, now)

        def relevant(raw: dict) -> bool:
            return relevance(raw) is not None
        relevant.long_before = relevance.long_before  # the typed first pass of prefetch/resolve.py
        return relevant

    def record(self, patient: dict, resources: Mapping[str, list], now: datetime,
               unavailable: Mapping[str, str] | None = None, deadline: float | None = None,
               partial: Mapping[str, str] | None = None) -> PatientRecord:
        """The patient's facts from the raw resources the EHR gave (prefetch or fetched); `unavailable`
        names the refining resource types that could not be read."""
        record = build_record(patient, resources, self.value_sets, self.catalogue, now, deadline=deadline)
        record.unavailable = {**dict(unavailable or {}), **record.unavailable}
        record.partial = {kind: why for kind, why in (partial or {}).items() if kind not in record.unavailable}
        return record

    def issue(self, record: PatientRecord) -> list[Issued]:
        """The cards for this record, each with the finding it came from."""
        if record.deceased:
            # A patient recorded as deceased: no clinical card ('start anticoagulation today' is for no one),
            # but not silent either — a death recorded in error must not pass for an all-clear (r34a N2)
            finding = Finding(INCOMPLETE_CHECK, "info", variant="deceased")
            finding.values["died"] = Say(DIED_ON, date=record.died.date().isoformat()) if record.died else Say(DIED)
            return [Issued(finding, self.templates.render(finding, record.patient_id))]
        findings = self._pending(record, self._not_critical_on_guesses(record, evaluate(record)))
        self._ask_first(record, findings)
        for kind in sorted(record.unavailable):
            topics, words = self.unread.get(kind, ((), None))
            for finding in findings:
                if finding.topic in topics:
                    finding.notes.append(Say(words))
        if record.age is None:
            # No birth date: the rules read the adult thresholds; the card says so (r31 W3: silent before)
            for finding in findings:
                finding.notes.append(Say(AGE_UNKNOWN))
        incomplete = self._incomplete_check(record, findings)
        if incomplete and incomplete.indicator == "warning":
            # The record's core could not be read: every card below rests on part of it, and the checks that read
            # the missing part (the PE rule's vital signs) did not run. It leads every card but a critical one,
            # so that the first lines say so (r38b S4: a hook out of time led with a Wells-0 DVT warning)
            at = sum(1 for f in findings if f.indicator == "critical")
            findings.insert(at, incomplete)
        elif incomplete:
            findings.append(incomplete)
        if record.malformed:
            # Never silent: a resource a rule would read that is not valid FHIR is named on every card; with no
            # card, on a warning of its own (a red flag may be in it)
            texts = _quoted(record.malformed)
            line = Say(MALFORMED[len(record.malformed) > 1], count=len(record.malformed), texts=texts)
            if not findings:
                finding = Finding(INCOMPLETE_CHECK, "warning", variant="malformed-entries")
                finding.values.update({"line": line, "count": len(record.malformed), "texts": texts})
                findings.append(finding)
            else:
                # first on every card; an unread reading may hold the value that decides the urgency, so the top
                # card's summary opens with it too (r41 S3: SpO₂ 85 % timed '22/11/2026 09:00' sat below the steps)
                for finding in findings:
                    finding.notes.insert(0, line)
                readings = [e.short for e in record.malformed if e.kind == "Observation"]
                if readings and findings[0].leads_with is None:
                    generic = Say(MALFORMED_LEAD[len(readings) > 1])
                    findings[0].leads_with = (Say(MALFORMED_LEAD_NAMED, text=readings[0]), generic) \
                        if len(readings) == 1 else generic
        if record.unread_entries:
            # Never silent: every card says what it could not read; with no card, an incomplete-check card does
            line, entries, texts = self._unread_line(record)
            if findings:
                for finding in findings:
                    finding.notes.append(line)
            else:
                # the only card: a warning, so that it is seen (r32 S6: a local-coded 'Temp' 39.1 was a quiet info)
                finding = Finding(INCOMPLETE_CHECK, "warning", variant="unread-entries")
                finding.values.update({"line": line, "entries": entries, "texts": texts})
                findings.append(finding)
        return [Issued(finding, self.templates.render(finding, record.patient_id)) for finding in findings]

    @staticmethod
    def _not_critical_on_guesses(record: PatientRecord, findings: list[Finding]) -> list[Finding]:
        """A card that is critical only because of answers the reader could not interpret (counted by the
        fail-safe, so that no red flag is hidden) is kept, as a warning that says so: the record alone does
        not make it critical, and an alarm on an unread "Settled" trains clinicians to ignore the real ones
        (r16-r19 reviews). Decided by evaluating the record again without those answers."""
        if not any(f.indicator == "critical" for f in findings) or not any(f.uninterpreted for f in record.facts):
            return findings
        strict = evaluate(replace(record, facts=[f for f in record.facts if not f.uninterpreted]))
        critical_anyway = {f.topic for f in strict if f.indicator == "critical"}
        for finding in findings:
            if finding.indicator == "critical" and finding.topic not in critical_anyway:
                finding.indicator = "warning"
                # The summary opens with what to ask (r27 W1, r28 W1): the findings the unread answers are about
                unread = [f for f in record.facts if f.uninterpreted and f.evidence in finding.evidence]
                finding.ask_first = _asked_about(record, unread)
                finding.notes.insert(0, Say(UNINTERPRETED_NOTE))
        return sorted(findings, key=lambda f: (_RANK[f.indicator], f.follows))

    @staticmethod
    def _ask_first(record: PatientRecord, findings: list[Finding]) -> None:
        """What a card rests on but the record cannot vouch for is asked in its first line, whatever its
        indicator (r38a F6: a pregnancy status 'LMP 2026-11-08', not interpreted, set the pregnancy pathway and
        was asked only in the evidence list): an answer not interpreted, and pregnancy evidence the record makes
        implausible (signals.doubtful_pregnancy: not the pregnancy pathway; the cards that read pregnancy,
        recordHygiene doubtfulPregnancyAsked, name it and say what it would change)."""
        doubtful = signals.doubtful_pregnancy(record)
        for finding in findings:
            if doubtful and finding.topic in record.catalogue.hygiene["doubtfulPregnancyAsked"]:
                finding.add(doubtful)
                finding.notes.insert(0, Say(DOUBTFUL_PREGNANCY, who=_who(record)))
                finding.ask_first = finding.ask_first or _asked_about(record, doubtful)
            unread = [f for f in record.facts if f.uninterpreted and f.evidence in finding.evidence]
            if unread and not finding.ask_first:
                finding.ask_first = _asked_about(record, unread)

    @staticmethod
    def _pending(record: PatientRecord, findings: list[Finding]) -> list[Finding]:
        """Results not yet final are not scored (KB §8.6), but never silent (catalogue recordHygiene
        pendingResultStatus): the record is evaluated again with them read as final, and where that changes
        the answer, its cards are the answer — one coherent set, its give-way rules applied (r32 F4: a pending
        pregnancy test beside both the D-dimer card and the pregnancy card). A card they raise or make more
        urgent is at most a warning and opens with them; a card the final results already make critical keeps
        that, with what the pending ones add (r32 S7: a pending SpO₂ 82 % beside a critical PE card)."""
        # A pending reading a later final one of the same measurement has superseded is no news (r33 F2:
        # SpO₂ 85 % preliminary, then 97 % validated two hours later, still read 'admission now')
        final = [f for f in record.facts if f.current and f.quantity and f.kind == "Observation"]
        live = [f for f in record.facts if f.pending and not (f.quantity and any(
            g.value_sets == f.value_sets and g.when and f.when and g.when > f.when for g in final))]
        pending = [f.evidence for f in live]
        if not pending:
            return findings
        as_record = replace(record, facts=[replace(f, current=True) if f in live else f for f in record.facts])
        as_final = ClinicalEngine._not_critical_on_guesses(as_record, evaluate(as_record))
        if not any(e in f.evidence for f in as_final for e in pending):
            return findings
        shown = {f.topic: f for f in findings}
        answer = []
        for finding in as_final:
            now = shown.get(finding.topic)
            if not any(e in finding.evidence for e in pending) or (
                    now is not None and now.variant == finding.variant and _RANK[now.indicator] <= _RANK[finding.indicator]):
                answer.append(now or finding)  # the final results already say as much
                continue
            if now is not None and now.indicator == finding.indicator and now.indicator != "critical":
                # As urgent either way: pending results only raise a card, never settle one (r33 S5: a
                # preliminary negative D-dimer read 'DVT unlikely'); the card names them
                now.notes.insert(0, Say(PENDING_ALSO))
                now.evidence += [e for e in finding.evidence if e in pending and e not in now.evidence]
                answer.append(now)
                continue
            raised = "warning" if finding.indicator == "critical" else finding.indicator
            finding.pending = True  # its summary opens with "Preliminary results"
            if now is not None and _RANK[now.indicator] < _RANK[raised]:
                finding.indicator = now.indicator  # critical on final results: stays so, with what is pending
                finding.notes.insert(0, Say(PENDING_ALSO))
            else:
                finding.indicator = raised
                finding.notes.insert(0, Say(PENDING_NOTE))
            answer.append(finding)
        order = {topic: index for index, topic in enumerate(record.catalogue.clinical_topics)}
        return sorted(answer, key=lambda f: (_RANK[f.indicator], f.follows, order.get(f.topic, len(order))))  # card order

    @staticmethod
    def _unread_line(record: PatientRecord) -> tuple[Say, Say, Say | str]:
        """The line saying which entries were not read by code: how many of each kind, and their words."""
        counts = {kind: sum(1 for e in record.unread_entries if e.kind == kind) for kind in ("Condition", "Observation")}
        parts = [Say(UNREAD_COUNT[(kind, count > 1)], count=count) for kind, count in counts.items() if count]
        entries = parts[0] if len(parts) == 1 else Say(UNREAD_AND, first=parts[0], second=parts[1])
        texts = _quoted(record.unread_entries)
        many = len(record.unread_entries) > 1
        return Say(UNREAD_ENTRIES if many else UNREAD_ENTRY, entries=entries, texts=texts), entries, texts

    def _incomplete_check(self, record: PatientRecord, findings: list[Finding]) -> Finding | None:
        """One card when a source the catalogue announces could not be read, or was read only in part
        (a newest-first search cut short): a check that could not run must not look like an all-clear (CDS
        Hooks clients show no cards as "all clear"). Information, but a warning when the record's core (its
        Conditions or Observations) could not be read at all, naming the vital signs read at an
        immediate-admission level that no other card shows (r34b W1: SpO₂ 85 %, heart rate 140 beside an
        unreadable problem list were an info card naming none)."""
        unread = sorted(kind for kind in record.unavailable if kind in self.catalogue.announced_sources)
        partial = sorted(kind for kind in record.partial if kind in self.catalogue.announced_sources)
        if not unread and not partial:
            return None
        checks = [t for t in self.catalogue.clinical_topics
                  if any(t in self.catalogue.refining_sources[kind][0] for kind in unread + partial)]
        name = self.source_names.get
        core = bool(self.catalogue.core_sources & set(unread))
        finding = Finding(INCOMPLETE_CHECK, "warning" if core else "info", variant="default" if unread else "partial")
        if core:
            shown = {e for f in findings for e in f.evidence}
            # the PE rule's immediate-admission levels (a child's: NG51's high-risk values for the age)
            levels = signals.at_admission_level(record, {m for m, _, _ in signals.ADMISSION_LEVEL}) \
                if signals.adult_physiology(record) else signals.paediatric_high_risk(record)
            vital = list(dict.fromkeys(f for f in levels + signals.too_cold(record) if f.evidence not in shown))
            if vital:
                finding.variant = "admission-level"
                finding.add(vital)
        finding.values.update({
            "unread": ", ".join(name(kind, kind) for kind in unread + partial),
            "partial": ", ".join(name(kind, kind) for kind in partial),
            "why": "; ".join([f"{name(kind, kind)}: {record.unavailable[kind]}" for kind in unread]
                             + [f"{name(kind, kind)}: {record.partial[kind]}" for kind in partial]),
            "checks": ", ".join(self.templates.topics[t]["display"] for t in checks),
        })
        return finding


def _quoted(entries) -> Say | str:
    """Entries' words as a card quotes them: each once, the first few, the rest counted."""
    quoted = list(dict.fromkeys(e.text for e in entries))
    texts = ", ".join(f"‘{text}’" for text in quoted[:_QUOTED])
    return Say(UNREAD_MORE, texts=texts, count=len(quoted) - _QUOTED) if len(quoted) > _QUOTED else texts


def _asked_about(record: PatientRecord, facts) -> tuple[str, ...] | bool:
    """The findings a card's first line asks about (catalogue absentAnswers findingWords and askAbout), or
    True: ask, without a name."""
    groups = [(g.finding, g.value_sets) for g in record.catalogue.finding_words] + list(record.catalogue.ask_about)
    return tuple(dict.fromkeys(name for f in facts for name, sets in groups if sets & f.value_sets)) or True


def _who(record: PatientRecord) -> Say:
    """Why the record makes its pregnancy implausible, in the card's words."""
    if record.age is not None and record.age >= record.threshold(signals.PREGNANCY_POSSIBLE_AGE):
        return Say(WHO["male-aged" if record.sex == "male" else "aged"], age=record.age)
    return Say(WHO["male-undated"])
