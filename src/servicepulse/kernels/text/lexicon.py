"""Lexicon-based sentiment for service comments, no training needed.

The lexicons (data/lexicon_nl.tsv, data/lexicon_en.tsv) were written for this
project for the language of service feedback: valences in [-3, +3] for words,
phrases and emoji. Scoring rules:

- phrases ("van het kastje naar de muur", "didn't show up") match first and
  consume their words, so a negation inside a phrase is not counted twice;
- a negator (niet, geen, nooit / not, no, never, n't ...) up to three words
  before a sentiment word in the same clause flips it and damps it
  (x -0.6): "niet goed" is negative, "not bad" is mildly positive. Light words
  (de, een, meer, nog, enkele ...) do not use up the three; a comma, colon,
  bracket or conjunction (en, want, omdat ... / and, because ...) ends the
  scope; "niets"/"niks" do not reach past a preposition ("niks met mijn
  klacht gedaan"); no negator flips an emoji; "niet alleen" and "nog nooit
  zo" are no negations;
- Dutch service complaints: a negator that negated no sentiment word but
  stands within three words of something the organisation owes (a service
  action: bellen, reageren, komen, oplossen, nakomen ...; a receipt: krijgen,
  ontvangen, horen; a thing: bericht, reactie, monteur, internet ...) scores
  -1.5: "nooit teruggebeld", "geen bericht", "ze belden niet terug", "ze komen
  hun afspraken niet na". Words match by simplemma lemma. A negated service
  verb that is itself positive ("niet opgelost") scores at least that low.
  Not a complaint when it was not needed ("ik hoef niet teruggebeld te
  worden") or the customer is the one who did not act ("ik heb zelf niet
  gebeld", first person, active voice; "ik ben niet gebeld" is one);
- ``negation=False`` ignores negators (phrases that hold one still match):
  the behaviour without negation handling, for measuring it
  (bench/sentiment_negation.py);
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
                     "top", "super", "laat", "gewoon", "last", "mis"}),
}
SCOPE_BREAKS = frozenset(",:;()[]")  # punctuation that ends a negation's scope
# Conjunctions that start a new (sub)clause inside a sentence: a negation does not reach past them
# ("kwam niet en er werd ook niet gebeld", "ik heb niet betaald omdat de factuur nog moet komen").
# Per language: Dutch "of" is "or", English "of" is not a conjunction ("none of the staff").
SCOPE_WORDS = {
    "nl": frozenset({"en", "of", "want", "omdat", "dus", "toen", "terwijl", "wanneer", "als", "zodat", "doordat",
                     "nadat", "voordat", "hoewel"}),
    "en": frozenset({"and", "or", "because", "when", "while", "although"}),
}
# Words that do not use up the negation window ("nooit meer een bericht", "geen enkele keer").
LIGHT_WORDS = frozenset({"de", "het", "een", "meer", "eens", "ook", "nog", "enkel", "enkele", "zelfs", "even",
                         "the", "a", "an", "any", "ever"})
# Negators that are not negations in these idioms (the key followed by one of the words).
NOT_NEGATING_AFTER = {"niet": frozenset({"alleen", "enkel", "slechts"}), "nooit": frozenset({"eerder", "zo", "zo'n"}),
                      "not": frozenset({"only", "just"}), "never": frozenset({"better"})}
PRONOUN_NEGATORS = frozenset({"niets", "niks", "nothing"})
PREPOSITIONS = frozenset({"met", "van", "aan", "op", "over", "voor", "in", "bij", "naar", "om", "uit", "door", "tot",
                          "tegen", "with", "of", "about", "for", "at", "to", "from", "by"})

# Dutch service complaints: a negator near something the organisation owes is negative even
# though the word itself is neutral ("nooit teruggebeld", "geen bericht", "ze belden niet terug").
# Lemmas as simplemma gives them, separable verbs without the underscore.
SERVICE_ACTIONS = frozenset({
    "bellen", "terugbellen", "opbellen", "mailen", "terugmailen", "reageren", "antwoorden", "beantwoorden",
    "komen", "opdagen", "langskomen", "nakomen", "oplossen", "verhelpen", "repareren", "herstellen", "leveren",
    "afleveren", "sturen", "opsturen", "versturen", "toesturen", "storten", "terugstorten", "uitkeren",
    "vergoeden", "terugbetalen", "informeren", "geïnformeerd", "terugkoppelen", "melden", "verwerken",
    "behandelen", "afhandelen", "oppakken", "aanpassen", "luisteren", "lezen", "helpen", "opnemen", "bevestigen",
    "aansluiten", "installeren", "regelen", "houden",
})
RECEIPTS = frozenset({"krijgen", "ontvangen", "horen", "teruggehoord", "terughoren"})  # what the customer gets
SERVICE_THINGS = frozenset({
    "bericht", "reactie", "antwoord", "terugkoppeling", "bevestiging", "telefoontje", "mail", "e-mail", "uitleg",
    "excuus", "excuses", "monteur", "internet", "tv", "televisie", "stroom", "gas", "water", "verbinding",
    "signaal", "bereik", "wifi", "contact", "update", "informatie", "nieuws", "hulp", "oplossing", "vergoeding",
    "behandeling",
})
SERVICE_THING_HEADS = ("mail", "bericht", "bevestiging", "reactie", "verbinding")
NOT_NEEDED = frozenset({"hoef", "hoeft", "hoefde", "hoefden", "hoeven", "nodig"})  # "ik hoef niet teruggebeld te worden"
FIRST_PERSON = frozenset({"ik", "we", "wij"})
PASSIVE_AUXILIARIES = frozenset({"ben", "word", "wordt", "werd", "werden", "worden", "is", "zijn", "was", "waren"})
COMPLAINT_VALENCE = -1.5
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


def _negators(words: Sequence[Token], negators: frozenset[str]) -> list[bool]:
    """Which words negate: a negator, unless an idiom makes it something else
    ("niet alleen snel maar ook ..." adds, "nog nooit zo goed geholpen" praises)."""
    out = []
    for k, t in enumerate(words):
        nxt = words[k + 1].lower if k + 1 < len(words) else ""
        out.append(_is_negator(t.lower, negators) and nxt not in NOT_NEGATING_AFTER.get(t.lower, ()))
    return out


def _service_kind(low: str) -> str | None:
    """'action', 'receipt' or 'thing' for a word of SERVICE_ACTIONS / RECEIPTS / SERVICE_THINGS."""
    lm = lemma(low, "nl").replace("_", "")  # simplemma writes separable verbs as "terug_bellen"
    if lm in SERVICE_ACTIONS or low in SERVICE_ACTIONS:
        return "action"
    if lm in RECEIPTS or low in RECEIPTS:
        return "receipt"
    if low in SERVICE_THINGS or lm in SERVICE_THINGS:
        return "thing"
    if len(low) > 7 and any(low.endswith(head) for head in SERVICE_THING_HEADS):  # "bevestigingsmail"
        return "thing"
    return None


class LexiconHit(NamedTuple):
    term: str        # as written in the text
    start: int
    end: int
    valence: float   # after negation, intensifier and contrast weighting
    base: float      # the lexicon value (COMPLAINT_VALENCE for a negated service word)
    negated: bool
    clause: int      # index into the clause list


def score_tokens(tokens: Sequence[Token], spans: Sequence[Clause], language: str, text: str = "",
                 negation: bool = True) -> list[LexiconHit]:
    """Sentiment-bearing words of a tokenised text, with their final valence.

    ``negation=False`` ignores negators (phrases that contain one still match): the
    behaviour without negation handling, kept for measuring it (bench/sentiment_negation.py).
    """
    lex = get_lexicon(language)
    lang = language if language in LANGS else "nl"
    dutch = language != "en"
    scope_words = SCOPE_WORDS["nl" if dutch else "en"]
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
    negs = _negators(words, lex.negators) if negation else [False] * n
    clause_words = _clause_words(words, ci) if dutch and any(negs) else {}
    used = [False] * n       # negators that already negated a sentiment word
    in_phrase = [False] * n  # words of a matched phrase do not negate later words
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
        if span_end - i > 1 and negs[i] and dutch and (
                _not_needed(clause_words[ci[i]])
                or _service_kind(words[span_end - 1].lower) == "action" and _customer_acted(clause_words[ci[i]])):
            # "ik hoef niet teruggebeld te worden", "ik heb zelf niet gebeld": a negated phrase, nothing missed
            i = span_end
            continue
        val, negated = base, False
        # look back within the clause for intensifiers and negators; a comma, colon,
        # bracket or conjunction ends the negation scope ("niet snel, wel aardig").
        # An emoji is the writer's own reaction: no negator reaches it ("geen internet 😡").
        j, steps = i - 1, 0
        while t.kind == "word" and j >= 0 and ci[j] == ci[i] and steps < NEGATION_WINDOW and not in_phrase[j]:
            w = words[j].lower
            if words[j].kind == "sym":
                if w in SCOPE_BREAKS:
                    break
            elif words[j].kind == "word":
                if w in scope_words:
                    break
                if steps < 2 and w in lex.intensifiers:
                    val *= lex.intensifiers[w]
                if negs[j]:
                    # "niets met mijn klacht gedaan": a pronoun negator does not reach past a preposition
                    if not (w in PRONOUN_NEGATORS and any(words[k].lower in PREPOSITIONS for k in range(j + 1, i))):
                        negated = used[j] = True
                    break
                if w not in LIGHT_WORDS:
                    steps += 1
            j -= 1
        if negated:
            val *= NEGATION_FACTOR
            if dutch and span_end == i + 1 and _service_kind(low) in ("action", "receipt"):
                val = min(val, COMPLAINT_VALENCE)  # "niet opgelost" is a complaint, not faint praise
        cl = spans[ci[i]]
        if cl.after_contrast:
            val *= CONTRAST_AFTER
        elif cl.before_contrast:
            val *= CONTRAST_BEFORE
        if span_end - i > 1:
            for k in range(i, span_end):
                in_phrase[k] = True
            if _is_negator(words[span_end - 1].lower, lex.negators):
                # "werkt niet goed": a phrase ending in a negator still negates what follows
                in_phrase[span_end - 1] = False
        end_tok = words[span_end - 1]
        hits.append(LexiconHit(text[t.start:end_tok.end] if text else t.text, t.start, end_tok.end,
                               val, base, negated, ci[i]))
        i = span_end
    if negation and dutch:
        hits += _complaints(words, ci, spans, negs, used, in_phrase, clause_words, text)
        hits.sort(key=lambda h: h.start)
    return hits


def _complaints(words: Sequence[Token], ci: list[int], spans: Sequence[Clause], negs: list[bool],
                used: list[bool], in_phrase: list[bool], clause_words: dict[int, set[str]],
                text: str) -> list[LexiconHit]:
    """A negator that negated no sentiment word but a service action, receipt or thing near it
    is a complaint: "nooit teruggebeld", "geen bericht", "ze belden niet terug", "kwam zijn
    afspraak niet na". Not when the customer is the one who did not act ("ik heb zelf niet
    gebeld") or when it was not needed ("ik hoef niet teruggebeld te worden")."""
    out = []
    n = len(words)
    for k in range(n):
        if not negs[k] or used[k] or in_phrase[k]:
            continue
        if _not_needed(clause_words[ci[k]]):
            continue
        found = None
        for step in (1, -1):  # after the negator first; a finite verb may stand before it (V2)
            j, count = k + step, 0
            while 0 <= j < n and ci[j] == ci[k] and count < NEGATION_WINDOW and not in_phrase[j]:
                w = words[j]
                if w.kind == "sym" and w.lower in SCOPE_BREAKS or w.kind == "word" and w.lower in SCOPE_WORDS["nl"]:
                    break
                if w.kind == "word":
                    kind = _service_kind(w.lower)
                    if kind is not None and (step == 1 or kind != "thing"):
                        found = (j, kind)
                        break
                    if w.lower not in LIGHT_WORDS:
                        count += 1
                j += step
            if found:
                break
        if not found:
            continue
        j, kind = found
        lo, hi = min(j, k), max(j, k)
        if kind == "action" and _customer_acted(clause_words[ci[k]]):
            continue
        cl = spans[ci[k]]
        val = COMPLAINT_VALENCE * (CONTRAST_AFTER if cl.after_contrast else CONTRAST_BEFORE if cl.before_contrast else 1.0)
        first, last = words[lo], words[hi]
        out.append(LexiconHit(text[first.start:last.end] if text else f"{first.text} {last.text}", first.start, last.end,
                              val, COMPLAINT_VALENCE, True, ci[k]))
    return out


