"""Analyse responses' comments with the text kernel and store the results.

Work goes in batches of response ids: read the comments, run the kernel's
batch pipeline (in `workers` processes), replace the batch's stored rows with
Core bulk inserts. Nothing here commits; the caller's unit of work does.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Sequence

from sqlalchemy import delete, exists, func, insert, select
from sqlalchemy.orm import Session

from servicepulse.models import Response, Verbatim, VerbatimMention, utcnow
from servicepulse.text import CodeFrame, analyse_comments, load_default_codeframe
from servicepulse.verbatims.codeframes import current_codeframe
from servicepulse.verbatims.settings import VerbatimSettings

BATCH = 20_000
MAX_MATCHED = 200
Progress = Callable[[int, int], None]
WARM_UP = ("Ik moest lang wachten en de factuur klopt niet.", "I waited for ages and the invoice was wrong.")


@dataclass(frozen=True)
class AnalysisSummary:
    analysed: int       # comments analysed and stored
    skipped_empty: int  # responses whose comment was empty or only white space
    mentions: int


def _todo_query(response_ids: Sequence[int] | None, only_missing: bool):
    q = select(Response.id).where(Response.comment.is_not(None))
    if response_ids is not None:
        q = q.where(Response.id.in_(list(response_ids)))
    if only_missing:
        q = q.where(~exists().where(Verbatim.response_id == Response.id))
    return q


def analyse_responses(
    session: Session,
    response_ids: Sequence[int] | None = None,
    *,
    only_missing: bool = True,
    codeframe: CodeFrame | None = None,
    model=None,
    settings: VerbatimSettings | None = None,
    workers: int = 1,
    batch: int = BATCH,
    progress: Progress | None = None,
    timings: dict[str, float] | None = None,
) -> AnalysisSummary:
    """Analyse the comments of `response_ids` (None = every response with a comment).

    only_missing: skip responses analysed before (False re-analyses, e.g. after the code frame changed).
    model: a fitted text.SentimentModel for the comment score; None = the lexicon.
    timings: if given, wall seconds per stage are added to it (read, warm_up, analyse = waiting for
        the analysis, store).
    """
    clock = _Clock(timings)
    settings = settings or VerbatimSettings()
    version = None
    if codeframe is None:
        codeframe, version = current_codeframe(session)
    ids = [i for i in session.scalars(_todo_query(response_ids, only_missing).order_by(Response.id))]
    clock.lap("read")
    # The shipped default travels to worker processes as None (each has it loaded already); a stored
    # frame is pickled per chunk and compiled there.
    frame_arg = None if codeframe is load_default_codeframe() else codeframe
    if ids and workers != 1:
        # Load the lemma dictionaries and compile the matcher here, once: the forked workers inherit
        # them instead of each loading them again (about 1 s CPU per worker and batch otherwise).
        analyse_comments(WARM_UP, codeframe=frame_arg, workers=1)
        clock.lap("warm_up")
    total = len(ids)
    counts = {"done": 0, "analysed": 0, "mentions": 0}
    skipped = 0
    if progress:
        progress(0, total)

    def run(keep):
        per_worker = max(500, -(-len(keep) // max(1, 2 * max(workers, 1))))
        return analyse_comments([c for _, c in keep], codeframe=frame_arg, model=model,
                                customer_patterns=settings.customer_patterns, workers=workers,
                                chunk_size=per_worker)

    def store(keep, n_ids, future) -> None:
        results = future.result() if keep else []
        clock.lap("analyse")
        now = utcnow()
        verbatims, mentions = [], []
        for (rid, original), r in zip(keep, results):
            verbatims.append({
                "response_id": rid, "text": r.text, "original": original if settings.keep_original else None,
                "language": r.language, "language_confidence": float(r.language_confidence),
                "sentiment": float(r.sentiment), "lexicon_sentiment": float(r.lexicon_sentiment),
                "redactions": min(len(r.redactions), 32767), "codeframe_version": version, "analysed_at": now,
            })
            for m in r.mentions:
                mentions.append({"response_id": rid, "theme": m.theme, "start": m.start, "end": m.end,
                                 "matched": m.matched[:MAX_MATCHED], "sentiment": float(m.sentiment)})
        if verbatims:
            session.execute(insert(Verbatim), verbatims)
        if mentions:
            session.execute(insert(VerbatimMention), mentions)
        clock.lap("store")
        counts["analysed"] += len(verbatims)
        counts["mentions"] += len(mentions)
        counts["done"] += n_ids
        if progress:
            progress(counts["done"], total)

    # With worker processes, batch k+1 is analysed (a thread waits on the pool) while this thread
    # stores batch k: the storage work overlaps the analysis instead of adding to it.
    background = ThreadPoolExecutor(max_workers=1) if workers != 1 and total > batch else None
    pending = None
    try:
        for s in range(0, total, batch):
            chunk = ids[s:s + batch]
            rows = session.execute(select(Response.id, Response.comment).where(Response.id.in_(chunk))).all()
            session.execute(delete(VerbatimMention).where(VerbatimMention.response_id.in_(chunk)))
            session.execute(delete(Verbatim).where(Verbatim.response_id.in_(chunk)))
            keep = [(rid, c) for rid, c in rows if c is not None and c.strip()]
            skipped += len(rows) - len(keep)
            clock.lap("read")
            if not keep:
                future = None
            elif background is not None:
                future = background.submit(run, keep)
            else:
                future = _Done(run(keep))
            if pending is not None:
                store(*pending)
            pending = (keep, len(chunk), future)
        if pending is not None:
            store(*pending)
    finally:
        if background is not None:
            background.shutdown(wait=True, cancel_futures=True)
    session.flush()
    clock.lap("store")
    analysed, n_mentions = counts["analysed"], counts["mentions"]
    return AnalysisSummary(analysed, skipped, n_mentions)


class _Done:
    """A finished result with the interface of a Future."""

    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value


class _Clock:
    def __init__(self, timings: dict[str, float] | None):
        self.timings = timings
        self.last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        if self.timings is not None:
            self.timings[stage] = self.timings.get(stage, 0.0) + now - self.last
        self.last = now


def count_pending(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(_todo_query(None, True).subquery())) or 0


def train_sentiment_model(session: Session, min_comments: int = 200):
    """A SentimentModel fitted on the organisation's own analysed comments and their NPS
    (the score that came with the comment is a free label); None when too few."""
    from servicepulse.text import SentimentModel

    rows = session.execute(select(Verbatim.text, Response.nps).join(Response, Response.id == Verbatim.response_id)
                           .where(Response.nps.is_not(None))).all()
    if len(rows) < min_comments:
        return None
    return SentimentModel(language="auto").fit([t for t, _ in rows], [s for _, s in rows])
