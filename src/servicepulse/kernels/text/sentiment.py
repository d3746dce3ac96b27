"""Sentiment model that learns from comments and the score that came with them.

Labels come from the score given in the same survey answer:

- NPS (0-10): 0-6 negative, 7-8 passive, 9-10 positive;
- grade (1-10, the Dutch 'rapportcijfer'): 1-5 negative, 6-7 middle, 8-10 positive.

The scale is taken from ``scale=`` or detected: a 0 among the scores means NPS,
otherwise grade. Middle answers are dropped by default (``middle='drop'``): a
passive's text is mixed and blurs the two ends. With ``middle='neutral'`` they
form a third class. Either way `predict` returns P(positive) - P(negative),
a float in [-1, 1].

Features: TF-IDF of word 1-2-grams and of character 3-5-grams within words
(robust to Dutch compounds and typos), plus the lexicon score as one extra
column, into a logistic regression (scikit-learn). `explain` decomposes the
linear score into per-word contributions.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from .language import detect_language
from .lexicon import lexicon_hits, lexicon_sentiment
from .tokens import tokenize

MAX_CHARS = 5000  # longer comments are cut for the vectorisers; the start carries the gist
LEX_SCALE = 3.0   # lexicon column scale, so L2 regularisation does not drown it


@dataclass(frozen=True)
class Contribution:
    term: str
    weight: float   # contribution to the model's log-odds of positive (+) vs negative (-)
    source: str     # 'word', 'word n-gram', 'lexicon'


@dataclass(frozen=True)
class Explanation:
    score: float                          # predict() for this text
    lexicon_score: float                  # lexicon_sentiment() for this text
    intercept: float
    contributions: list[Contribution] = field(default_factory=list)  # largest |weight| first
    lexicon_hits: list[tuple[str, float]] = field(default_factory=list)


def _as_texts(texts: Iterable, what: str = "texts") -> list[str]:
    if isinstance(texts, str):
        raise TypeError(f"{what} must be a list of comments, not a single string")
    out = []
    for t in texts:
        if t is None or (isinstance(t, float) and math.isnan(t)):
            out.append("")
        else:
            out.append(str(t))
    return out


def score_labels(scores: Sequence, scale: str = "auto", middle: str = "drop") -> tuple[np.ndarray, str]:
    """Map survey scores to labels -1/0/+1 (0 = middle; NaN for dropped rows).

    Raises ValueError naming the first bad row.
    """
    vals = []
    for i, s in enumerate(scores):
        try:
            v = float(s)
        except (TypeError, ValueError):
            raise ValueError(f"score in row {i} is {s!r}, not a number") from None
        if math.isnan(v):
            raise ValueError(f"score in row {i} is missing; drop the row or give a score")
        vals.append(v)
    arr = np.asarray(vals, dtype=float)
    if scale == "auto":
        scale = "nps" if (arr.size and arr.min() == 0) else "grade"
    lo = {"nps": 0, "grade": 1}.get(scale)
    if lo is None:
        raise ValueError(f"scale must be 'nps', 'grade' or 'auto', not {scale!r}")
    bad = np.flatnonzero((arr < lo) | (arr > 10))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"score in row {i} is {vals[i]:g}, outside the {scale} range {lo}-10")
    if scale == "nps":
        neg, pos = arr <= 6, arr >= 9
    else:
        neg, pos = arr <= 5, arr >= 8
    lab = np.where(neg, -1.0, np.where(pos, 1.0, 0.0 if middle == "neutral" else np.nan))
    return lab, scale


class SentimentModel:
    """Comment sentiment learned from scores; see the module doc.

    language: 'nl', 'en', or 'auto' (detect per comment for the lexicon feature).
    blend: weight of the plain lexicon score mixed into `predict` (0 = model only).
    """

    def __init__(self, language: str = "nl", scale: str = "auto", middle: str = "drop",
                 C: float = 4.0, blend: float = 0.0, min_df: int = 2, random_state: int = 0):
        if middle not in ("drop", "neutral"):
            raise ValueError(f"middle must be 'drop' or 'neutral', not {middle!r}")
        if not 0.0 <= blend <= 1.0:
            raise ValueError(f"blend must be between 0 and 1, not {blend!r}")
        self.language = language
        self.scale = scale
        self.middle = middle
        self.C = C
        self.blend = blend
        self.min_df = min_df
        self.random_state = random_state
        self.scale_: str | None = None
        self._fitted = False

    # -- features ----------------------------------------------------------------
    def _langs(self, texts: list[str]) -> list[str]:
        if self.language in ("nl", "en"):
            return [self.language] * len(texts)
        return [detect_language(t) for t in texts]

    def _lex(self, texts: list[str], langs: list[str]) -> np.ndarray:
        return np.array([lexicon_sentiment(t, lg) for t, lg in zip(texts, langs)], dtype=float)

    def _features(self, texts: list[str], lex: np.ndarray):
        cut = [t[:MAX_CHARS] for t in texts]
        xw = self._word.transform(cut)
        xc = self._char.transform(cut)
        xl = sparse.csr_matrix(lex.reshape(-1, 1) * LEX_SCALE)
        return sparse.hstack([xw, xc, xl], format="csr")

    # -- training -------------------------------------------------------------------
    def fit(self, texts: Sequence[str], scores: Sequence) -> SentimentModel:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        texts = _as_texts(texts)
        scores = list(scores)
        if len(texts) != len(scores):
            raise ValueError(f"got {len(texts)} comments but {len(scores)} scores; they must pair up")
        labels, self.scale_ = score_labels(scores, self.scale, self.middle)
        keep = ~np.isnan(labels)
        texts = [t for t, k in zip(texts, keep) if k]
        y = labels[keep].astype(int)
        classes, counts = np.unique(y, return_counts=True)
        if -1 not in classes or 1 not in classes or counts.min() < 2:
            raise ValueError("training needs at least 2 negative and 2 positive comments "
                             f"(found {int((y == -1).sum())} negative, {int((y == 1).sum())} positive)")
        min_df = self.min_df if len(texts) >= 20 * self.min_df else 1
        self._word = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), min_df=min_df, sublinear_tf=True,
                                     token_pattern=r"(?u)\b\w[\w']*\b", max_features=200_000, dtype=np.float32)
        self._char = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=min_df, sublinear_tf=True,
                                     max_features=300_000, dtype=np.float32)
        cut = [t[:MAX_CHARS] for t in texts]
        self._word.fit(cut)
        self._char.fit(cut)
        lex = self._lex(texts, self._langs(texts))
        X = self._features(texts, lex)
        # newton-cg: lbfgs was an order of magnitude slower on these sparse three-class fits
        self._clf = LogisticRegression(C=self.C, solver="newton-cg", max_iter=500, random_state=self.random_state)
        self._clf.fit(X, y)
        self._n_word = len(self._word.vocabulary_)
        self._n_char = len(self._char.vocabulary_)
        self._word_terms = self._word.get_feature_names_out()
        self._char_terms = self._char.get_feature_names_out()
        self._fitted = True
        return self

    def _check(self) -> None:
        if not self._fitted:
            raise RuntimeError("this SentimentModel is not trained yet: call .fit(texts, scores) first")

    # -- prediction -----------------------------------------------------------------
    def _direction(self) -> tuple[np.ndarray, float]:
        """Weights and intercept of the linear score for positive vs negative."""
        cls = list(self._clf.classes_)
        coef, icpt = self._clf.coef_, self._clf.intercept_
        if coef.shape[0] == 1:  # binary: one row for the class 1
            return coef[0], float(icpt[0])
        p, n = cls.index(1), cls.index(-1)
        return coef[p] - coef[n], float(icpt[p] - icpt[n])

    def predict(self, texts: Sequence[str], languages: Sequence[str] | None = None) -> np.ndarray:
        """Sentiment per comment in [-1, 1]: P(positive) - P(negative).

        languages: the comments' languages if already known (skips detection
        when the model was built with language='auto').
        """
        self._check()
        texts = _as_texts(texts)
        if not texts:
            return np.zeros(0)
        if languages is None:
            langs = self._langs(texts)
        elif len(languages) != len(texts):
            raise ValueError(f"got {len(texts)} comments but {len(languages)} languages; they must pair up")
        else:
            langs = list(languages) if self.language not in ("nl", "en") else [self.language] * len(texts)
        return self._predict(texts, self._lex(texts, langs))

    def _predict(self, texts: list[str], lex: np.ndarray) -> np.ndarray:
        proba = self._clf.predict_proba(self._features(texts, lex))
        cls = list(self._clf.classes_)
        score = proba[:, cls.index(1)] - proba[:, cls.index(-1)]
        if self.blend:
            score = (1 - self.blend) * score + self.blend * lex
        return np.clip(score, -1.0, 1.0)

    def explain(self, text: str, top: int = 10) -> Explanation:
        """Which words drove the score of one comment.

        Word uni/bigram contributions are coefficient x tf-idf value; each
        character n-gram's contribution is split over the words that contain
        it; the lexicon column's contribution is split over the lexicon hits in
        proportion to their valence. Weights are in log-odds units.
        """
        self._check()
        text = _as_texts([text])[0]
        lang = self._langs([text])[0]
        lex = self._lex([text], [lang])
        x = self._features([text], lex).tocsr()
        w, icpt = self._direction()
        contrib: dict[tuple[str, str], float] = {}
        cut = text[:MAX_CHARS]
        words = [t.lower for t in tokenize(cut) if t.kind == "word"]
        analyzer = self._char.build_analyzer()
        grams_per_word = {wd: set(analyzer(wd)) for wd in set(words)}
        for j, v in zip(x.indices, x.data):
            c = float(w[j] * v)
            if j < self._n_word:
                term = self._word_terms[j]
                key = (term, "word" if " " not in term else "word n-gram")
                contrib[key] = contrib.get(key, 0.0) + c
            elif j < self._n_word + self._n_char:
                gram = self._char_terms[j - self._n_word]
                owners = [wd for wd in words if gram in grams_per_word[wd]]
                for wd in owners:
                    contrib[(wd, "word")] = contrib.get((wd, "word"), 0.0) + c / len(owners)
        hits = lexicon_hits(text, lang)
        lex_total = float(w[-1] * lex[0] * LEX_SCALE)
        vsum = sum(abs(h.valence) for h in hits)
        for h in hits:
            share = lex_total * abs(h.valence) / vsum if vsum else 0.0
            key = (h.term.lower(), "lexicon")
            contrib[key] = contrib.get(key, 0.0) + share
        items = [Contribution(t, wt, src) for (t, src), wt in contrib.items() if abs(wt) > 1e-9]
        items.sort(key=lambda c: -abs(c.weight))
        return Explanation(
            score=float(self.predict([text])[0]),
            lexicon_score=float(lex[0]),
            intercept=icpt,
            contributions=items[:top],
            lexicon_hits=[(h.term, h.valence) for h in hits],
        )
