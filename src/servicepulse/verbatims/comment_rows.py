"""The text kernel's analysis of a list of comments as plain tuples, ready to store.

Worker processes return these instead of `CommentAnalysis` objects: tuples of
str, int and float pickle several times faster, and the main process only
prepends the response id before writing them.
"""

from __future__ import annotations

from collections.abc import Sequence

from servicepulse.kernels.text import CodeFrame, analyse_comments

MAX_MATCHED = 200  # length of verbatim_mentions.matched
MAX_REDACTIONS = 32767  # verbatims.redactions is a SMALLINT


class CommentRows:
    """Callable: comments -> one tuple per comment, in order: (text, language, language_confidence,
    sentiment, lexicon_sentiment, redactions, mentions), mentions as (theme, start, end, matched, sentiment)."""

    def __init__(self, codeframe: CodeFrame | None, model, customer_patterns: Sequence[str] | None):
        self.codeframe = codeframe
        self.model = model
        self.customer_patterns = customer_patterns

    def __call__(self, texts: list[str], names: list[str | None] | None = None) -> list[tuple]:
        """names: per comment, the customer's name (or None), redacted wherever the comment uses it."""
        known = None if names is None else [(n,) if n else None for n in names]
        results = analyse_comments(texts, codeframe=self.codeframe, model=self.model,
                                   customer_patterns=self.customer_patterns, known_names=known, workers=1,
                                   chunk_size=max(1, len(texts)))
        return [
            (r.text, r.language, float(r.language_confidence), float(r.sentiment), float(r.lexicon_sentiment),
             min(len(r.redactions), MAX_REDACTIONS),
             tuple((m.theme, m.start, m.end, m.matched[:MAX_MATCHED], float(m.sentiment)) for m in r.mentions))
            for r in results
        ]


# In a worker process: the analyser it was started with (inherited on fork, pickled once otherwise).
_worker: CommentRows | None = None


def init_worker(analyser: CommentRows) -> None:
    global _worker
    _worker = analyser


def rows_in_worker(texts: list[str], names: list[str | None] | None = None) -> list[tuple]:
    return _worker(texts, names)
