"""Analyse responses' comments with the text kernel and store the results.

Comments are read in batches (keyset pages of response ids) and cut into
chunks; with `workers` > 1 a process pool analyses the chunks while this
process reads the next batch and stores finished chunks, so reading and
storing overlap the analysis. Workers return plain tuples
(`comment_rows.CommentRows`) and rows go in with executemany/COPY
(`db.bulk_rows`), not through the ORM. Nothing here commits; the caller's
unit of work does.
"""

from __future__ import annotations

import gc
import os
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from sqlalchemy import delete, exists, func, select
from sqlalchemy.orm import Session

from servicepulse.db.bulk_rows import RowWriter, bind_value
from servicepulse.kernels.text import CodeFrame, SentimentModel, load_default_codeframe
from servicepulse.models import Customer, Response, Verbatim, VerbatimMention, utcnow
from servicepulse.verbatims.codeframes import current_codeframe
from servicepulse.verbatims.comment_rows import CommentRows, init_worker, rows_in_worker
from servicepulse.verbatims.settings import VerbatimSettings

BATCH = 20_000  # comments read (and held) per batch
CHUNK = 1_000   # comments per task for a worker process; results are stored per chunk
Progress = Callable[[int, int], None]
WARM_UP = ("Ik moest lang wachten en de factuur klopt niet.", "I waited for ages and the invoice was wrong.")
VERBATIM_COLUMNS = ("response_id", "text", "original", "language", "language_confidence", "sentiment",
                    "lexicon_sentiment", "redactions", "codeframe_version", "analysed_at")
MENTION_COLUMNS = ("response_id", "theme", "start", "end", "matched", "sentiment")


@dataclass(frozen=True)
class AnalysisSummary:
    analysed: int       # comments analysed and stored
    skipped_empty: int  # responses whose comment was empty or only white space
    mentions: int


def _todo_query(response_ids: Sequence[int] | None, only_missing: bool, *columns):
    q = select(Response.id, *columns).where(Response.comment.is_not(None))
    if response_ids is not None:
        q = q.where(Response.id.in_(list(response_ids)))
    if only_missing:
        q = q.where(~exists().where(Verbatim.response_id == Response.id))
    return q


