"""Reading an imaging report's conclusion, which radiologists write as text (KB §8.7): is it negative for a
clot, and which leg does it speak of. The words are the catalogue's ("negative-imaging", "report-side").

Every sentence must be recognised for the report to be negative: a sentence the reader cannot place makes
the report UNREAD (a card says: read it now), one that names or describes a clot makes it POSITIVE. A word
list decides only what is recognised as harmless, never what may be ignored."""
from __future__ import annotations

import re

from ..content.catalogue import Catalogue, threshold, value_set
from .words import alternatives

LEFT, RIGHT, BILATERAL = value_set("left-site"), value_set("right-site"), value_set("bilateral-site")
SVT_JUNCTION_DISTANCE = threshold("svt-junction-distance")
_SENTENCES = re.compile(r"(?:[.;\n]|\bbut\b)+(?!\d)")  # "3.2 cm" stays one sentence
# "Normal opacification, no filling defect" / "... with no filling defect": two statements.
_CLAUSES = re.compile(r"\s*,\s*(?=(?:no|nil|normal|without|which)\b)|\s+with\s+(?=(?:no|nil)\b)")
NEGATIVE, POSITIVE, UNREAD = "negative", "positive", "unread"
SUPERFICIAL = "superficial"  # no DVT, and a superficial vein thrombosis shown (catalogue "$superficialComment")
_NEGATED_UNREAD = "negated-unread"  # a negated clot the reader cannot close: "No definite PE", "No central PE"
_SCOPE = "scope"  # "Calf veins not visualised": the study's scope, about no clot (catalogue "$scopeComment")
_LIMITED = "limited"  # "Limited study due to body habitus": which veins were limited, another sentence says
_LIST_MARK = re.compile(r"^(?:\d+[.)]|[a-h][.)](?=\s)|(?:i|ii|iii|iv|v|vi|vii|viii)[.)](?=\s)|[-•*·–—]|\([a-z0-9]+\))\s*")
_ANY_LABEL = re.compile(r"^(?:[a-z][\w'/-]*\s?){1,3}(?::|=|\s[-–—]\s)\s*")  # "CTPA:", "Impression - ", "A ="
_QUESTION = re.compile(r"^(?:\?|q:|query\b|r/o\b|rule out\b|to exclude\b|exclude\b|\S[^?]*\?$)")
_INLINE_NUMBER = re.compile(r"\s+(?=(?:\d+|[a-h]|i{1,3}|iv|vi{0,3})\)\s)")  # "1) No PE 2) Bibasal atelectasis"
_WORD = re.compile(r"[a-z0-9][a-z0-9'/-]*")
_STUDY_LABEL = re.compile(r"^([a-z][^:=]{0,80}?)\s*(?::|=|\s[-–—]\s)\s*")  # "Rt leg DVT scan:", any length
# "Query DVT R leg – no evidence of DVT": the question asked, a spaced dash, then the finding (r24 review).
_ASKED_THEN_DASH = re.compile(r"^((?:\?|q:|query\b|r/o\b|rule out\b|to exclude\b)[^–—]*?)\s+[-–—]+\s+(?=\S)")


