"""The clinical catalogue (cards/catalogue.json) and the names the rules declare.

A rule never reads a value set, window, threshold, score item or phrase by a bare string: it declares the
name once at import (`LEG_SWELLING = value_set("leg-swelling")`), and the record and card renderer accept
only declared names. Start-up checks every declared name against what was loaded (the catalogue, the
value sets, the card topics), so removing a window, a threshold, a value set or a phrase that a rule uses
stops the service instead of silently never firing.
"""
from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from jsonschema import Draft202012Validator

DEFAULT_CARDS_DIR = Path(__file__).resolve().parents[2] / "cards"

_DECLARED: set[tuple[str, str, str]] = set()  # (kind, scope, key) of every name a rule module declared


@dataclass(frozen=True)
class FindingWords:
    """The words (beginnings) of one finding that flowsheets answer in text, and the value sets whose
    Observations ask about it; red_flag: stated in another finding's answer it is never set aside, but read
    as this finding's own answer, unless a not_beside word says it may be something else ('chest wall')."""
    finding: str
    value_sets: frozenset[str]
    red_flag: bool
    stems: tuple[str, ...]
    not_beside: frozenset[str] = frozenset()
    episodic: bool = False  # an event (coughing blood, a faint): once it happened in the presentation, it counts
    baseline: tuple[str, ...] = ()  # clauses saying the finding is at the person's usual level ("unchanged")
    baseline_tails: tuple[str, ...] = ()  # how a clause may end saying so ("... as normal for her")
    not_baseline: tuple[str, ...] = ()  # words that make it new again ("worse than usual", "since today")


@dataclass(frozen=True)
class GiveWay:
    """One give-way rule of the catalogue: a card of `when` (of one of `variants`, if any) makes the cards
    of `yields` give way; with only_if_shown, only when the leading card shows every finding the lesser one
    rests on; `line` is a phrase of the leading topic added in its place, and with list_basis the findings
    the lesser card rested on are listed there too (a DVT beside a known PE, a calf strain: r34a F7, W3). A rule with `when_indicator` instead
    of `when` is led by the first card of that urgency, whatever its topic ("critical": r31 review F4); its
    line is then a phrase of cards/common.json. A line may name the topics that gave way ({topics})."""
    when: str | None
    variants: frozenset[str]
    yields: tuple[str, ...]
    only_if_shown: bool
    line: str | None
    why: str
    when_indicator: str | None = None
    list_basis: bool = False  # the lesser card's basis is listed on the leading card with the line

    @property
    def line_scope(self) -> str:
        """The topic whose phrases hold `line` ("common" for a rule led by an urgency)."""
        return self.when or "common"


@dataclass(frozen=True)
class OneInfoCard:
    """cards/catalogue.json "oneInfoCard" (r31 review F4): when more than one card of `topics` would be
    shown, one leads and the others give way to a line naming them (`line`, a phrase of cards/common.json),
    their entries listed on it. The leader: a card resting on a diagnosis recorded within the window
    `new_first_within` first, then the order of `topics`."""
    topics: tuple[str, ...]
    new_first_within: str
    line: str
    why: str


class Name(str):
    """A declared name: a str (it keys dicts and formats as itself) that knows what kind of thing it names."""
    kind: str
    scope: str

    def __new__(cls, kind: str, key: str, scope: str = ""):
        name = super().__new__(cls, key)
        name.kind, name.scope = kind, scope
        _DECLARED.add((kind, scope, key))
        return name


def value_set(key: str) -> Name:
    return Name("value-set", key)


def measurement(key: str) -> Name:
    """A value set read as a measurement, in the window the catalogue's "measurements" gives it."""
    return Name("measurement", key)


def window(key: str) -> Name:
    return Name("window", key)


def threshold(key: str) -> Name:
    return Name("threshold", key)


def topic(key: str) -> Name:
    return Name("topic", key)


def score_item(score: str, key: str) -> Name:
    return Name("score-item", key, score)


def phrase(topic_key: str, key: str) -> Name:
    """Words of one card topic (cards/topics/<topic>.json "phrases"), or of every card ("common")."""
    return Name("phrase", key, topic_key)


def require(name: object, kind: str) -> str:
    if not isinstance(name, Name) or name.kind != kind:
        raise TypeError(f"rules read a {kind} through a declared name, not {name!r}")
    return name


def declared() -> frozenset[tuple[str, str, str]]:
    return frozenset(_DECLARED)


