"""Saved but unsent answers (a respondent pressed 'save' and may still change them) count nowhere until
they are submitted: not in the comment browser and its totals, not in the promise-kept rate."""

from __future__ import annotations

from servicepulse.db.session import UnitOfWork
from servicepulse.models import Response
from servicepulse.verbatims.analysis import analyse_responses
from servicepulse.verbatims.repository import VerbatimFilter, browse, score_totals

from .conftest import add_responses


def test_a_saved_comment_counts_once_it_is_submitted(engine, survey_version):
    sent, saved = add_responses(engine, [
        {"comment": "De monteur kwam niet opdagen.", "nps": 3, "completed": True},
        {"comment": "Nog niet klaar met invullen, de monteur was vriendelijk.", "nps": 9, "completed": False},
    ], survey_version)
    with UnitOfWork(engine) as s:
        analyse_responses(s, [sent, saved])
    with UnitOfWork(engine, readonly=True) as s:
        rows, total = browse(s, VerbatimFilter())
        totals = score_totals(s, VerbatimFilter())
    assert total == 1 and [r["response_id"] for r in rows] == [sent]
    assert totals["n"] == 1 and totals["detractors"] == 1 and totals["promoters"] == 0
    with UnitOfWork(engine) as s:  # the respondent sends it: now it counts
        s.get(Response, saved).completed = True
    with UnitOfWork(engine, readonly=True) as s:
        rows, total = browse(s, VerbatimFilter())
    assert total == 2 and {r["response_id"] for r in rows} == {sent, saved}
