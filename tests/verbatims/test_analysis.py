"""Analysis stored: redacted text only by default, spans that point at the theme words, bad input handled."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from sqlalchemy import func, select

from servicepulse.db.session import UnitOfWork
from servicepulse.jobs.queue import run_pending
from servicepulse.models import Job, Verbatim, VerbatimMention
from servicepulse.verbatims.analysis import analyse_responses, count_pending
from servicepulse.verbatims.jobs import enqueue_analysis
from servicepulse.verbatims.repository import theme_matrix
from servicepulse.verbatims.settings import VerbatimSettings

from .conftest import add_responses

XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'
COMMENTS = [
    {"comment": "Ik moest een half uur wachten. Mail me op jan.jansen@example.nl of bel 06-12345678.", "nps": 3, "language": "nl"},
    {"comment": "The invoice was unclear and I had to repeat my story every time.", "nps": 2, "language": "en"},
    {"comment": "   ", "nps": 8},
    {"comment": "", "nps": 9},
    {"comment": None, "nps": 9},
    {"comment": "😀😀👍", "nps": 10},
    {"comment": "Heel vriendelijk geholpen, but the wait was long. " * 200, "nps": 7},
    {"comment": XSS, "nps": 5},
]


def _stored(engine):
    with UnitOfWork(engine) as s:
        v = {r.response_id: r for r in s.scalars(select(Verbatim))}
        m = list(s.execute(select(VerbatimMention.response_id, VerbatimMention.theme, VerbatimMention.start,
                                  VerbatimMention.end, VerbatimMention.matched)))
        s.expunge_all()
        return v, m


def test_analysis_stores_redacted_text_themes_and_handles_bad_input(engine):
    ids = add_responses(engine, COMMENTS)
    with UnitOfWork(engine) as s:
        assert count_pending(s) == 7  # NULL comments are no work; empty ones are skipped when analysed
        summary = analyse_responses(s)
    assert summary.analysed == 5 and summary.skipped_empty == 2
    verbatims, mentions = _stored(engine)
    assert set(verbatims) == {ids[0], ids[1], ids[5], ids[6], ids[7]}
    first = verbatims[ids[0]]
    assert "jan.jansen" not in first.text and "06-12345678" not in first.text
    assert "[EMAIL]" in first.text and "[PHONE]" in first.text and first.redactions == 2
    assert first.original is None  # retention default: redacted text only
    assert first.language == "nl" and verbatims[ids[1]].language == "en"
    assert first.sentiment < 0
    themes = {(rid, th) for rid, th, *_ in mentions}
    assert (ids[0], "reachability_waiting") in themes
    assert (ids[1], "invoice_clarity") in themes and (ids[1], "repeat_yourself") in themes
    for rid, _theme, start, end, matched in mentions:  # spans refer to the stored (redacted) text
        assert verbatims[rid].text[start:end].lower() == matched.lower()[: end - start]
    assert len(verbatims[ids[6]].text) > 9000
    assert verbatims[ids[7]].text == XSS  # stored as text; pages escape it
    assert -1.0 <= verbatims[ids[5]].sentiment <= 1.0


def test_rerun_skips_analysed_and_reanalyse_replaces(engine):
    ids = add_responses(engine, COMMENTS[:2])
    with UnitOfWork(engine) as s:
        analyse_responses(s)
    with UnitOfWork(engine) as s:
        assert analyse_responses(s).analysed == 0
        again = analyse_responses(s, only_missing=False)
    assert again.analysed == 2
    verbatims, mentions = _stored(engine)
    assert set(verbatims) == set(ids)
    assert len(mentions) == len(set((r, t, a, b) for r, t, a, b, _ in mentions))  # no duplicates after re-analysis


def test_retention_original_keeps_the_comment(engine):
    [rid] = add_responses(engine, COMMENTS[:1])
    with UnitOfWork(engine) as s:
        analyse_responses(s, settings=VerbatimSettings(retention="original"))
    verbatims, _ = _stored(engine)
    assert verbatims[rid].original == COMMENTS[0]["comment"]
    assert "[EMAIL]" in verbatims[rid].text


def test_customer_number_pattern_from_settings(engine):
    [rid] = add_responses(engine, [{"comment": "Mijn klantnummer is GN-482913 en de factuur klopt niet", "nps": 4}])
    with UnitOfWork(engine) as s:
        analyse_responses(s, settings=VerbatimSettings(customer_patterns=[r"\bGN-\d{6}\b"]))
    verbatims, _ = _stored(engine)
    assert "482913" not in verbatims[rid].text


def test_job_analyses_responses_after_they_arrive(engine):
    ids = add_responses(engine, COMMENTS[:2])
    with UnitOfWork(engine) as s:
        enqueue_analysis(s, ids)
    run_pending(engine, now=datetime.now(UTC))
    with UnitOfWork(engine) as s:
        assert s.scalar(select(func.count()).select_from(Verbatim)) == 2
        assert s.scalar(select(Job.status).where(Job.kind == "verbatims.analyse")) == "done"


def test_theme_matrix_has_one_row_per_comment_and_rolls_up(engine):
    from servicepulse.kernels.text import load_default_codeframe

    ids = add_responses(engine, COMMENTS[:3])
    with UnitOfWork(engine) as s:
        analyse_responses(s)
        cf = load_default_codeframe()
        m = theme_matrix(s, codeframe=cf)
    assert list(m.index) == ids[:2]
    assert m.loc[ids[1], "invoice_clarity"] == 1 and m.loc[ids[1], "billing_price"] == 1  # parent rolls up
    assert m.loc[ids[0], "invoice_clarity"] == 0
    assert set(m.columns) == set(cf.keys) and set(m.to_numpy().ravel()) <= {0, 1}


def test_sentiment_model_trained_on_own_scored_comments(engine):
    from servicepulse.verbatims.analysis import train_sentiment_model
    from tests.kernels.text.verbatim_composer import compose_comments

    composed = compose_comments(260, seed=5)
    add_responses(engine, [{"comment": c.text, "nps": c.score} for c in composed])
    with UnitOfWork(engine) as s:
        assert train_sentiment_model(s) is None  # nothing analysed yet: nothing to learn from
        analyse_responses(s)
        model = train_sentiment_model(s)
        assert model is not None
        again = analyse_responses(s, only_missing=False, model=model)
        stored = [v.sentiment for v in s.scalars(select(Verbatim).order_by(Verbatim.response_id))]
    assert again.analysed == 260
    scores = np.array([c.score for c in composed])
    stored = np.array(stored)
    # the model's comment score separates the detractors from the promoters it was trained on
    assert stored[scores <= 6].mean() < 0 < stored[scores >= 9].mean()
