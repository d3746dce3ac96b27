"""Language of a comment: 'nl', 'en', 'other' or 'unknown'.

py3langid (offline, ships its model) restricted to a candidate set: Dutch,
English and the languages customers of a Dutch service organisation write in
most. Afrikaans and the Scandinavian languages are left out on purpose: on
short Dutch or English answers they win by accident, and they are rarely
written here. A prior weight then favours the expected languages; a comment
whose best posterior stays below the threshold, or that has too few letters
(emoji only, "ok"), is 'unknown'. Another candidate language is 'other'.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass

DEFAULT_CANDIDATES = ("nl", "en", "de", "fr", "es", "it", "pt", "tr", "pl", "ar")
DEFAULT_PRIOR = {"nl": 1.0, "en": 1.0}  # every other candidate gets OTHER_PRIOR
OTHER_PRIOR = 0.2
MIN_LETTERS = 3
_ENOUGH_LETTERS = re.compile(r"[^\W\d_](?:[\W\d_]*[^\W\d_]){%d}" % (MIN_LETTERS - 1))
THRESHOLD = 0.5

_lock = threading.Lock()
_identifiers: dict[tuple[str, ...], object] = {}


def _identifier(candidates: tuple[str, ...]):
    with _lock:
        ident = _identifiers.get(candidates)
        if ident is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
            ident.set_languages(list(candidates))
            _identifiers[candidates] = ident
        return ident


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    language: str     # 'nl', 'en', 'other' or 'unknown'
    detected: str     # best candidate code before mapping ('de', 'fr' ...), '' if none
    confidence: float


def guess_language(
    text: str,
    candidates: tuple[str, ...] = DEFAULT_CANDIDATES,
    prior: dict[str, float] | None = None,
    threshold: float = THRESHOLD,
) -> LanguageGuess:
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    if not _ENOUGH_LETTERS.search(text):
        return LanguageGuess("unknown", "", 0.0)
    ident = _identifier(tuple(candidates))
    # Long comments: the first 1,000 characters decide; enough for a naive Bayes
    # over byte n-grams and it keeps a 10,000-character comment cheap.
    ranked = ident.rank(text[:1000])
    prior = DEFAULT_PRIOR if prior is None else prior
    # ten numbers: plain Python is faster than NumPy here
    post = [(p * prior.get(lang, OTHER_PRIOR), lang) for lang, p in ranked]
    total = sum(p for p, _ in post)
    if total <= 0:
        return LanguageGuess("unknown", "", 0.0)
    best_p, best = max(post)
    conf = best_p / total
    if conf < threshold:
        return LanguageGuess("unknown", best, conf)
    return LanguageGuess(best if best in ("nl", "en") else "other", best, conf)


def detect_language(text: str, threshold: float = THRESHOLD) -> str:
    """'nl', 'en', 'other' (another language) or 'unknown' (too short/unclear)."""
    return guess_language(text, threshold=threshold).language
