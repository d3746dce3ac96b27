"""SentimentModel: labels from scores, fit/predict, held-out quality, explain, bad input."""
import math

import numpy as np
import pytest

from servicepulse.kernels.text import SentimentModel
from servicepulse.kernels.text.sentiment import score_labels

from .verbatim_composer import compose_comments


@pytest.fixture(scope="module")
def trained():
    train = compose_comments(1200, seed=101)
    model = SentimentModel(language="auto").fit([c.text for c in train], [c.score for c in train])
    return model


@pytest.fixture(scope="module")
def held_out():
    return compose_comments(600, seed=202)  # different random draws from training


def test_nps_and_grade_labels():
    lab, scale = score_labels([0, 6, 7, 8, 9, 10])
    assert scale == "nps"
    assert lab[[0, 1, 4, 5]].tolist() == [-1, -1, 1, 1] and np.isnan(lab[2]) and np.isnan(lab[3])
    lab, scale = score_labels([1, 5, 6, 7, 8, 10])
    assert scale == "grade"
    assert lab[[0, 1, 4, 5]].tolist() == [-1, -1, 1, 1] and np.isnan(lab[2:4]).all()
    lab, _ = score_labels([7, 8], scale="nps", middle="neutral")
    assert lab.tolist() == [0, 0]
    # NPS 6 is negative, grade 6 is a middle answer
    assert score_labels([6], scale="nps")[0][0] == -1 and np.isnan(score_labels([6], scale="grade")[0][0])


def test_predict_range_and_held_out_quality(trained, held_out):
    texts = [c.text for c in held_out]
    pred = trained.predict(texts)
    assert pred.shape == (len(texts),)
    assert np.all((pred >= -1) & (pred <= 1))
    lab, _ = score_labels([c.score for c in held_out], scale="nps")
    keep = ~np.isnan(lab)
    acc = np.mean(np.where(pred[keep] >= 0, 1, -1) == lab[keep])
    majority = max(np.mean(lab[keep] == 1), np.mean(lab[keep] == -1))
    assert acc > majority + 0.15, (acc, majority)
    assert acc > 0.8


def test_grade_scale_and_neutral_middle():
    train = compose_comments(500, seed=7, scale="grade")
    texts, scores = [c.text for c in train], [c.score for c in train]
    m = SentimentModel(language="auto", middle="neutral").fit(texts, scores)
    assert m.scale_ == "grade"
    assert set(m._clf.classes_) == {-1, 0, 1}
    p = m.predict(["Heel vriendelijk en snel geholpen", "De monteur kwam niet opdagen"])
    assert p[0] > 0 > p[1]


def test_explain_names_the_words(trained):
    ex = trained.explain("De monteur kwam niet opdagen en niemand belde terug. Erg teleurgesteld.")
    assert ex.score < 0
    assert ex.contributions, ex
    terms = [c.term for c in ex.contributions]
    assert any("teleurgesteld" in t or "opdagen" in t or "niemand" in t for t in terms), terms
    neg = sum(c.weight for c in ex.contributions if c.weight < 0)
    pos = sum(c.weight for c in ex.contributions if c.weight > 0)
    assert abs(neg) > pos
    assert any(t == "teleurgesteld" for t, v in ex.lexicon_hits)
    assert all(abs(a.weight) >= abs(b.weight) for a, b in zip(ex.contributions, ex.contributions[1:]))


def test_explain_positive(trained):
    ex = trained.explain("Vriendelijke medewerker, alles in één keer opgelost!")
    assert ex.score > 0
    assert ex.contributions[0].weight > 0


ODD = ["", "👍", "😡😡😡", "<script>alert(1)</script>", "x" * 10_000, "De factuur klopt niet. " * 500,
       "Goed geholpen but very slow"]


@pytest.mark.parametrize("text", ODD, ids=["empty", "emoji", "emojis", "script", "10k-x", "10k-words", "mixed"])
def test_odd_texts_predict(trained, text):
    p = trained.predict([text])
    assert p.shape == (1,) and -1 <= p[0] <= 1 and not math.isnan(p[0])
    trained.explain(text)  # no exception


def test_none_and_nan_texts(trained):
    p = trained.predict([None, float("nan"), "prima"])
    assert np.all(np.abs(p) <= 1)


def test_bad_training_input_messages():
    m = SentimentModel()
    with pytest.raises(ValueError, match="3 comments but 2 scores"):
        m.fit(["a", "b", "c"], [1, 2])
    with pytest.raises(ValueError, match="row 1 is missing"):
        m.fit(["a", "b"], [1, float("nan")])
    with pytest.raises(ValueError, match="row 0 is 'tien', not a number"):
        m.fit(["a"], ["tien"])
    with pytest.raises(ValueError, match="row 2 is 11, outside the nps range"):
        m.fit(["a", "b", "c"], [0, 10, 11])
    with pytest.raises(ValueError, match="at least 2 negative and 2 positive"):
        m.fit(["goed", "top", "prima"], [9, 10, 9])
    with pytest.raises(TypeError, match="not a single string"):
        m.fit("goed", [9])
    with pytest.raises(RuntimeError, match="not trained yet"):
        SentimentModel().predict(["x"])
