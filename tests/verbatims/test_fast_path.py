"""The fast path (worker processes, batched language detection, chunks stored with executemany/COPY
while the next ones are analysed) stores the same rows as analysing each comment on its own."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.kernels.text import analyse_comments, find_themes, guess_language, lexicon_sentiment, redact
from servicepulse.models import Verbatim, VerbatimMention
from servicepulse.verbatims.analysis import analyse_responses
from servicepulse.verbatims.settings import VerbatimSettings
from tests.kernels.text.verbatim_composer import compose_comments

from .conftest import add_responses

ODD = ["   ", "😀😀👍", "ok", "<b>factuur</b> klopt niet", "Bel 06-12345678 of mail a.b@example.nl",
       "IBAN NL91ABNA0417164300, postcode 1234 AB 12", "İSTANBUL'DA FATURA YANLIŞ", "x" * 3000,
       "Heel vriendelijk geholpen, but the wait was long. " * 60]


def _stored(engine):
    with UnitOfWork(engine) as s:
        verbatims = {r[0]: tuple(r[1:]) for r in s.execute(select(
            Verbatim.response_id, Verbatim.text, Verbatim.original, Verbatim.language, Verbatim.language_confidence,
            Verbatim.sentiment, Verbatim.lexicon_sentiment, Verbatim.redactions, Verbatim.codeframe_version))}
        mentions = sorted(tuple(r) for r in s.execute(select(
            VerbatimMention.response_id, VerbatimMention.theme, VerbatimMention.start, VerbatimMention.end,
            VerbatimMention.matched, VerbatimMention.sentiment)))
    return verbatims, mentions


def _one_by_one(ids, comments):
    """What analysing every comment on its own gives, checked against the public per-comment functions."""
    verbatims, mentions = {}, []
    for rid, comment in zip(ids, comments):
        if not comment.strip():
            continue
        (r,) = analyse_comments([comment])
        red = redact(comment)
        assert r.text == red.text and len(r.redactions) == len(red.spans)
        guess = guess_language(re.sub(r"\[[A-Z_]+\]", " ", r.text))
        assert r.language == guess.language and r.language_confidence == pytest.approx(guess.confidence, abs=1e-5)
        assert r.sentiment == lexicon_sentiment(r.text, r.language)
        assert [(m.theme, m.start, m.end) for m in r.mentions] == \
            [(m.theme, m.start, m.end) for m in find_themes(r.text, r.language)]
        verbatims[rid] = (r.text, None, r.language, r.language_confidence, r.sentiment, r.lexicon_sentiment,
                          len(r.redactions), None)
        mentions += [(rid, m.theme, m.start, m.end, m.matched, m.sentiment) for m in r.mentions]
    return verbatims, sorted(mentions)


def _assert_same(got, want):
    (gv, gm), (wv, wm) = got, want
    assert gv.keys() == wv.keys()
    for rid, row in wv.items():
        assert gv[rid] == row, rid
    assert gm == wm


def test_fast_path_stores_what_one_comment_at_a_time_gives(engine):
    comments = [c.text for c in compose_comments(300, seed=31)] + ODD
    ids = add_responses(engine, [{"comment": c, "nps": 5} for c in comments])
    want = _one_by_one(ids, comments)
    with UnitOfWork(engine) as s:
        # several batches and several chunks per batch, so storing overlaps analysing
        summary = analyse_responses(s, workers=2, batch=128, chunk=40, settings=VerbatimSettings())
    assert summary.analysed == len(want[0]) and summary.skipped_empty == 1
    assert summary.mentions == len(want[1]) > 300
    _assert_same(_stored(engine), want)
    with UnitOfWork(engine) as s:  # re-analysis replaces every row, in process this time
        analyse_responses(s, only_missing=False, workers=1, batch=100)
    _assert_same(_stored(engine), want)
