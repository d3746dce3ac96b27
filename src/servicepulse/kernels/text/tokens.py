"""Tokenisation with character spans, cached lemmatisation, clause splitting.

Every text module works on the same tokens so that a theme mention and the
sentiment of its clause refer to the same character positions in the comment.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

import simplemma

# Placeholders written by the redactor ([EMAIL], [PHONE] ...) are one token and
# never a word, so "[PHONE]" can not trigger a theme keyword like "phone".
# Words keep inner apostrophes and hyphens ("didn't", "e-mail", "zo'n").
_TOKEN_RE = re.compile(
    r"(?P<ph>\[[A-Z_]+\])"
    r"|(?P<word>[^\W_]+(?:['’\-][^\W_]+)*)"
    r"|(?P<sym>[^\w\s])",
    re.UNICODE,
)

LANGS = ("nl", "en")


class Token(NamedTuple):  # a tuple: built hundreds of thousands of times per batch
    text: str       # surface form as written
    lower: str      # lower-cased, curly apostrophe normalised
    start: int      # character offset in the source text
    end: int
    kind: str       # 'word', 'sym' (punctuation/emoji) or 'ph' (placeholder)


def tokenize(text: str) -> list[Token]:
    """Split text into word, symbol and placeholder tokens with offsets."""
    low = text.lower().replace("’", "'")
    if len(low) != len(text):  # rare letters whose lower case is longer ('İ'): per token
        return [Token(m.group(), m.group().lower().replace("’", "'"), m.start(), m.end(), m.lastgroup)
                for m in _TOKEN_RE.finditer(text)]
    out = []
    for m in _TOKEN_RE.finditer(text):
        s, e = m.span()
        out.append(Token(text[s:e], low[s:e], s, e, m.lastgroup))
    return out


@lru_cache(maxsize=200_000)
def lemma(word: str, lang: str) -> str:
    """Lemma of a lower-cased word (simplemma, cached per word and language).

    Languages other than nl/en fall back to the word itself: we ship no other
    lemma data on purpose.
    """
    if lang not in LANGS or not word or not word[0].isalpha():
        return word
    try:
        return simplemma.lemmatize(word, lang=lang).lower()
    except Exception:  # simplemma raises on odd input; the word itself is a safe lemma
        return word


# Clause boundaries: sentence punctuation, line breaks, and contrast words.
_SENTENCE_END = re.compile(r"[.!?;\n]+|\s[-–—]\s")
CONTRAST_WORDS = frozenset({"maar", "echter", "desondanks", "but", "however", "though", "yet"})


class Clause(NamedTuple):
    start: int
    end: int
    after_contrast: bool   # the clause opens with maar/but: it carries more weight
    before_contrast: bool  # a maar/but clause follows in the same sentence


def clauses(text: str, tokens: list[Token] | None = None) -> list[Clause]:
    """Sentences, split again before contrast words (maar/but).

    The spans cover the whole text, so every token lies in exactly one clause.
    """
    if tokens is None:
        tokens = tokenize(text)
    cuts: list[tuple[int, bool]] = [(0, False)]  # (start, opens with contrast word)
    for m in _SENTENCE_END.finditer(text):
        cuts.append((m.end(), False))
    for t in tokens:
        if t.kind == "word" and t.lower in CONTRAST_WORDS:
            cuts.append((t.start, True))
    cuts.sort()
    spans: list[Clause] = []
    for i, (start, contrast) in enumerate(cuts):
        end = cuts[i + 1][0] if i + 1 < len(cuts) else len(text)
        if end <= start and i + 1 < len(cuts):
            continue
        nxt_contrast = cuts[i + 1][1] if i + 1 < len(cuts) else False
        spans.append(Clause(start, end, contrast, nxt_contrast))
    return spans or [Clause(0, len(text), False, False)]