def _clause_words(words: Sequence[Token], ci: list[int]) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for w, c in zip(words, ci):
        out.setdefault(c, set()).add(w.lower)
    return out


def _not_needed(clause: set[str]) -> bool:
    return not clause.isdisjoint(NOT_NEEDED)


def _customer_acted(clause: set[str]) -> bool:
    """The clause has a first-person subject in the active voice: the customer did not act."""
    return not clause.isdisjoint(FIRST_PERSON) and clause.isdisjoint(PASSIVE_AUXILIARIES)


def squash(total: float) -> float:
    """Map a sum of valences into [-1, 1]."""
    return total / math.sqrt(total * total + ALPHA) if total else 0.0


def lexicon_hits(text: str, language: str = "nl", negation: bool = True) -> list[LexiconHit]:
    if not isinstance(text, str) or not text:
        return []
    toks = tokenize(text)
    return score_tokens(toks, clauses(text, toks), language, text, negation)


def lexicon_sentiment(text: str, language: str = "nl", negation: bool = True) -> float:
    """Sentiment of a comment in [-1, 1] from the service lexicon.

    `language` is 'nl' or 'en'; anything else ('other', 'unknown', None) uses
    both lexicons. Empty or unscorable text gives 0.0.
    """
    if text is None:
        return 0.0
    if not isinstance(text, str):
        text = str(text)
    return squash(sum(h.valence for h in lexicon_hits(text, language, negation)))