def check_against_schema(validator: Draft202012Validator, data: object, name: str) -> None:
    """Stop start-up at a clinical content file's first error against its schema, saying where."""
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path)
        raise ValueError(f"{name}: {where}: {errors[0].message}")


def _entries(mapping: dict) -> dict:
    return {key: value for key, value in mapping.items() if not key.startswith("$")}


@dataclass(frozen=True)
class Threshold:
    value: Decimal
    unit: str
    source: str


@dataclass(frozen=True)
class Score:
    items: dict[str, dict]  # key -> {"points", "scored" words, "unknown" words}
    bedside: tuple[str, ...]
    topic: str
    source: str


@dataclass(frozen=True)
class AnticoagulantDrug:
    """One anticoagulant the rules tell apart (catalogue textMatches anticoagulants.drugs)."""
    key: str
    drug_class: str  # doac | vka
    rxnorm: frozenset[str]
    words: tuple[str, ...]
    avoid_in: frozenset[str]  # pregnancy, antiphospholipid-syndrome
    egfr_below: str | None  # a threshold key


class Catalogue:
    def __init__(self, data: dict):
        self.topics: list[dict] = data["topics"]
        self.rank = {entry["topic"]: i for i, entry in enumerate(self.topics)}
        self.variants = {entry["topic"]: tuple(entry["variants"]) for entry in self.topics}
        self.windows = {key: timedelta(days=w.get("days", 0), hours=w.get("hours", 0))
                        for key, w in _entries(data["windows"]).items()}
        self.window_words = {key: w["describes"] for key, w in _entries(data["windows"]).items()}
        self.measurements: dict[str, str] = _entries(data["measurements"])
        self.plausible_ranges: dict[str, dict] = _entries(data["plausibleRanges"])
        self.thresholds = {key: Threshold(Decimal(str(t["value"])), t["unit"], t["source"])
                           for key, t in data["thresholds"].items()}
        self.scores = {key: Score(dict(s["items"]), tuple(s["bedside"]), s["topic"], s["source"])
                       for key, s in data["scores"].items()}
        self.high_flags = frozenset(data["labFlags"]["high"])
        self.normal_flags = frozenset(data["labFlags"]["normal"])
        self.hygiene = {key: frozenset(values) for key, values in _entries(data["recordHygiene"]).items()}
        self.confirmation_read = frozenset(data["confirmationRead"])
        self.give_way = tuple(GiveWay(r.get("when"), frozenset(r.get("variants", ())), tuple(r["yields"]),
                                      r.get("onlyIfShown", False), r.get("line"), r["why"], r.get("whenIndicator"),
                                      r.get("listBasis", False))
                              for r in data["giveWay"]["rules"])
        one = data["oneInfoCard"]
        self.one_info_card = OneInfoCard(tuple(one["topics"]), one["newFirstWithin"], one["line"], one["why"])
        # Topics of an acute injury: the card needs the injury recent (clinical/rules/musculoskeletal.py)
        self.acute_injury_topics = frozenset(data["acuteInjury"]["topics"])
        self.acute_injury_why = data["acuteInjury"]["why"]
        self.refining_sources = {kind: (frozenset(source["topics"]), source["phrase"])
                                 for kind, source in _entries(data["refiningSources"]).items()}
        self.announced_sources = frozenset(kind for kind, source in _entries(data["refiningSources"]).items()
                                           if source.get("announce"))
        # the record's core (its loss is a warning) and where anticoagulant orders are (r34b W1, W2)
        self.core_sources = frozenset(kind for kind, source in _entries(data["refiningSources"]).items()
                                      if source.get("warning"))
        self.treatment_sources = frozenset(kind for kind, source in _entries(data["refiningSources"]).items()
                                           if source.get("treatment"))
        self.clinical_topics = tuple(entry["topic"] for entry in self.topics if entry.get("clinical", True))
        self.absent_answers = frozenset((c["system"], c["code"]) for c in data["absentAnswers"]["codes"])
        self.absent_words = frozenset(data["absentAnswers"].get("words", ()))
        self.absent_starts = tuple(data["absentAnswers"].get("startWords", ()))
        self.answer_leads = tuple(data["absentAnswers"].get("leadWords", ()))
        self.normal_end_words = frozenset(data["absentAnswers"].get("normalEndWords", ()))
        self.absent_tail_words = tuple(data["absentAnswers"].get("absentTailWords", ()))
        self.absent_contrasts = tuple(data["absentAnswers"].get("contrastWords", ()))
        self.normal_functions = tuple(data["absentAnswers"].get("normalFunctionWords", ()))
        self.recurrence_words = tuple(data["absentAnswers"].get("recurrenceWords", ()))
        self.ischaemic_signs = {kind: tuple(words) for kind, words in data["absentAnswers"].get("ischaemicSigns", {}).items()}
        self.hot_joint_words = {kind: tuple(words) for kind, words in data["absentAnswers"].get("hotJointWords", {}).items()}
        self.not_finding_phrases = tuple(data["absentAnswers"].get("notFindingPhrases", ()))
        self.hot_joint_not_with = tuple(data["absentAnswers"].get("hotJointNotWith", ()))
        self.hot_joint_other_parts = tuple(data["absentAnswers"].get("hotJointOtherParts", ()))
        self.hot_joint_knee_words = tuple(data["absentAnswers"].get("hotJointKneeWords", ()))
        self.knee_drainage_words = tuple(data["absentAnswers"].get("kneeDrainageWords", ()))
        self.bruise_words = tuple(data["absentAnswers"].get("bruiseWords", ()))  # r36a 080
        self.bruise_colour_words = tuple(data["absentAnswers"].get("bruiseColourWords", ()))
        self.ischaemic_signs_not_after = tuple(data["absentAnswers"].get("ischaemicSignsNotAfter", ()))
        self.list_statement_words = tuple(data["absentAnswers"].get("listStatementWords", ()))
        self.near_denials = tuple(data["absentAnswers"].get("nearDenials", ()))
        self.leg_dvt_words = {kind: tuple(words) for kind, words in data["absentAnswers"].get("legDvtWords", {}).items()}
        self.leg_dvt_not_with = tuple(data["absentAnswers"].get("legDvtNotWith", ()))
        self.pulse_words = tuple(data["absentAnswers"].get("pulseWords", ()))
        self.pulse_loss_words = tuple(data["absentAnswers"].get("pulseLossWords", ()))
        self.pulse_loss_leads = tuple(data["absentAnswers"].get("pulseLossLeads", ()))
        self.pulse_loss_not_before = tuple(data["absentAnswers"].get("pulseLossNotBefore", ()))
        self.present_phrases = tuple(data["absentAnswers"].get("presentPhrases", ()))
        self.finding_stems = tuple(data["absentAnswers"].get("findingStems", ()))
        self.finding_noun_stems = tuple(data["absentAnswers"].get("findingNounStems", ()))
        self.intensifier_starts = tuple(data["absentAnswers"].get("intensifierStarts", ()))
        self.history_words = tuple(data["absentAnswers"].get("historyWords", ()))
        self.recent_time_words = tuple(data["absentAnswers"].get("recentTimeWords", ()))
        self.prior_episode_words = tuple(data["absentAnswers"].get("priorEpisodeWords", ()))
        self.episode_over_words = tuple(data["absentAnswers"].get("episodeOverWords", ()))
        self.course_denied_replies = frozenset(data["absentAnswers"].get("courseDeniedReplies", ()))
        self.course_asked_words = frozenset(data["absentAnswers"].get("courseAskedWords", ()))
        self.negation_words = frozenset(data["absentAnswers"].get("negationWords", ()))
        self.resolved_words = frozenset(data["absentAnswers"].get("resolvedWords", ()))
        self.changed_words = tuple(data["absentAnswers"].get("changedWords", ()))
        self.continuing_denials = tuple(data["absentAnswers"].get("continuingDenials", ()))
        self.finding_words = tuple(FindingWords(g["finding"], frozenset(g["valueSets"]), g["redFlag"], tuple(g["stems"]),
                                                frozenset(g.get("notBeside", ())), g.get("episodic", False),
                                                tuple(g.get("baselineClauses", ())), tuple(g.get("baselineTails", ())),
                                                tuple(g.get("notBaselineWords", ())))
                                   for g in data["absentAnswers"].get("findingWords", ()))
        self.ask_about = tuple((g["finding"], frozenset(g["valueSets"])) for g in data["absentAnswers"].get("askAbout", ()))
        self.function_negations = tuple(data["absentAnswers"].get("functionNegations", ()))
        self.unknown_answers = frozenset((c["system"], c["code"]) for c in data["absentAnswers"].get("unknownCodes", ()))
        self.unknown_words = frozenset(data["absentAnswers"].get("unknownWords", ()))
        self.unknown_starts = tuple(data["absentAnswers"].get("unknownStartWords", ()))
        self.present_answers = frozenset((c["system"], c["code"]) for c in data["absentAnswers"].get("presentCodes", ()))
        self.present_words = frozenset(data["absentAnswers"].get("presentWords", ()))
        rules = {key: rule for key, rule in data["siteRules"].items() if key != "$comment"}
        self.site_rules = {key: frozenset(rule["removes"]) for key, rule in rules.items() if "removes" in rule}
        self.site_gives = {key: (rule["from"], frozenset(rule["adds"])) for key, rule in rules.items() if "adds" in rule}
        self.site_texts = {key: (tuple(rule["textWords"]), tuple(rule.get("unlessTextWords", ())),
                                 tuple(rule.get("sameBothSidesWords", ())))
                           for key, rule in rules.items() if "textWords" in rule and "removes" in rule}
        # Entries the service cannot read by code whose words name a finding it checks (r31 review S3)
        unread = data.get("unreadEntries", {})
        self.unread_windows: dict[str, str] = dict(unread.get("windows", {}))
        self.unread_not_by_display = frozenset(unread.get("notByDisplay", ()))
        self.unread_except_stems = frozenset(unread.get("exceptStems", ()))
        self.unread_whole_word_stems = frozenset(unread.get("wholeWordStems", ()))
        self.unread_not_words = tuple(unread.get("notWords", ()))
        self.unread_measurement_words = {key: tuple(words) for key, words in unread.get("measurementWords", {}).items()}
        # What an unread entry must name to be named (r34a F1, r34b S2): see the catalogue's comments there
        self.unread_diagnoses: dict[str, str] = dict(unread.get("diagnoses", {}))
        self.unread_clot_window: str | None = unread.get("clotWindow")
        self.unread_named_beyond = {vs: {side: tuple(keys) for side, keys in sides.items()}
                                    for vs, sides in unread.get("namedBeyond", {}).items()}
        entry = unread.get("entryCondition", {})
        self.unread_entry_condition = (frozenset(entry.get("valueSets", ())), tuple(entry.get("words", ())))
        self.unread_oedema_cause: str | None = unread.get("oedemaExplainedBy")
        coded = unread.get("codedOutsideValueSets", {})
        self.unread_coded_window: str | None = coded.get("window")
        self.unread_coded_hot_kinds = frozenset(coded.get("hotJointKinds", ()))
        self.unread_coded_clot_places = tuple(coded.get("clotPlaceWords", ()))
        # The words that name a leg (siteRules: an arm's words do not move a text that names one of these)
        self.lower_limb_words = tuple(rules.get("upper-limb-site", {}).get("unlessTextWords", ()))
        self.shared_codes = [(frozenset(s["valueSets"]), s["default"]) for s in data["sharedCodes"]]
        self.text_matches = {key: tuple(m["words"]) for key, m in data["textMatches"].items()}
        self.text_excludes = {key: tuple(m.get("excludeWords", ())) for key, m in data["textMatches"].items()}
        self.gestation_words = tuple(w for m in data["textMatches"].values() for w in m.get("gestationWords", ()))
        self.postpartum_words = tuple(w for m in data["textMatches"].values() for w in m.get("postpartumWords", ()))
        self.not_pregnant_words = tuple(w for m in data["textMatches"].values() for w in m.get("notPregnantWords", ()))
        self.held_phrases = tuple(data["textMatches"]["anticoagulants"].get("heldPhrases", ()))
        self.unless_held_phrases = tuple(data["textMatches"]["anticoagulants"].get("unlessHeldPhrases", ()))
        self.not_started_phrases = tuple(data["textMatches"]["anticoagulants"].get("notStartedPhrases", ()))
        self.text_lists = {key: {name: tuple(m[name]) for name in m if isinstance(m[name], list)}
                           for key, m in data["textMatches"].items()}
        self.prophylactic_doses = {medicine: tuple(doses) for medicine, doses in
                                   data["textMatches"]["prophylactic-strength"]["doses"].items()}
        strength = data["textMatches"]["prophylactic-strength"]
        self.treatment_above = {medicine: _amount(dose) for medicine, dose in strength.get("treatmentAbove", {}).items()}
        self.treatment_per_kg = {medicine: _amount(dose)
                                 for medicine, dose in strength.get("treatmentPerKgFrom", {}).items()}
        # Which anticoagulant a medicine is, and where it conflicts with the patient (r38b S3): Fact.drug
        self.anticoagulant_drugs = {key: AnticoagulantDrug(key, d["class"], frozenset(d.get("rxnorm", ())),
                                                           tuple(d["words"]), frozenset(d.get("avoidIn", ())),
                                                           d.get("egfrBelow"))
                                    for key, d in data["textMatches"]["anticoagulants"].get("drugs", {}).items()}
        self.prophylaxis = {key: (tuple(m["prophylaxisWords"]), tuple(m.get("prophylaxisOnlyFor", ())))
                            for key, m in data["textMatches"].items() if "prophylaxisWords" in m}
        # Cards of a native knee joint: not for a replaced knee (clinical/rules/musculoskeletal.py).
        self.native_joint_only = frozenset(data["replacedKnee"]["nativeJointOnly"])
        self.native_joint_why = data["replacedKnee"]["why"]
        paediatric = _entries(data["paediatric"])
        self.paediatric_bands = sorted(paediatric["bands"], key=lambda band: band["underAge"])
        self.paediatric_saturation = Decimal(str(paediatric["oxygen-saturation"]))
        self.paediatric_source = paediatric["source"]

    @classmethod
    def load(cls, folder: Path) -> "Catalogue":
        data = json.loads((folder / "catalogue.json").read_text(encoding="utf-8"))
        schema = json.loads((folder / "catalogue.schema.json").read_text(encoding="utf-8"))
        check_against_schema(Draft202012Validator(schema), data, "cards/catalogue.json")
        catalogue = cls(data)
        catalogue._check_internal()
        return catalogue

    @property
    def topic_order(self) -> tuple[str, ...]:
        """The card topics most urgent first, as the catalogue lists them."""
        return tuple(self.variants)

    def paediatric_band(self, age: int) -> dict | None:
        """The NG51 high-risk band for a child's age, or None from the oldest band's age on."""
        return next((band for band in self.paediatric_bands if age < band["underAge"]), None)

    def paediatric_sepsis_saturation(self, age: int) -> Decimal | None:
        """NG51's high-risk SpO2 for the age (below it: a high-risk sign of sepsis), or None where the band
        gives none (from 12 NG51 reads an oxygen need instead)."""
        band = self.paediatric_band(age)
        value = band.get("oxygen-saturation") if band else None
        return None if value is None else Decimal(str(value))

    def window(self, name: Name) -> timedelta:
        return self.windows[require(name, "window")]

    def threshold(self, name: Name) -> Decimal:
        return self.thresholds[require(name, "threshold")].value

    def points(self, item: Name) -> int:
        require(item, "score-item")
        return self.scores[item.scope].items[item]["points"]

    def _check_internal(self) -> None:
        for value_set, window_key in self.measurements.items():
            if window_key not in self.windows:
                raise ValueError(f"cards/catalogue.json: measurement {value_set} is read in unknown window {window_key!r}")
        if self.one_info_card.new_first_within not in self.windows:
            raise ValueError(f"cards/catalogue.json: oneInfoCard reads unknown window {self.one_info_card.new_first_within!r}")
        for kind, window_key in [*self.unread_windows.items(), *self.unread_diagnoses.items(),
                                 ("clotWindow", self.unread_clot_window), ("codedOutsideValueSets", self.unread_coded_window)]:
            if window_key is not None and window_key not in self.windows:
                raise ValueError(f"cards/catalogue.json: unreadEntries reads {kind} in unknown window {window_key!r}")
        for vs, sides in self.unread_named_beyond.items():
            unknown = [key for keys in sides.values() for key in keys if key not in self.thresholds]
            if vs not in self.measurements or unknown:
                raise ValueError(f"cards/catalogue.json: unreadEntries namedBeyond {vs}: not a measurement, or unknown thresholds {unknown}")
        for drug in self.anticoagulant_drugs.values():
            if drug.egfr_below is not None and drug.egfr_below not in self.thresholds:
                raise ValueError(f"cards/catalogue.json: anticoagulant {drug.key} reads unknown threshold {drug.egfr_below!r}")
        for name, score in self.scores.items():
            if score.topic not in self.variants:
                raise ValueError(f"cards/catalogue.json: score {name} is shown on {score.topic!r}, not a topic")
            unknown = set(score.bedside) - set(score.items)
            if unknown:
                raise ValueError(f"cards/catalogue.json: score {name} lists bedside items it does not score: {sorted(unknown)}")

    def check(self, declared_names, value_set_ids: frozenset[str], phrases: dict[str, dict]) -> None:
        """Start-up: every name a rule declared exists; every topic's words cover what the rules say."""
        have = {
            "value-set": lambda scope, key: key in value_set_ids,
            "measurement": lambda scope, key: key in value_set_ids and key in self.measurements,
            "window": lambda scope, key: key in self.windows,
            "threshold": lambda scope, key: key in self.thresholds,
            "topic": lambda scope, key: key in self.variants,
            "score-item": lambda scope, key: scope in self.scores and key in self.scores[scope].items,
            "phrase": lambda scope, key: key in phrases.get(scope, {}),
        }
        missing = sorted(f"{kind} {scope + ':' if scope else ''}{key}" for kind, scope, key in declared_names
                         if not have[kind](scope, key))
        missing += sorted(f"value-set {vs} (catalogue)" for vs in {*self.measurements, *self.plausible_ranges, *self.confirmation_read,
                          *(v for pair, _ in self.shared_codes for v in pair),
                          *self.site_rules, *(v for removed in self.site_rules.values() for v in removed),
                          *self.site_gives, *(v for source, adds in self.site_gives.values() for v in (source, *adds)),
                          *(v for group in self.finding_words for v in group.value_sets),
                          *(v for _, sets in self.ask_about for v in sets),
                          *self.unread_not_by_display, *self.unread_diagnoses, *self.unread_entry_condition[0],
                          *([self.unread_oedema_cause] if self.unread_oedema_cause else [])}
                     if vs not in value_set_ids)
        missing += sorted(f"giveWay: topic {t}" for rule in self.give_way for t in (rule.when, *rule.yields)
                          if t is not None and t not in self.variants)
        missing += sorted(f"giveWay: phrase {rule.line_scope}:{rule.line}" for rule in self.give_way
                          if rule.line and rule.line not in phrases.get(rule.line_scope, {}))
        missing += sorted(f"giveWay: variant {rule.when}:{v}" for rule in self.give_way for v in rule.variants
                          if v not in self.variants.get(rule.when, ()))
        missing += sorted(f"oneInfoCard: topic {t}" for t in self.one_info_card.topics if t not in self.variants)
        if self.one_info_card.line not in phrases.get("common", {}):
            missing.append(f"oneInfoCard: phrase common:{self.one_info_card.line}")
        missing += sorted(f"acuteInjury: topic {t}" for t in self.acute_injury_topics if t not in self.variants)
        missing += sorted(f"unreadEntries measurementWords: measurement {vs}" for vs in self.unread_measurement_words
                          if vs not in self.measurements)
        missing += sorted(f"replacedKnee: topic {t}" for t in self.native_joint_only if t not in self.variants)
        missing += sorted(f"refiningSources {kind}: topic {t}" for kind, (topics, _) in self.refining_sources.items()
                          for t in topics if t not in self.variants)
        missing += sorted(f"refiningSources {kind}: phrase common:{key}" for kind, (_, key) in self.refining_sources.items()
                          if key not in phrases.get("common", {}))
        if missing:
            raise ValueError(f"the rules name what the catalogue, valueset/ or cards/ lack: {missing}")


def compiled_once(catalogue: Catalogue, compile_: Callable[[Catalogue], dict]) -> dict:
    """compile_(catalogue), built on first use and kept with the catalogue (which is never changed after
    loading): the readers turn its word lists into some 1,400 escaped patterns, 2 ms that every request paid."""
    cache = catalogue.__dict__.setdefault("_compiled", {})
    found = cache.get(compile_)
    if found is None:
        found = cache[compile_] = compile_(catalogue)
    return found


@functools.lru_cache(maxsize=1)
def default_catalogue() -> Catalogue:
    """The shipped catalogue (cards/ of this checkout), loaded once: for tools and tests that need the card
    order without an app."""
    return Catalogue.load(DEFAULT_CARDS_DIR)


def _amount(text: str) -> tuple[Decimal, str]:
    """"40 mg" -> (Decimal("40"), "mg"); "5000 units" -> (Decimal("5000"), "units")."""
    value, unit = text.split()
    return Decimal(value), unit
