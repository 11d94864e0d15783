"""Reading an imaging report's conclusion, which radiologists write as text (KB §8.7): is it negative for a
clot, and which leg does it speak of. The words are the catalogue's ("negative-imaging", "report-side");
anything the reader cannot read as wholly negative is not negative, so a card keeps firing."""
from __future__ import annotations

import re

from ..content.catalogue import Catalogue, value_set

LEFT, RIGHT, BILATERAL = value_set("left-site"), value_set("right-site"), value_set("bilateral-site")
_SENTENCES = re.compile(r"(?:[.;\n]|\bbut\b)+(?!\d)")  # "3.2 cm" stays one sentence


class ReportReader:
    def __init__(self, catalogue: Catalogue):
        lists = catalogue.text_lists["negative-imaging"]
        self.words = frozenset(lists["words"])
        self.label = re.compile(r"^(?:%s)\s*:\s*" % _any(lists["labels"]))
        self.negations = sorted(lists["negations"], key=len, reverse=True)
        self.modifiers = frozenset(lists["modifierWords"])
        self.tail = frozenset(lists["tailWords"])
        self.excluded = tuple(lists["excludedWords"])
        self.joins = frozenset(lists["joinPhrases"])
        self.normal = tuple(lists["normalWords"])
        self.vessel = re.compile(r"\b(?:%s)\b" % _any(lists.get("vesselWords", ())))
        self.normal_phrase = re.compile(r"\b(?:%s)\b" % _any(lists.get("normalPhrases", ())))
        self.positive = re.compile(r"(?<![\w-])(?:%s)(?![\w-])" % _any(lists["positiveWords"]))
        self.clot = re.compile(r"\b(?:%s)\b" % _any(lists["clotWords"]))
        self.hedge = re.compile(r"\b(?:%s)\b" % _any(lists["hedgeWords"]))
        sides = catalogue.text_lists["report-side"]
        self.left, self.right = (re.compile(r"\b%s\b" % re.escape(word)) for word in sides["words"])
        self.both = re.compile(r"\b(?:%s)\b" % _any(sides["bothWords"]))

    def _sentences(self, text: str) -> list[str]:
        found = []
        for sentence in _SENTENCES.split(text.lower()):
            sentence = " ".join(sentence.replace(",", " ").split())
            while self.label.match(sentence):
                sentence = self.label.sub("", sentence, count=1)
            if sentence:
                found.append(sentence)
        return found

    def _negative_sentence(self, sentence: str) -> bool:
        """A negation, modifier words, the clot, tail words ("no evidence of dvt in either lower extremity");
        or modifier words, the clot, "excluded" ("dvt excluded")."""
        match = self.clot.search(sentence)
        if match is None:
            return False
        end = match.end()
        second = self.clot.search(sentence, end)
        if second is not None and self._joined(sentence[end:second.start()]):
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
        """The whole text reads as a negative scan: no sentence hedges, every sentence naming a clot is a
        negative one, and one sentence is negative or normal."""
        if not isinstance(text, str):
            return False
        sentences = self._sentences(text)
        if not sentences:
            return False
        if " ".join(sentences) in self.words:
            return True
        if any(self.hedge.search(s) for s in sentences):
            return False
        naming = [s for s in sentences if self.clot.search(s)]
        if not all(self._negative_sentence(s) for s in naming):
            return False
        # A positive finding needs no clot word: "non-compressible popliteal vein with absent flow".
        if any(self.positive.search(s) for s in sentences if s not in naming):
            return False
        # Nor does one the reader has no word for: a sentence about a vessel must be read as negative or normal.
        if any(self.vessel.search(s) and not self._normal_sentence(s) for s in sentences if s not in naming):
            return False
        return bool(naming) or any(s.startswith(self.normal) for s in sentences)

    def _normal_sentence(self, sentence: str) -> bool:
        return sentence.startswith(self.normal) or bool(self.normal_phrase.search(sentence))

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
        left, right = bool(self.left.search(lowered)), bool(self.right.search(lowered))
        if self.both.search(lowered) or (left and right):
            return frozenset({BILATERAL})
        return frozenset({LEFT} if left else {RIGHT} if right else ())


def _any(words) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
