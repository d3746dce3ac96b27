"""On the small demo, the stored themes recover the causes the generator wrote into each comment.

The generator records per comment which causes it wrote (answers.value_json of the `why` answer, with the
polarity of each). The truth comes from there; the prediction from the stored analysis (theme_matrix and
the mentions' sentiment), so the whole path is checked: pipeline, storage, queries.

Thresholds: the demo's cause fragments name their cause in plain words (with the generator's slips:
no capitals, doubled letters), which is what a keyword/lemma code frame is for, so per cause we demand
recall and precision of at least 0.90 where the cause occurs 20 or more times (one miss in ten allowed;
a broken keyword list drops far below that), and at most one miss or false hit for rarer causes, where a
rate is too noisy. Polarity: the sentiment of the clause holding the mention must agree in sign with the
polarity the generator wrote for at least 80% of the mentions (the lexicon is scored on whole clauses that
may carry the opener's tone too, so this bound is looser).
"""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.kernels.text import load_default_codeframe
from servicepulse.models import Answer, VerbatimMention
from servicepulse.verbatims.analysis import analyse_responses
from servicepulse.verbatims.repository import theme_matrix


@pytest.mark.demo("small", 2026)  # a fresh copy of the small demo (the seed the metrics tests use: one load per run)
def test_themes_recover_the_generated_causes(engine):
    with UnitOfWork(engine) as s:
        summary = analyse_responses(s, workers=2)
    with UnitOfWork(engine) as s:
        truth = {rid: v for rid, v in s.execute(select(Answer.response_id, Answer.value_json)
                                                   .where(Answer.question_key == "why"))}
        matrix = theme_matrix(s, codeframe=load_default_codeframe())
        mentions = s.execute(select(VerbatimMention.response_id, VerbatimMention.theme, VerbatimMention.sentiment)).all()
    assert summary.analysed > 1000 and set(matrix.index) == set(truth)

    causes = sorted({c for v in truth.values() for c in v["causes"]})
    assert len(causes) >= 10
    tp, fp, fn = Counter(), Counter(), Counter()
    for rid, v in truth.items():
        true = set(v["causes"])
        row = matrix.loc[rid]
        for c in causes:
            pred = bool(row[c])
            tp[c] += pred and c in true
            fp[c] += pred and c not in true
            fn[c] += (not pred) and c in true
    for c in causes:
        n = tp[c] + fn[c]
        if n >= 20:
            assert tp[c] / n >= 0.90, f"{c}: recall {tp[c]}/{n}"
            assert tp[c] / (tp[c] + fp[c]) >= 0.90, f"{c}: precision {tp[c]}/{tp[c] + fp[c]}"
        else:
            assert fn[c] <= 1 and fp[c] <= 1, f"{c}: {fn[c]} missed, {fp[c]} false hits of {n}"

    agree = total = 0
    for rid, theme, sentiment in mentions:
        polarity = truth[rid]["sentiment"].get(theme)
        if polarity is None or sentiment == 0:
            continue
        total += 1
        agree += (sentiment > 0) == (polarity == "positive")
    assert total > 500 and agree / total >= 0.80, f"polarity agrees for {agree}/{total} mentions"
