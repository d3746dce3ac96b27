"""Batch analysis of open answers: redact -> language -> themes -> sentiment.

Each comment is tokenised once after redaction; the same tokens feed the
theme matcher and the lexicon, and the sentiment of a theme mention is the
lexicon score of the clause that holds it (sentence, split again at
maar/but). With a trained :class:`SentimentModel` the comment-level score
comes from the model (one vectorised call for the whole batch) and the
lexicon score is kept alongside.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from .codeframe import CodeFrame
from .language import guess_languages
from .lexicon import score_tokens, squash
from .redact import DEFAULT_CUSTOMER_PATTERNS, RedactedSpan, Redactor
from .themes import ThemeMatcher, matcher_for
from .tokens import clauses, tokenize


class MentionResult(NamedTuple):
    theme: str
    start: int            # span in the redacted text
    end: int
    matched: str
    clause_start: int
    clause_end: int
    sentiment: float      # lexicon sentiment of the clause, in [-1, 1]


_PLACEHOLDER = re.compile(r"\[[A-Z_]+\]")


@dataclass(frozen=True)
class CommentAnalysis:
    index: int
    text: str                           # redacted text; spans below refer to it
    language: str                       # 'nl', 'en', 'other', 'unknown'
    language_confidence: float
    redactions: tuple[RedactedSpan, ...]  # spans in the original text
    mentions: tuple[MentionResult, ...]
    sentiment: float                    # model score if a model was given, else lexicon
    lexicon_sentiment: float
    themes: tuple[str, ...] = field(default=())  # distinct theme keys, in order of first mention


def _as_text(raw) -> str:
    if raw is None or (isinstance(raw, float) and raw != raw):
        return ""
    return raw if isinstance(raw, str) else str(raw)


def _analyse_one(i: int, text: str, spans: tuple[RedactedSpan, ...], lang: str, conf: float,
                 matcher: ThemeMatcher) -> CommentAnalysis:
    toks = tokenize(text)
    cls = clauses(text, toks)
    found = matcher.find(text, lang, toks)
    hits = score_tokens(toks, cls, lang, text)
    per_clause = [0.0] * len(cls)
    for h in hits:
        per_clause[h.clause] += h.valence
    lex = squash(sum(per_clause))
    mentions = []
    ci = 0
    for m in found:  # mentions come sorted by start
        while ci + 1 < len(cls) and m.start >= cls[ci].end:
            ci += 1
        c = cls[ci]
        mentions.append(MentionResult(m.theme, m.start, m.end, m.matched, c.start, c.end, squash(per_clause[ci])))
    themes = tuple(dict.fromkeys(m.theme for m in found))
    return CommentAnalysis(i, text, lang, conf, spans, tuple(mentions), lex, lex, themes)


def _analyse_chunk(args) -> list[CommentAnalysis]:
    start, texts, do_redact, patterns, codeframe, languages, names = args
    redactor = Redactor(customer_patterns=patterns) if do_redact else None
    matcher = matcher_for(codeframe)
    texts = [_as_text(t) for t in texts]
    if redactor is not None:
        done = ([redactor.redact(t, n) for t, n in zip(texts, names)] if names is not None
                else [redactor.redact(t) for t in texts])
        texts, spans = [r.text for r in done], [r.spans for r in done]
    else:
        spans = [()] * len(texts)
    # Languages of the whole chunk in one call; placeholders are English-looking words ([PHONE]),
    # so they stay out of detection.
    detect = [k for k, lg in enumerate(languages) if not lg]
    guesses = guess_languages([_PLACEHOLDER.sub(" ", texts[k]) if "[" in texts[k] else texts[k] for k in detect])
    found = dict(zip(detect, guesses))
    out = []
    for k, (text, lg) in enumerate(zip(texts, languages)):
        lang, conf = (lg, 1.0) if lg else (found[k].language, found[k].confidence)
        out.append(_analyse_one(start + k, text, spans[k], lang, conf, matcher))
    return out


def analyse_comments(
    texts: Iterable,
    *,
    codeframe: CodeFrame | None = None,
    model=None,
    redact: bool = True,
    customer_patterns: Sequence[str] | None = None,
    language: str | Sequence[str | None] | None = None,
    known_names: Sequence[Sequence[str] | None] | None = None,
    workers: int = 1,
    chunk_size: int = 5000,
) -> list[CommentAnalysis]:
    """Analyse a batch of comments; results keep the input order.

    model: a fitted SentimentModel; its score becomes `sentiment` (the
        lexicon score stays in `lexicon_sentiment`).
    language: skip detection: one language for all comments, or one per
        comment (e.g. the language the survey was sent in; None = detect).
    known_names: per comment, the writer's own name(s) to redact (e.g. the customer's
        name), or None; the list pairs up with `texts`.
    workers: processes to use (0 = all cores); 1 runs in this process.
    """
    texts = list(texts)
    patterns = tuple(customer_patterns) if customer_patterns is not None else DEFAULT_CUSTOMER_PATTERNS
    if workers == 0:
        workers = os.cpu_count() or 1
    if language is None or isinstance(language, str):
        langs = [language] * len(texts)
    else:
        langs = list(language)
        if len(langs) != len(texts):
            raise ValueError(f"got {len(texts)} comments but {len(langs)} languages; they must pair up")
    if known_names is not None:
        known_names = [tuple(n) if n else () for n in known_names]
        if len(known_names) != len(texts):
            raise ValueError(f"got {len(texts)} comments but {len(known_names)} known-name lists; they must pair up")
    chunks = [(s, texts[s:s + chunk_size], redact, patterns, codeframe, langs[s:s + chunk_size],
               None if known_names is None else known_names[s:s + chunk_size])
              for s in range(0, len(texts), chunk_size)]
    if workers > 1 and len(chunks) > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = [r for part in pool.map(_analyse_chunk, chunks) for r in part]
    else:
        results = [r for c in chunks for r in _analyse_chunk(c)]
    if model is not None and results:
        if getattr(model, "language", None) in ("nl", "en"):
            scores = model.predict([r.text for r in results])
        else:  # reuse the detected language and the lexicon score computed above
            scores = model._predict([r.text for r in results], np.array([r.lexicon_sentiment for r in results]))
        results = [
            CommentAnalysis(r.index, r.text, r.language, r.language_confidence, r.redactions, r.mentions,
                            float(s), r.lexicon_sentiment, r.themes)
            for r, s in zip(results, scores)
        ]
    return results


def to_frames(results: Sequence[CommentAnalysis]):
    """Two pandas DataFrames: one row per comment, one row per theme mention."""
    import pandas as pd

    comments = pd.DataFrame({
        "index": [r.index for r in results],
        "text": [r.text for r in results],
        "language": [r.language for r in results],
        "language_confidence": [r.language_confidence for r in results],
        "sentiment": [r.sentiment for r in results],
        "lexicon_sentiment": [r.lexicon_sentiment for r in results],
        "themes": [list(r.themes) for r in results],
        "redactions": [len(r.redactions) for r in results],
    })
    rows = [
        {"index": r.index, "theme": m.theme, "start": m.start, "end": m.end, "matched": m.matched,
         "clause_start": m.clause_start, "clause_end": m.clause_end, "sentiment": m.sentiment}
        for r in results for m in r.mentions
    ]
    mentions = pd.DataFrame(rows, columns=["index", "theme", "start", "end", "matched",
                                           "clause_start", "clause_end", "sentiment"])
    return comments, mentions