def _batches(session: Session, response_ids, only_missing: bool, size: int):
    """(id, comment, customer name) rows in id order, `size` at a time (keyset pages: no giant IN lists).

    The customer's name comes along so that redaction also removes it where the comment
    uses it (the surname alone too); anonymous responses have none."""
    q = (_todo_query(response_ids, only_missing, Response.comment, Customer.name)
         .outerjoin(Customer, Customer.id == Response.customer_id).order_by(Response.id).limit(size))
    last = None
    while True:
        rows = session.execute(q if last is None else q.where(Response.id > last)).all()
        if not rows:
            return
        yield rows
        if len(rows) < size:
            return
        last = rows[-1][0]


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
    chunk: int = CHUNK,
    progress: Progress | None = None,
    timings: dict[str, float] | None = None,
) -> AnalysisSummary:
    """Analyse the comments of `response_ids` (None = every response with a comment).

    only_missing: skip responses analysed before (False re-analyses, e.g. after the code frame changed).
    model: a fitted text.SentimentModel for the comment score; None = the lexicon.
    workers: processes for the analysis (0 = all cores; 1 = in this process).
    batch, chunk: comments read per batch, and per task for a worker process.
    timings: if given, wall seconds per stage are added to it (read, warm_up, analyse = waiting for
        the analysis, store).
    """
    clock = _Clock(timings)
    settings = settings or VerbatimSettings()
    workers = workers or os.cpu_count() or 1
    version = None
    if codeframe is None:
        codeframe, version = current_codeframe(session)
    # The shipped default goes to the kernel as None (it is loaded and compiled once per process).
    analyser = CommentRows(None if codeframe is load_default_codeframe() else codeframe, model,
                           settings.customer_patterns)
    total = count_pending(session, response_ids, only_missing) if progress else 0
    conn = session.connection()
    verbatim_writer = RowWriter(conn, Verbatim.__table__, VERBATIM_COLUMNS)
    mention_writer = RowWriter(conn, VerbatimMention.__table__, MENTION_COLUMNS)
    analysed_at = bind_value(conn, Verbatim.__table__, "analysed_at", utcnow())
    keep_original = settings.keep_original
    counts = {"done": 0, "analysed": 0, "mentions": 0, "skipped": 0}
    clock.lap("read")
    if progress:
        progress(0, total)

    def store(part, result, n_read: int) -> None:
        rows = result.result() if part else []
        clock.lap("analyse")
        verbatims, mentions = [], []
        for (rid, original, _), (text, lang, conf, sent, lex, n_red, found) in zip(part, rows):
            verbatims.append((rid, text, original if keep_original else None, lang, conf, sent, lex, n_red,
                              version, analysed_at))
            mentions.extend((rid, *m) for m in found)
        if verbatims:
            verbatim_writer.write(verbatims)
        if mentions:
            mention_writer.write(mentions)
        clock.lap("store")
        counts["analysed"] += len(verbatims)
        counts["mentions"] += len(mentions)
        counts["done"] += n_read
        if progress and n_read:
            progress(counts["done"], total)

    pool = None
    frozen = False
    pending: deque = deque()  # (comments of a chunk, its future, rows read to report once it is stored)
    try:
        for rows in _batches(session, response_ids, only_missing, batch):
            if not only_missing:
                ids = [rid for rid, *_ in rows]
                session.execute(delete(VerbatimMention).where(VerbatimMention.response_id.in_(ids)))
                session.execute(delete(Verbatim).where(Verbatim.response_id.in_(ids)))
            keep = [(rid, c, name) for rid, c, name in rows if c.strip()]
            counts["skipped"] += len(rows) - len(keep)
            clock.lap("read")
            if pool is None and workers > 1 and (len(keep) > chunk or len(rows) == batch):
                # Load the lemma dictionaries, language model and matcher here, once: forked workers
                # inherit them. Freezing the heap keeps the workers' garbage collector off it
                # (no scans of millions of inherited objects, no copy-on-write of their pages).
                analyser(list(WARM_UP))
                gc.freeze()
                frozen = True
                pool = ProcessPoolExecutor(max_workers=workers, initializer=init_worker, initargs=(analyser,))
                clock.lap("warm_up")
            chunks = [keep[s:s + chunk] for s in range(0, len(keep), chunk)] or [[]]
            for k, part in enumerate(chunks):
                texts, names = [c for _, c, _ in part], [n for _, _, n in part]
                result = (None if not part else pool.submit(rows_in_worker, texts, names) if pool
                          else _Later(analyser, texts, names))
                pending.append((part, result, len(rows) if k == len(chunks) - 1 else 0))
            # Store the previous batch while the workers analyse this one.
            while len(pending) > len(chunks):
                store(*pending.popleft())
        while pending:
            store(*pending.popleft())
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        if frozen:
            gc.unfreeze()
    clock.lap("store")
    return AnalysisSummary(counts["analysed"], counts["skipped"], counts["mentions"])


class _Later:
    """Analysis run in this process when its result is asked for (the interface of a Future)."""

    def __init__(self, analyser: CommentRows, texts: list[str], names: list[str | None]):
        self.analyser, self.texts, self.names = analyser, texts, names

    def result(self):
        return self.analyser(self.texts, self.names)


class _Clock:
    def __init__(self, timings: dict[str, float] | None):
        self.timings = timings
        self.last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        if self.timings is not None:
            self.timings[stage] = self.timings.get(stage, 0.0) + now - self.last
        self.last = now


def count_pending(session: Session, response_ids: Sequence[int] | None = None, only_missing: bool = True) -> int:
    """Responses with a comment that `analyse_responses` would read (empty comments included)."""
    q = _todo_query(response_ids, only_missing)
    return session.scalar(select(func.count()).select_from(q.subquery())) or 0


def train_sentiment_model(session: Session, min_comments: int = 200):
    """A SentimentModel fitted on the organisation's own analysed comments and their NPS
    (the score that came with the comment is a free label); None when too few."""

    rows = session.execute(select(Verbatim.text, Response.nps).join(Response, Response.id == Verbatim.response_id)
                           .where(Response.nps.is_not(None))).all()
    if len(rows) < min_comments:
        return None
    return SentimentModel(language="auto").fit([t for t, _ in rows], [s for _, s in rows])
