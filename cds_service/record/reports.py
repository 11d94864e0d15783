"""Reading an imaging report's conclusion, which radiologists write as text (KB §8.7): is it negative for a
clot, and which leg does it speak of. The words are the catalogue's ("negative-imaging", "report-side");
anything the reader cannot read as wholly negative is not negative, so a card keeps firing."""
from __future__ import annotations

import re

from ..content.catalogue import Catalogue, value_set

LEFT, RIGHT, BILATERAL = value_set("left-site"), value_set("right-site"), value_set("bilateral-site")
_SENTENCES = re.compile(r"[.;\n]+(?!\d)")  # "3.2 cm" stays one sentence


class ReportReader:
    def __init__(self, catalogue: Catalogue):
        lists = catalogue.text_lists["negative-imaging"]
        self.words = frozenset(lists["words"])
        self.label = re.compile(r"^(?:%s)\s*:\s*" % "|".join(map(re.escape, lists["labels"])))
        self.negation = re.compile(r"^(?:%s)\b" % "|".join(map(re.escape, lists["negations"])))
        self.clot = re.compile(r"\b(?:%s)" % "|".join(map(re.escape, lists["clotWords"])))
        self.hedge = re.compile(r"\b(?:%s)\b" % "|".join(map(re.escape, lists["hedgeWords"])))
        sides = catalogue.text_lists["report-side"]
        self.left, self.right = (re.compile(r"\b%s\b" % re.escape(word)) for word in sides["words"])
        self.both = re.compile(r"\b(?:%s)\b" % "|".join(map(re.escape, sides["bothWords"])))

    def _sentences(self, text: str) -> list[str]:
        found = []
        for sentence in _SENTENCES.split(text.lower()):
            sentence = " ".join(sentence.split())
            while self.label.match(sentence):
                sentence = self.label.sub("", sentence, count=1)
            if sentence:
                found.append(sentence)
        return found

    def negative(self, text: object) -> bool:
        """The whole text reads as a negative scan: one negated sentence names the clot, no other sentence
        names one, none hedges."""
        if not isinstance(text, str):
            return False
        sentences = self._sentences(text)
        if not sentences:
            return False
        if " ".join(sentences).rstrip(".") in self.words:
            return True
        if any(self.hedge.search(s) for s in sentences):
            return False
        naming = [s for s in sentences if self.clot.search(s)]
        return bool(naming) and all(self.negation.match(s) for s in naming)

    def sides(self, text: object) -> frozenset[str]:
        """The side value sets the text names: both legs when it says so or names both."""
        if not isinstance(text, str):
            return frozenset()
        lowered = text.lower()
        left, right = bool(self.left.search(lowered)), bool(self.right.search(lowered))
        if self.both.search(lowered) or (left and right):
            return frozenset({BILATERAL})
        return frozenset({LEFT} if left else {RIGHT} if right else ())
