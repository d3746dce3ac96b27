"""Verbatims: varied, in the customer's language, about the real causes of the case, tone matching the score."""

from __future__ import annotations

import random

import pandas as pd
import pytest
from sqlalchemy import text

from servicepulse.demo import verbatims


@pytest.fixture(scope="module")
def small(small_data):
    return small_data


def test_many_distinct_comments_per_language(small):
    r = small.responses
    with_comment = r[r["comment"].notna()]
    assert 0.45 <= len(with_comment) / len(r) <= 0.8  # some leave the box empty
    distinct = with_comment.groupby("language")["comment"].nunique()
    assert distinct["nl"] >= 500 and distinct["en"] >= 100
    # many texts are unique, not a handful repeated
    assert with_comment["comment"].nunique() / len(with_comment) > 0.6


def test_comments_are_in_the_customers_language(small):
    language = pytest.importorskip("servicepulse.kernels.text.language")  # py3langid, offline
    r = small.responses[small.responses["comment"].notna()]
    r = pd.concat([r[r["language"] == "nl"].head(150), r[r["language"] == "en"].head(100)])
    detected = pd.Series([language.detect_language(c) for c in r["comment"]], index=r.index)
    sure = detected.isin(["nl", "en"])
    assert sure.mean() > 0.8  # very short comments ("Top!") may stay unknown
    assert (detected[sure] == r.loc[sure, "language"]).mean() > 0.95


def test_causes_are_the_real_causes_of_the_case(small):
    r = small.responses[small.responses["comment"].notna()]
    d = small.drivers.reindex(r["case"]).reset_index(drop=True)
    causes = [dict(c) for c in r["causes"]]
    promise = pd.Series([c.get("promise_not_kept") == "negative" or c.get("engineer_visit") == "negative"
                         for c in causes])
    assert promise.any()
    # a broken promise is only written about when a promise was broken
    assert d.loc[promise.to_numpy(), "broken_promise"].all()
    dark = pd.Series([c.get("kept_informed") == "negative" for c in causes])
    assert d.loc[dark.to_numpy(), "dark_period_over_2_days"].all()
    informed = pd.Series([c.get("kept_informed") == "positive" for c in causes])
    assert d.loc[informed.to_numpy(), "proactive_update"].all()
    ftr = pd.Series([c.get("first_time_right") == "positive" for c in causes])
    assert d.loc[ftr.to_numpy(), "first_time_right"].all()
    # and customers with a broken promise mostly say so
    assert promise[d["broken_promise"].to_numpy() == 1].mean() > 0.5


def test_tone_matches_the_score(small):
    r = small.responses[small.responses["comment"].notna()]
    negative_share = pd.Series([sum(p == "negative" for _, p in c) / len(c) for c in r["causes"]], index=r.index)
    assert negative_share[r["nps"] <= 6].mean() > 0.7
    assert negative_share[r["nps"] >= 9].mean() < 0.5
    negative_opener = r["comment"].str.startswith(tuple(o for o in verbatims.OPENERS["negative"]["nl"] if o))
    assert (r.loc[negative_opener, "nps"] <= 6).all()


def test_theme_coder_recovers_the_written_causes(small):
    themes = pytest.importorskip("servicepulse.kernels.text.themes")
    r = small.responses[small.responses["comment"].notna()].head(300)
    hits = total = extra = 0
    for comment, language, causes in zip(r["comment"], r["language"], r["causes"]):
        found = {m.theme for m in themes.find_themes(comment, language)}
        written = {c for c, _ in causes}
        hits += len(written & found)
        total += len(written)
        extra += len(found - written)
    assert hits / total > 0.9  # a typo now and then may hide one
    assert extra / total < 0.1


def test_causes_are_stored_with_the_why_answer(loaded):
    engine, _ = loaded
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT value_text, value_json FROM answers WHERE question_key = 'why'")).all()
    assert rows
    for value_text, value_json in rows:
        payload = value_json if isinstance(value_json, dict) else __import__("json").loads(value_json)
        assert value_text and payload["causes"]
        assert set(payload["sentiment"]) == set(payload["causes"])
        assert set(payload["sentiment"].values()) <= {"positive", "negative"}


def test_compose_uses_every_cause_in_both_languages():
    rnd = random.Random(1)
    for cause, polarities in verbatims.FRAGMENTS.items():
        for polarity, languages in polarities.items():
            assert set(languages) == {"nl", "en"}
            for language in ("nl", "en"):
                text_ = verbatims.compose(rnd, language, 3 if polarity == "negative" else 10, [(cause, polarity)])
                assert text_.strip()
