"""Lexicon-based sentiment for service comments, no training needed.

The lexicons (data/lexicon_nl.tsv, data/lexicon_en.tsv) were written for this
project for the language of service feedback: valences in [-3, +3] for words,
phrases and emoji. Scoring rules:

- phrases ("van het kastje naar de muur", "didn't show up") match first and
  consume their words, so a negation inside a phrase is not counted twice;
- a negator (niet, geen, nooit / not, no, never, n't ...) up to three words
  before a sentiment word in the same clause flips it and damps it
  (x -0.6): "niet goed" is negative, "not bad" is mildly positive;
- an intensifier (heel, erg, zeer / very, really ...) right before (up to two
  words) multiplies by 1.5, a downtoner (beetje / slightly) by 0.6; a word that
  is both an intensifier and negative itself ("vreselijk") acts as intensifier
  when a sentiment word follows it;
- contrast: in "A maar B" / "A but B" the clause after the contrast word
  weighs 1.5 and the one before 0.5;
- the sum is squashed into [-1, 1] with x / sqrt(x^2 + 8).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import NamedTuple

from .tokens import LANGS, Clause, Token, clauses, lemma, tokenize

NEGATORS = {
    "nl": frozenset({"niet", "geen", "nooit", "niets", "niks", "zonder", "noch", "nauwelijks", "amper", "allerminst", "geeneens"}),
    "en": frozenset({"not", "no", "never", "none", "nothing", "neither", "nor", "without", "cannot", "hardly",
                     "barely", "dont", "didnt", "doesnt", "wasnt", "isnt", "wont", "cant", "couldnt", "wouldnt"}),
}
INTENSIFIERS = {
    "nl": {"heel": 1.5, "erg": 1.5, "zeer": 1.5, "super": 1.6, "echt": 1.3, "ontzettend": 1.6, "enorm": 1.6,
           "vreselijk": 1.6, "verschrikkelijk": 1.6, "hartstikke": 1.5, "bijzonder": 1.4, "uiterst": 1.6,
           "extreem": 1.6, "buitengewoon": 1.5, "zo": 1.3, "zó": 1.5, "totaal": 1.5, "helemaal": 1.4,
           "volledig": 1.4, "compleet": 1.5, "absoluut": 1.5, "werkelijk": 1.4, "ongelooflijk": 1.6,
           "mega": 1.6, "uitermate": 1.6, "veel": 1.3, "hele": 1.3,
           "beetje": 0.6, "enigszins": 0.6, "ietwat": 0.6, "tamelijk": 0.8, "vrij": 0.8, "redelijk": 0.8},
    "en": {"very": 1.5, "really": 1.4, "extremely": 1.7, "so": 1.3, "super": 1.6, "incredibly": 1.7,
           "totally": 1.5, "absolutely": 1.6, "completely": 1.5, "highly": 1.5, "truly": 1.4,
           "exceptionally": 1.6, "terribly": 1.6, "awfully": 1.6, "hugely": 1.6, "particularly": 1.3,
           "especially": 1.3, "utterly": 1.7, "most": 1.3, "too": 1.3, "incredible": 1.5,
           "slightly": 0.6, "somewhat": 0.6, "fairly": 0.8, "rather": 0.8, "bit": 0.6, "kinda": 0.7,
           "quite": 0.9},
}
# Entries skipped when a lexicon is the *secondary* one for a comment:
# words that are ordinary, differently-meant words in the other language.
FALSE_FRIENDS = {
    "en": frozenset({"kind", "lied", "lies", "long", "glad", "best", "hold", "fine", "rate"}),
    "nl": frozenset({"storing", "steeds", "direct", "dank", "lief", "lang", "hinder", "weer", "boos", "gelijk",
                     "top", "super", "laat", "gewoon"}),
}
SCOPE_BREAKS = frozenset(",:;()[]")  # punctuation that ends a negation's scope
NEGATION_FACTOR = -0.6
NEGATION_WINDOW = 3
CONTRAST_BEFORE, CONTRAST_AFTER = 0.5, 1.5
ALPHA = 8.0


@dataclass(frozen=True)
class Lexicon:
    language: str
    surface: dict[str, float]                      # written word -> valence
    by_lemma: dict[str, float]                     # lemma of an entry -> valence
    phrases: dict[str, list[tuple[tuple[str, ...], float]]]  # first word -> (words, valence)
    negators: frozenset[str]
    intensifiers: dict[str, float]
    _cache: dict = field(default_factory=dict, compare=False, repr=False)  # word -> valence or None

    def __len__(self) -> int:
        return len(self.surface) + sum(len(v) for v in self.phrases.values())

    def valence(self, low: str, lang: str) -> float | None:
        try:
            return self._cache[low]
        except KeyError:
            pass
        v = self._lookup(low, lang)
        if len(self._cache) > 500_000:  # bound memory on endless vocabularies
            self._cache.clear()
        self._cache[low] = v
        return v

    def _lookup(self, low: str, lang: str) -> float | None:
        v = self.surface.get(low)
        if v is not None:
            return v
        lm = lemma(low, lang)
        v = self.surface.get(lm)
        if v is not None:
            return v
        return self.by_lemma.get(lm)


def _read_tsv(lang: str) -> list[tuple[str, float]]:
    text = resources.files("servicepulse.kernels.text").joinpath(f"data/lexicon_{lang}.tsv").read_text(encoding="utf-8")
    rows = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        term, _, val = line.partition("\t")
        try:
            rows.append((term.strip().lower(), float(val)))
        except ValueError:
            raise ValueError(f"lexicon_{lang}.tsv line {n}: valence {val!r} is not a number") from None
    return rows


def _build(langs: tuple[str, ...]) -> Lexicon:
    surface: dict[str, float] = {}
    by_lemma: dict[str, float] = {}
    phrases: dict[str, list] = {}
    negators: set[str] = set()
    intens: dict[str, float] = {}
    for n, lang in enumerate(langs):  # earlier languages win on a clash
        for term, val in _read_tsv(lang):
            if n > 0 and term in FALSE_FRIENDS[lang]:
                continue
            words = tuple(t.lower for t in tokenize(term) if t.kind != "ph")
            if len(words) == 1:
                surface.setdefault(words[0], val)
                by_lemma.setdefault(lemma(words[0], lang), val)
            elif words:
                phrases.setdefault(words[0], []).append((words, val))
        negators |= NEGATORS[lang]
        for k, v in INTENSIFIERS[lang].items():
            intens.setdefault(k, v)
    for lst in phrases.values():
        lst.sort(key=lambda x: -len(x[0]))
    return Lexicon("+".join(langs), surface, by_lemma, phrases, frozenset(negators), intens)


@lru_cache(maxsize=4)
def get_lexicon(language: str) -> Lexicon:
    """Lexicon for a comment in `language`.

    Comments mix languages ("monteur kwam niet, very bad service"), so the
    other language's entries are added after the comment's own, minus false
    friends (English "kind" is a Dutch child). Any language other than nl/en
    gets both, Dutch first.
    """
    if language == "en":
        return _build(("en", "nl"))
    return _build(("nl", "en"))


def _is_negator(low: str, negators: frozenset[str]) -> bool:
    return low in negators or low.endswith("n't")


class LexiconHit(NamedTuple):
    term: str        # as written in the text
    start: int
    end: int
    valence: float   # after negation, intensifier and contrast weighting
    base: float      # the lexicon value
    negated: bool
    clause: int      # index into the clause list


def score_tokens(tokens: Sequence[Token], spans: Sequence[Clause], language: str, text: str = "") -> list[LexiconHit]:
    """Sentiment-bearing words of a tokenised text, with their final valence."""
    lex = get_lexicon(language)
    lang = language if language in LANGS else "nl"
    words = [t for t in tokens if t.kind != "ph"]
    hits: list[LexiconHit] = []
    n = len(words)
    if n == 0:
        return hits
    # clause index of every word
    ci, c = [], 0
    for t in words:
        while c + 1 < len(spans) and t.start >= spans[c].end:
            c += 1
        ci.append(c)
    in_phrase = [False] * n  # words used by a matched phrase do not negate later words
    i = 0
    while i < n:
        t = words[i]
        low = t.lower
        span_end, base = i + 1, None
        for ph, val in lex.phrases.get(low, ()):
            m = len(ph)
            if i + m <= n and all(words[i + j].lower == ph[j] for j in range(1, m)):
                span_end, base = i + m, val
                break
        if base is None:
            if _is_negator(low, lex.negators) or t.kind != "word" and low not in lex.surface:
                i += 1
                continue
            base = lex.valence(low, lang)
            if base is None:
                i += 1
                continue
            # an intensifier that carries valence itself ("vreselijk traag"):
            # it boosts the next sentiment word instead of counting on its own
            if low in lex.intensifiers and i + 1 < n and ci[i + 1] == ci[i]:
                nxt = words[i + 1].lower
                if lex.valence(nxt, lang) is not None or nxt in lex.phrases:
                    i += 1
                    continue
        val, negated = base, False
        # look back within the clause for intensifiers and negators; a comma,
        # colon or bracket ends the negation scope ("niet snel, wel aardig")
        j, steps = i - 1, 0
        while j >= 0 and ci[j] == ci[i] and steps < NEGATION_WINDOW and not in_phrase[j]:
            w = words[j].lower
            if words[j].kind == "sym":
                if w in SCOPE_BREAKS:
                    break
            elif words[j].kind == "word":
                if steps < 2 and w in lex.intensifiers:
                    val *= lex.intensifiers[w]
                if _is_negator(w, lex.negators):
                    negated = True
                    break
                steps += 1
            j -= 1
        if negated:
            val *= NEGATION_FACTOR
        cl = spans[ci[i]]
        if cl.after_contrast:
            val *= CONTRAST_AFTER
        elif cl.before_contrast:
            val *= CONTRAST_BEFORE
        for k in range(i, span_end):
            in_phrase[k] = True
        if span_end - i > 1 and _is_negator(words[span_end - 1].lower, lex.negators):
            # "werkt niet goed": a phrase ending in a negator still negates what follows
            in_phrase[span_end - 1] = False
        end_tok = words[span_end - 1]
        hits.append(LexiconHit(text[t.start:end_tok.end] if text else t.text, t.start, end_tok.end,
                               val, base, negated, ci[i]))
        i = span_end
    return hits


def squash(total: float) -> float:
    """Map a sum of valences into [-1, 1]."""
    return total / math.sqrt(total * total + ALPHA) if total else 0.0


def lexicon_hits(text: str, language: str = "nl") -> list[LexiconHit]:
    if not isinstance(text, str) or not text:
        return []
    toks = tokenize(text)
    return score_tokens(toks, clauses(text, toks), language, text)


def lexicon_sentiment(text: str, language: str = "nl") -> float:
    """Sentiment of a comment in [-1, 1] from the service lexicon.

    `language` is 'nl' or 'en'; anything else ('other', 'unknown', None) uses
    both lexicons. Empty or unscorable text gives 0.0.
    """
    if text is None:
        return 0.0
    if not isinstance(text, str):
        text = str(text)
    return squash(sum(h.valence for h in lexicon_hits(text, language)))
