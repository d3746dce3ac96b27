"""Discover candidate themes in comments that no code-frame theme covers.

Uncovered comments are reduced to their content lemmas (Dutch and English
stop words removed, placeholders dropped), weighted with TF-IDF, and split
into topics by non-negative matrix factorisation (scikit-learn NMF). Each
topic becomes a proposal with its top terms and example comments; an analyst
reviews it and `adopt_proposal` turns it into a code-frame theme.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from .codeframe import CodeFrame, Theme, ThemeTerms, load_default_codeframe
from .language import detect_language
from .themes import matcher_for
from .tokens import LANGS, lemma, tokenize


@dataclass(frozen=True)
class ThemeProposal:
    key: str                             # suggested theme key
    top_terms: tuple[str, ...]           # lemmas (or lemma bigrams), strongest first
    term_weights: tuple[float, ...]
    size: int                            # uncovered comments assigned to this topic
    languages: tuple[str, ...]           # languages of those comments, most common first
    example_indices: tuple[int, ...]     # indices into the input comments
    examples: tuple[str, ...]


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    text = resources.files("servicepulse.kernels.text").joinpath("data/stopwords_nl.txt").read_text(encoding="utf-8")
    nl = {w for line in text.splitlines() if not line.startswith("#") for w in line.split()}
    return frozenset(nl | set(ENGLISH_STOP_WORDS))


def content_lemmas(text: str, language: str) -> list[str]:
    """Lemmas of the content words of a comment (no stop words, numbers, placeholders)."""
    stops = stop_words()
    lang = language if language in LANGS else "nl"
    out = []
    for t in tokenize(text):
        if t.kind != "word" or len(t.lower) < 2 or not t.lower[0].isalpha() or t.lower in stops:
            continue
        lm = lemma(t.lower, lang)
        if lm not in stops:
            out.append(lm)
    return out


_SLUG = re.compile(r"[^a-z0-9]+")


def _slug(term: str) -> str:
    s = _SLUG.sub("_", term.lower()).strip("_")
    return s if s and s[0].isalpha() else f"t_{s}"


def discover_themes(
    texts: Sequence[str],
    languages: Sequence[str] | None = None,
    codeframe: CodeFrame | None = None,
    n_topics: int | None = None,
    n_terms: int = 8,
    n_examples: int = 3,
    min_df: int = 3,
    random_state: int = 0,
) -> list[ThemeProposal]:
    """Candidate themes from the comments that no theme of `codeframe` covers.

    Returns proposals sorted by size (largest first); an empty list when too
    few uncovered comments remain to find a pattern (fewer than 10).
    """
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = ["" if t is None else str(t) for t in texts]
    if languages is None:
        languages = [detect_language(t) for t in texts]
    elif len(languages) != len(texts):
        raise ValueError(f"got {len(texts)} comments but {len(languages)} languages; they must pair up")
    cf = codeframe or load_default_codeframe()
    matcher = matcher_for(cf)
    idx, docs, langs = [], [], []
    for i, (t, lg) in enumerate(zip(texts, languages)):
        if not t.strip() or matcher.find(t, lg):
            continue
        lemmas = content_lemmas(t, lg)
        if lemmas:
            idx.append(i)
            docs.append(" ".join(lemmas))
            langs.append(lg)
    if len(docs) < 10:
        return []
    vec = TfidfVectorizer(analyzer="word", tokenizer=str.split, token_pattern=None, lowercase=False,
                          ngram_range=(1, 2), min_df=min(min_df, max(1, len(docs) // 10)), max_df=0.5,
                          sublinear_tf=True)
    try:
        X = vec.fit_transform(docs)
    except ValueError:  # every term pruned: nothing shared between comments
        return []
    if X.shape[1] < 2:
        return []
    k = n_topics or int(np.clip(len(docs) // 40, 2, 10))
    k = max(1, min(k, X.shape[0] - 1, X.shape[1] - 1))
    nmf = NMF(n_components=k, init="nndsvda", random_state=random_state, max_iter=400)
    W = nmf.fit_transform(X)
    H = nmf.components_
    terms = vec.get_feature_names_out()
    assign = np.where(W.max(axis=1) > 0, W.argmax(axis=1), -1)
    proposals = []
    for c in range(k):
        members = np.flatnonzero(assign == c)
        if members.size == 0:
            continue
        order = np.argsort(-H[c])[:n_terms]
        top = tuple(str(terms[j]) for j in order if H[c, j] > 0)
        if not top:
            continue
        best = members[np.argsort(-W[members, c])][:n_examples]
        lang_counts = Counter(langs[m] for m in members)
        proposals.append(ThemeProposal(
            key=f"candidate_{_slug(top[0])}",
            top_terms=top,
            term_weights=tuple(float(H[c, j]) for j in order[:len(top)]),
            size=int(members.size),
            languages=tuple(lg for lg, _ in lang_counts.most_common()),
            example_indices=tuple(int(idx[m]) for m in best),
            examples=tuple(texts[idx[m]] for m in best),
        ))
    proposals.sort(key=lambda p: -p.size)
    return proposals


def adopt_proposal(
    codeframe: CodeFrame,
    proposal: ThemeProposal,
    key: str | None = None,
    labels: dict[str, str] | None = None,
    parent: str | None = None,
    department: str | None = None,
    n_terms: int = 5,
) -> CodeFrame:
    """A new code frame with the proposal added as a theme.

    Single top terms become lemmas, two-word terms become keyword phrases, for
    each language the proposal's comments were written in (nl/en). Review the
    terms before saving: topics from NMF are suggestions, not truths.
    """
    key = key or proposal.key
    if labels is None:
        label = " / ".join(proposal.top_terms[:3]).replace("_", " ")
        labels = {"nl": label, "en": label}
    terms = proposal.top_terms[:n_terms]
    lemmas = tuple(t for t in terms if " " not in t)
    keywords = tuple(t.replace("_", " ") for t in terms if " " in t)
    langs = [lg for lg in proposal.languages if lg in LANGS] or list(LANGS)
    theme = Theme(key=key, labels=labels, parent=parent, department=department,
                  description="Adopted from automatic theme discovery; top terms: " + ", ".join(proposal.top_terms),
                  terms={lg: ThemeTerms(keywords=keywords, lemmas=lemmas) for lg in langs})
    return codeframe.with_theme(theme)