class ReportReader:
    def __init__(self, catalogue: Catalogue):
        lists = catalogue.text_lists["negative-imaging"]
        self.words = frozenset(lists["words"])
        self.label = re.compile(r"^(?:%s)\s*:\s*" % alternatives(lists["labels"]))
        self.negations = sorted(lists["negations"], key=len, reverse=True)
        self.modifiers = frozenset(lists["modifierWords"])
        self.tail = frozenset(lists["tailWords"])
        self.excluded = tuple(lists["excludedWords"])
        self.joins = frozenset(lists["joinPhrases"])
        self.normal = tuple(lists["normalWords"])
        self.normal_phrase = re.compile(r"\b(?:%s)\b" % alternatives(lists.get("normalPhrases", ())))
        self.positive = re.compile(r"(?<![\w-])(?:%s)(?![\w-])" % alternatives(lists["positiveWords"]))
        # Clot words with any plural ("PEs", "DVTs", "PE's"), and any word a clot stem begins (thromboembolism,
        # thromboemboli, emboli): a clot in a word form the list lacks is still a clot (r17 review).
        self.clot = re.compile(r"\b(?:(?:%s)(?:'?s|es)?|(?:%s)[\w-]*)\b" % (
            alternatives(lists["clotWords"]), alternatives(lists.get("clotStems", ()))))
        negating = alternatives(lists.get("negatingWords", ()))
        self.negating = re.compile(r"(?<![\w'])(?:%s)(?![\w'])" % negating)
        # A normal vessel function negated: "not collapsing", "doesn't compress", "fails to opacify".
        self.negated_function = re.compile(r"(?<![\w'])(?:%s)(?![\w'])(?:[\s-]+(?:to|fully|completely|normally|well|"
                                           r"properly|entirely))*[\s-]*(?:\w+[\s-]+)?(?:%s)" % (
                                               negating, alternatives(lists.get("normalFunctionStems", ()))))
        self.abbreviation = re.compile(r"(?<![\w/])(?:%s)(?![\w/])" % alternatives(lists.get("positiveAbbreviations", ())))
        self.normal_term = re.compile(r"(?<![\w'])(?:%s)(?![\w'])" % alternatives(lists.get("normalTerms", ())))
        self.hedge_qualifier = re.compile(r"(?<![\w-])(?:%s)(?![\w-])" % alternatives(lists.get("hedgeQualifiers", ())))
        self.scope_qualifier = re.compile(r"(?<![\w-])(?:%s)(?![\w-])" % alternatives(lists.get("scopeQualifiers", ())))
        self.scope_completer = re.compile(r"(?<![\w-])(?:%s)(?![\w-])" % alternatives(lists.get("scopeCompleters", ())))
        self.leads = frozenset(lists.get("sentenceLeads", ()))
        self.title_words = frozenset(lists.get("studyTitleWords", ()))
        sides = catalogue.text_lists["report-side"]
        side_words = (*sides["words"], *sides.get("leftAbbreviations", ()), *sides.get("rightAbbreviations", ()),
                      *sides["bothWords"], "the")
        # "Calf veins not visualised (due to oedema)": the study's scope, not a finding; its reason is the study's
        # too, unless it names a clot or a positive word (checked where it is read)
        self.distal_scope = re.compile(r"^(?:(?:%s)\s+)*(?:%s)\s+(?:%s)(?:\s+(?P<reason>(?:%s)\b.*))?$" % (
            alternatives(side_words), alternatives(lists.get("distalVesselWords", ())), alternatives(lists.get("scopeWords", ())),
            alternatives(lists.get("scopeReasonLeads", ()))))
        # "Limited study (due to body habitus)": a limitation that names no vein; its reason as for a scope
        self.limited_study = re.compile(r"^(?:%s)(?:\s+(?P<reason>(?:%s)\b.*))?$" % (
            alternatives(lists.get("limitedStudyPhrases", ())), alternatives((*lists.get("scopeReasonLeads", ()), "by"))))
        self.modalities = frozenset(lists.get("studyModalityWords", ()))
        # "Rt leg DVT scan: -ve": a label that is the study's name (its clot word is the question asked)
        self.clot_words = frozenset(w for term in lists["clotWords"] for w in term.split())
        # An answer such as "-ve" is a sign, not a list mark
        signed = [w for w in lists["words"] if w[0] in "-–—"]
        self.list_mark = re.compile(_LIST_MARK.pattern.replace(r"[-•*·–—]", r"(?!%s)[-•*·–—]" % alternatives(signed))
                                    if signed else _LIST_MARK.pattern)
        self.persistence = re.compile(r"(?<![\w-])(?:%s)(?![\w-])" % alternatives(lists.get("persistenceWords", ())))
        self.context_labels = frozenset(lists.get("contextLabels", ()))
        self.incidental = re.compile(r"(?<![\w'])(?:%s)(?![\w'])" % alternatives(lists.get("incidentalWords", ())))
        self.vessel = re.compile(r"\b(?:%s)\b" % alternatives(lists.get("vesselWords", ())))
        self.known = frozenset(word for name in ("normalTerms", "normalPhrases", "modifierWords", "tailWords", "vesselWords",
                                                 "incidentalWords", "normalVocabulary", "normalWords")
                               for term in lists.get(name, ()) for word in term.split())
        # The words a label naming only the veins examined is made of ("CFV, FV, pop v:")
        self.site_words = self.tail | self.modifiers | frozenset(
            word for name in ("vesselWords", "proximalVeinWords", "distalVesselWords")
            for term in lists.get(name, ()) for word in _words(term))
        self.hedge = re.compile(r"\b(?:%s)\b" % alternatives(lists["hedgeWords"]))
        self.follow_up = re.compile(r"^(?:%s)(?![\w-])" % alternatives(lists.get("followUpPhrases", ())))
        self.limited_lead = re.compile(r"^(?:%s)\s*[,:–—-]?\s+" % alternatives(lists.get("limitedStudyPhrases", ())))
        self.proximal = re.compile(r"(?<![\w-])(?:%s)(?![\w-])" % alternatives(lists.get("proximalVeinWords", ())))
        self.extension = re.compile(r"(?<![\w-])(?:%s)(?![\w-])" % alternatives(lists.get("extensionWords", ())))
        self.shown_except = re.compile(r"(?<![\w-])(?:%s)(?![\w-])" % alternatives(lists.get("shownExceptWords", ())))
        self.embolus = re.compile(r"(?<![\w-])(?:%s)(?![\w-])" % alternatives(lists.get("embolusWords", ())))
        # "Non-occlusive thrombus" and "non-compressible" are no denial: a hyphen binds the word to the next
        self.denial = re.compile(r"(?<![\w'-])(?:%s)(?![\w'-])" % alternatives(lists.get("denialWords", ())))
        self.distal = re.compile(r"(?<![\w-])(?:%s)(?![\w-])" % alternatives(lists.get("distalVesselWords", ())))
        # "the popliteal and posterior tibial veins": both sites of the one clot
        near, far = alternatives(lists.get("proximalVeinWords", ())), alternatives(lists.get("distalVesselWords", ()))
        joined = r"\s*(?:veins?\s*)?(?:,|and|&|\+|plus)\s*(?:the\s+)?"
        self.co_sites = re.compile(rf"(?<![\w-])(?:(?:{near}){joined}(?:{far})|(?:{far}){joined}(?:{near}))(?![\w-])")
        self.superficial = re.compile(r"(?<![\w-])(?:%s)(?![\w-])" % alternatives(lists.get("superficialVeinWords", ())))
        self.deep_system = re.compile(r"(?<![\w-])(?:%s)(?![\w-])" % alternatives(lists.get("deepSystemWords", ())))
        # A deep calf vein named ("peroneal veins", "calf veins"); "in the calf" beside a saphenous vein is where
        # that superficial vein runs, not a deep vein
        self.deep_calf_vein = re.compile(r"(?<![\w-])(?:%s)(?![\w-])" % alternatives(
            [w for w in lists.get("distalVesselWords", ()) if w not in ("calf", "calves")]))
        junction = alternatives(lists.get("junctionWords", ()))
        self.junction = re.compile(r"(?<![\w-])(?:%s)(?![\w-])" % junction)
        # "15 cm from the SFJ", "4cm below the saphenofemoral junction", "within 2 cm of the SPJ"
        self.junction_distance = re.compile(r"(\d+(?:\.\d+)?)\s*(mm|cm)\s+(?:(?:from|below|distal|to|of|beyond|away)\s+)+"
                                            r"(?:the\s+)?(?:%s)(?![\w-])" % junction)
        self.svt_distance_cm = float(catalogue.threshold(SVT_JUNCTION_DISTANCE))
        self.left, self.right = (
            re.compile(r"(?<![\w/])(?:%s)(?![\w/])" % alternatives((word, *sides.get(key, ()))))
            for word, key in zip(sides["words"], ("leftAbbreviations", "rightAbbreviations")))
        self.both = re.compile(r"\b(?:%s)\b" % alternatives(sides["bothWords"]))

    def _sentences(self, text: str) -> list[str]:
        return [sentence for sentence, _ in self._labelled(text)]

    def _labelled(self, text: str) -> list[tuple[str, str]]:
        """Each sentence as read (labels, list marks and leading words dropped) and as written, its label
        kept: "Popliteal vein: thrombus" is read as "thrombus", and its label says where."""
        found = []
        for part in _SENTENCES.split(text.lower()):
            for numbered in self._split_asked(part):
                for sentence in _CLAUSES.split(numbered):
                    sentence = written = " ".join(sentence.replace(",", " ").split())
                    while True:  # list marks and labels, any ("Impression:", "CTPA:", "1)", "-")
                        stripped = self.list_mark.sub("", self.label.sub("", sentence, count=1), count=1)
                        stripped = self._unlabelled(stripped)
                        if stripped == sentence:
                            break
                        sentence = stripped
                    if sentence:
                        found.append((self._without_leads(sentence), written))
        return found

    @staticmethod
    def _split_asked(part: str) -> list[str]:
        asked = _ASKED_THEN_DASH.match(part.strip())
        pieces = [asked.group(1), part.strip()[asked.end():]] if asked else [part]
        return [numbered for piece in pieces for numbered in _INLINE_NUMBER.split(piece)]

    def _title(self, sentence: str) -> bool:
        """Only the study's name: its modality and site words, and no clot ('Venous duplex right lower limb')."""
        words = _WORD.findall(sentence)
        return (bool(words) and any(w in self.modalities for w in words)
                and all(w in self.modalities or w in self.title_words for w in words))

    def _study_name(self, label: str) -> bool:
        """A label made of the study's name, its side and the clot it was asked about ("Rt leg DVT scan")."""
        words = _WORD.findall(label)
        return (any(w in self.modalities for w in words)
                and all(w in self.modalities or w in self.title_words or w in self.clot_words for w in words))

    def _unlabelled(self, sentence: str) -> str:
        """Without a leading label of up to three words ("CTPA:", "Left popliteal vein:"), unless what follows
        is empty: the label of a positive finding stays readable as its own words ("Calf: not collapsing")."""
        study = _STUDY_LABEL.match(sentence)
        if study is not None and sentence[study.end():].strip() and self._study_name(study.group(1)):
            return sentence[study.end():]
        label = _ANY_LABEL.match(sentence)
        if label is None and study is not None and sentence[study.end():].strip() and all(
                w in self.site_words for w in _words(study.group(1))):
            return sentence[study.end():]  # "CFV, FV, pop v: no thrombus": a label of the veins, any length
        if label is not None and re.sub(r"[\s:–—-]+$", "", label.group(0)) in self.context_labels:
            return "technique"  # "History: ?PE": the question asked, not a finding (an incidental word)
        if label is None or self.incidental.search(label.group(0)):
            return sentence  # "Technique: ...", "Comparison: none": about the study, read as such
        rest = sentence[label.end():]
        return rest if rest.strip() else sentence

    def _without_leads(self, sentence: str) -> str:
        """ "Today's CTPA shows no PE", "Again no DVT": the words before a negation, when they are only
        subject, verb or adverb words, are dropped."""
        words = sentence.split()
        for index in range(1, min(len(words), 6)):
            if words[index - 1] not in self.leads:
                break
            rest = " ".join(words[index:])
            if self._starts_negated(rest):
                return rest
        return sentence

    def _negative_sentence(self, sentence: str) -> bool:
        """A negation, modifier words, the clot, tail words ("no evidence of dvt in either lower extremity");
        or modifier words, the clot, "excluded" ("dvt excluded")."""
        match = self.clot.search(sentence)
        if match is None:
            return False
        end = match.end()
        second = self.clot.search(sentence, end)
        between = sentence[end:second.start()] if second is not None else ""
        if second is not None and (self._joined(between) or all(w in self.modifiers for w in between.split())):
            # "filling defect to suggest PE"; "no saddle embolus or PE" (a list of clots, all negated)
            end, second = second.end(), self.clot.search(sentence, second.end())  # "filling defect to suggest PE"
        if second is not None:
            return False
        head, tail = sentence[:match.start()].split(), sentence[end:]
        tail_words = tail.split()
        for negation in self.negations:
            words = negation.split()
            if head[:len(words)] == words:
                return all(w in self.modifiers for w in head[len(words):]) and all(w in self.tail for w in tail_words)
        if not all(w in self.modifiers for w in head):
            return False
        for excluded in self.excluded:  # "dvt excluded", "acute pulmonary embolism is not identified"
            for lead in ("", "is ", "are ", "was ", "has been "):
                words = (lead + excluded).split()
                if tail_words[:len(words)] == words and all(w in self.tail for w in tail_words[len(words):]):
                    return True
        return False

    def _joined(self, between: str) -> bool:
        """ "to suggest pulmonary": a join phrase, then modifier words only."""
        words = between.split()
        return any(words[:len(j.split())] == j.split() and all(w in self.modifiers for w in words[len(j.split()):])
                   for j in self.joins)

    def negative(self, text: object) -> bool:
        return self.read(text) == NEGATIVE

    def read(self, text: object) -> str | None:
        """NEGATIVE when every sentence is negative, normal or about something else and one is negative or
        normal; UNREAD when a sentence cannot be placed beside one that says no clot; else POSITIVE (a clot
        named or described, a hedge, or unplaced wording with no "no clot"). None without text."""
        if not isinstance(text, str):
            return None
        sentences = self._sentences(text)
        if not sentences:
            return None
        if " ".join(sentences) in self.words:
            return NEGATIVE
        # A question ("? PE", "Query DVT", "Q: PE?") heading the report is what was asked, not what was found;
        # after a finding, or under a findings label, it is the radiologist's hedge ("No proximal DVT. Query calf
        # vein thrombosis"; "Findings: ?thrombus"), which closes nothing (r21 review).
        kinds: list[str] = []
        for index, sentence in enumerate(sentences):
            if _QUESTION.match(sentence):
                # A hedge about something else ("?Ruptured Baker's cyst", "Query early consolidation") is no
                # hedged clot (r22 review); a clot, vessel or clot sign named keeps the report open.
                about_clot = bool(self.clot.search(sentence) or self.vessel.search(sentence)
                                  or self.positive.search(sentence))
                kinds.append("incidental" if self._asked(text, index, kinds) or not about_clot else UNREAD)
            else:
                kinds.append(self._sentence(sentence))
        if _LIMITED in kinds:
            kinds = self._limitation_placed(sentences, kinds)
        if SUPERFICIAL in kinds:
            # An SVT beside an explicit "no DVT" and nothing else unplaced: the DVT question answered, the SVT
            # to treat. Without that "no DVT" the deep veins may not have been assessed: a report to read.
            rest = {kind for kind in kinds if kind != SUPERFICIAL}
            if NEGATIVE in rest and not rest & {POSITIVE, UNREAD, _NEGATED_UNREAD}:
                return SUPERFICIAL
            return POSITIVE
        if POSITIVE in kinds:
            return POSITIVE
        if UNREAD in kinds or _NEGATED_UNREAD in kinds or not ({NEGATIVE, "normal"} & set(kinds)):
            # Unread beside a "no clot" (closed or not) is a report to read; without one, it may describe a
            # clot in words the reader lacks ("hypoattenuating material in the RLL branches"): not negative.
            return UNREAD if {NEGATIVE, _NEGATED_UNREAD} & set(kinds) else POSITIVE
        return NEGATIVE

    def _limitation_placed(self, sentences: list[str], kinds: list[str]) -> list[str]:
        """A limitation naming no vein ("Limited study due to body habitus") is the study's scope when the
        report says the limit is the calf veins (a scope sentence) and that the proximal veins it names are
        clear: NG158's test is the proximal scan, which then answered (r39 W5). Otherwise what was limited is
        unknown and the limitation hedges the report, as before."""
        proximal_clear = any(kind in (NEGATIVE, "normal") and self.proximal.search(sentence)
                             for sentence, kind in zip(sentences, kinds))
        placed = "incidental" if _SCOPE in kinds and proximal_clear else POSITIVE
        return [placed if kind == _LIMITED else kind for kind in kinds]

    def shows_dvt(self, text: object, reading: str | None = None) -> bool:
        """A leg-vein report that shows a proximal DVT in plain words (catalogue "$shownComment"): read positive,
        no hedge, question or chronic, known or superficial clot anywhere in it, and one sentence naming a clot
        and a proximal vein, undenied ("Extensive occlusive thrombus R popliteal and femoral veins"). Positive
        is wider — any wording that may be a clot, a description without a clot word, a distal clot — and
        POSITIVE alone never means a DVT to treat: only this does (NG158 1.1.3: scan positive, treat).
        `reading`: the report's read(), when the caller has it already."""
        # The vein may be the sentence's label ("Popliteal vein: thrombus")
        return any(self.clot.search(s) and self.proximal.search(w) and not self.denial.search(w)
                   and (not self.distal.search(w) or self.extension.search(w) or self.co_sites.search(w))
                   for s, w in self._plainly_positive(text, reading))

    def shows_pe(self, text: object, reading: str | None = None) -> bool:
        """A CTPA report that shows a pulmonary embolism in plain words (catalogue "$shownPeComment"): as
        shows_dvt, with one sentence naming an embolus, undenied ("Acute bilateral segmental pulmonary emboli").
        A PE shown on CTPA is treated at once (NG158); any other positive report is one to read."""
        return any(self.embolus.search(s) and not self.denial.search(w) for s, w in self._plainly_positive(text, reading))

    def _plainly_positive(self, text: object, reading: str | None) -> list[tuple[str, str]]:
        """The sentences (as read, as written) of a report read positive with no hedge, question or
        shownExceptWord anywhere in it, a history or request label's sentences left out; else none."""
        if not text or (reading or self.read(text)) != POSITIVE or "?" in text:
            return []
        labelled = self._labelled(text)
        if any(self.hedge.search(s) or self.shown_except.search(s) or _QUESTION.match(s) for s, _ in labelled):
            return []
        return [(s, w) for s, w in labelled if s != "technique"]

    @staticmethod
    def _asked(text: str, index: int, before: list[str]) -> bool:
        """Whether a question at `index` is the request: nothing but questions and study details before it, and,
        first in the report, under no label but a question's ("Q:", "Query:")."""
        if any(kind not in ("incidental", _SCOPE) for kind in before):
            return False
        if index > 0:
            return True
        label = _ANY_LABEL.match(" ".join(_LIST_MARK.sub("", text.lower().strip(), count=1).split()))
        return label is None or bool(_QUESTION.match(label.group(0)))

    def _sentence(self, sentence: str) -> str:
        # "Limited study, calf veins not seen": the limitation is the calf veins, a scope sentence
        lead = self.limited_lead.match(sentence)
        scope = self.distal_scope.match(sentence[lead.end():] if lead else sentence)
        if scope and not self.clot.search(sentence) and not (
                scope.group("reason") and (self.positive.search(scope.group("reason"))
                                           or self.abbreviation.search(scope.group("reason")))):
            return _SCOPE
        limited = self.limited_study.match(sentence)
        if limited and not (self.clot.search(sentence) or self.vessel.search(sentence) or (
                limited.group("reason") and (self.positive.search(limited.group("reason"))
                                             or self.abbreviation.search(limited.group("reason"))))):
            return _LIMITED
        if self.hedge.search(sentence):
            # "Possible early consolidation", "Probable Baker's cyst": a hedge about a finding outside the
            # vessels, naming no clot, vessel or clot sign, hedges nothing about a clot (r30 review F1)
            if self.incidental.search(sentence) and not (self.clot.search(sentence) or self.vessel.search(sentence)
                                                         or self.positive.search(sentence)):
                return "incidental"
            return POSITIVE
        negated = self._starts_negated(sentence)
        # Under a negation a positive word is a stated absence ("No right heart strain"), unless the positive
        # word is itself a negation ("no flow", "nil opacification", "non-compressible").
        described = [m for m in self.positive.finditer(sentence)
                     if not negated or self.negating.match(m.group(0))] or self.abbreviation.search(sentence)
        clots = list(self.clot.finditer(sentence))
        # "No compressibility of the femoral vein": a normal vessel function negated (not "no filling defect",
        # a clot word).
        function_lost = [m for m in self.negated_function.finditer(sentence)
                         if not any(c.start() < m.end() and m.start() < c.end() for c in clots)]
        if (clots or described or function_lost) and not negated and self._superficial(sentence):
            return SUPERFICIAL  # "Thrombophlebitis of the GSV 15 cm from the SFJ": a superficial clot only
        if clots:
            if described or function_lost or (len(clots) > 1 and not self._negative_sentence(sentence)):
                return POSITIVE  # a clot described, or a second one named and not negated
            if not negated and not self._negative_sentence(sentence):
                return POSITIVE
            if self.persistence.search(sentence):
                return POSITIVE  # "No change in the PE", "No resolution of the thrombus": it is still there
            if self._qualified(sentence):
                return _NEGATED_UNREAD  # "No definite PE", "No central PE": closes nothing
            # A negated clot with words the reader does not know between it and the negation is not read.
            return NEGATIVE if self._negative_sentence(sentence) else _NEGATED_UNREAD
        if described or function_lost:
            return POSITIVE
        if negated and (self.positive.search(sentence) or all(
                w in self.known for w in _words(sentence) if not w[0].isdigit() and not self.negating.fullmatch(w))):
            return "normal"  # "No evidence of right heart strain", "No pleural effusion or consolidation"
        all_known = all(w in self.known for w in _words(sentence) if not w[0].isdigit())
        if all_known and not self.negating.search(sentence) and (
                sentence.startswith(self.normal) or self.normal_phrase.search(sentence)
                or self.normal_term.search(sentence)):
            return "normal"
        if self.incidental.search(sentence) and (all_known or not self.vessel.search(sentence)):
            return "incidental"
        if self.follow_up.match(sentence) and not self.vessel.search(sentence):
            return "incidental"  # "Recommend repeat scan in one week if symptoms persist": advice, no finding
        if self._title(sentence):
            return "incidental"
        return UNREAD

    def _superficial(self, sentence: str) -> bool:
        """A clot in a superficial vein only: a superficial vein named, no deep vein, and every distance given
        to a junction more than svt-junction-distance (none given, or nearer: it may reach the deep system)."""
        if not self.superficial.search(sentence) or self.proximal.search(sentence) or self.deep_calf_vein.search(sentence) \
                or self.deep_system.search(sentence):
            return False
        if not self.junction.search(sentence):
            return True
        distances = [float(m.group(1)) / (10 if m.group(2) == "mm" else 1)
                     for m in self.junction_distance.finditer(sentence)]
        return bool(distances) and min(distances) > self.svt_distance_cm and \
            len(distances) >= len(self.junction.findall(sentence))

    def _qualified(self, sentence: str) -> bool:
        """A hedge ("definite", "obvious") or a scope that leaves part of the tree unnamed ("central" without
        "segmental", "occlusive" without "non-occlusive")."""
        if self.hedge_qualifier.search(sentence):
            return True
        return bool(self.scope_qualifier.search(sentence)) and not self.scope_completer.search(sentence)

    def _starts_negated(self, sentence: str) -> bool:
        words = sentence.split()
        return any(words[:len(n.split())] == n.split() for n in self.negations)

    def sides(self, text: object) -> frozenset[str]:
        """The side value sets the text names: both legs when it says so or names both. Only the sentences
        that name a clot (else those that say normal) are read for it: "No DVT in the left lower extremity.
        Normal phasicity in the right CFV" is a scan of the left leg (KB §8.7)."""
        if not isinstance(text, str):
            return frozenset()
        sentences = self._sentences(text)
        relevant = ([s for s in sentences if self.clot.search(s)] or [s for s in sentences if s.startswith(self.normal)]
                    or sentences)
        lowered = " ".join(relevant)
        if not (self.left.search(lowered) or self.right.search(lowered) or self.both.search(lowered)):
            # The side only in a label the sentences lost ("LLE duplex: negative", "Left leg: NAD, no DVT"):
            # one side named anywhere answers for that side, never for both legs.
            lowered = " ".join(text.lower().split())
        left, right = bool(self.left.search(lowered)), bool(self.right.search(lowered))
        if self.both.search(lowered) or (left and right):
            return frozenset({BILATERAL})
        return frozenset({LEFT} if left else {RIGHT} if right else ())


def _words(text: str) -> list[str]:
    """The words of a sentence, a slashed list split ("cfv/fv/pv compressible": three veins)."""
    return [piece for word in _WORD.findall(text) for piece in word.split("/") if piece]
