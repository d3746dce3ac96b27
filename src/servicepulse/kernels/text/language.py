"""Language of a comment: 'nl', 'en', 'other' or 'unknown'.

py3langid (offline, ships its model) restricted to a candidate set: Dutch,
English and the languages customers of a Dutch service organisation write in
most. Afrikaans and the Scandinavian languages are left out on purpose: on
short Dutch or English answers they win by accident, and they are rarely
written here. A prior weight then favours the expected languages; a comment
whose best posterior stays below the threshold, or that has too few letters
(emoji only, "ok"), is 'unknown'. Another candidate language is 'other'.

`guess_languages` decides many comments at once: the same byte n-gram walk
over the identifier's model, then one sparse matrix product for the naive
Bayes scores of the whole batch instead of a dozen small NumPy calls per
comment. It computes in float64 where py3langid uses float32, so confidences
agree to about 1e-6 (a test holds it to `guess_language` on a corpus).
"""
from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

DEFAULT_CANDIDATES = ("nl", "en", "de", "fr", "es", "it", "pt", "tr", "pl", "ar")
DEFAULT_PRIOR = {"nl": 1.0, "en": 1.0}  # every other candidate gets OTHER_PRIOR
OTHER_PRIOR = 0.2
MIN_LETTERS = 3
_ENOUGH_LETTERS = re.compile(r"[^\W\d_](?:[\W\d_]*[^\W\d_]){" + str(MIN_LETTERS - 1) + "}")
THRESHOLD = 0.5

_lock = threading.Lock()
_identifiers: dict[tuple[str, ...], object] = {}
_batch_models: dict[tuple[str, ...], _BatchModel] = {}
CUT = 1000  # characters that decide a long comment


def _identifier(candidates: tuple[str, ...]):
    with _lock:
        ident = _identifiers.get(candidates)
        if ident is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
            ident.set_languages(list(candidates))
            _identifiers[candidates] = ident
        return ident


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    language: str     # 'nl', 'en', 'other' or 'unknown'
    detected: str     # best candidate code before mapping ('de', 'fr' ...), '' if none
    confidence: float


def guess_language(
    text: str,
    candidates: tuple[str, ...] = DEFAULT_CANDIDATES,
    prior: dict[str, float] | None = None,
    threshold: float = THRESHOLD,
) -> LanguageGuess:
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    if not _ENOUGH_LETTERS.search(text):
        return LanguageGuess("unknown", "", 0.0)
    ident = _identifier(tuple(candidates))
    # Long comments: the first 1,000 characters decide; enough for a naive Bayes
    # over byte n-grams and it keeps a 10,000-character comment cheap.
    ranked = ident.rank(text[:CUT])
    prior = DEFAULT_PRIOR if prior is None else prior
    # ten numbers: plain Python is faster than NumPy here
    post = [(p * prior.get(lang, OTHER_PRIOR), lang) for lang, p in ranked]
    total = sum(p for p, _ in post)
    if total <= 0:
        return LanguageGuess("unknown", "", 0.0)
    best_p, best = max(post)
    conf = best_p / total
    if conf < threshold:
        return LanguageGuess("unknown", best, conf)
    return LanguageGuess(best if best in ("nl", "en") else "other", best, conf)


def detect_language(text: str, threshold: float = THRESHOLD) -> str:
    """'nl', 'en', 'other' (another language) or 'unknown' (too short/unclear)."""
    return guess_language(text, threshold=threshold).language


class _BatchModel:
    """An identifier's tables as the batch walk and the matrix product use them."""

    def __init__(self, ident):
        self.nextmove = ident.tk_nextmove
        self.rowbase = [r << 8 for r in ident.tk_row]  # a state's row starts at its number x 256 (one per byte)
        self.output = list(ident.tk_output)            # feature ending in a state, or -1
        ptc = np.asarray(ident.nb_ptc, dtype=np.float64)
        pc = np.asarray(ident.nb_pc, dtype=np.float64)
        # Labels that occur twice (script variants) share one column, holding the sum of the two.
        labels = list(dict.fromkeys(ident.nb_classes))
        merge = np.zeros((len(ident.nb_classes), len(labels)))
        for i, c in enumerate(ident.nb_classes):
            merge[i, labels.index(c)] = 1.0
        self.labels = labels
        self.merge = merge
        self.ptc, self.pc = ptc, pc

    def features(self, data: bytes, out: list[int]) -> int:
        """Append the n-gram features found in `data` to `out`; returns how many."""
        nm, rb, output = self.nextmove, self.rowbase, self.output
        append = out.append
        state, before = 0, len(out)
        for byte in data:
            state = nm[rb[state] + byte]
            f = output[state]
            if f >= 0:
                append(f)
        return len(out) - before


# Comments whose decision the batch path must reproduce before it is used (checked once per
# candidate set): a py3langid release that scores differently falls back to `guess_language`.
_SELF_CHECK = ("De monteur kwam niet opdagen", "The invoice is completely unclear", "Prima",
               "Ich musste dreimal anrufen", "Fatura yanlış ve kimse aramadı", "ok 👍")


def _batch_model(candidates: tuple[str, ...]) -> _BatchModel | None:
    ident = _identifier(candidates)
    with _lock:
        if candidates in _batch_models:
            return _batch_models[candidates]
    try:
        model = _BatchModel(ident)
        got = _guess_batch(model, list(_SELF_CHECK), None, THRESHOLD)
        ok = all(g.detected == w.detected and abs(g.confidence - w.confidence) < 1e-4
                 for g, w in zip(got, (guess_language(t, candidates) for t in _SELF_CHECK)))
    except (AttributeError, TypeError, ValueError, IndexError):  # other model layout
        ok = False
    with _lock:
        _batch_models[candidates] = model if ok else None
    return _batch_models[candidates]


def _encode(text: str) -> bytes:
    """The bytes the identifier reads: upper-case-only text lowered, NFC, UTF-8."""
    if text.isupper():
        text = text.lower()
    return unicodedata.normalize("NFC", text).encode("utf8", errors="surrogatepass")


def guess_languages(
    texts: Sequence[str],
    candidates: tuple[str, ...] = DEFAULT_CANDIDATES,
    prior: dict[str, float] | None = None,
    threshold: float = THRESHOLD,
) -> list[LanguageGuess]:
    """`guess_language` for many comments at once (see the module doc)."""
    if not texts:
        return []
    texts = [t if isinstance(t, str) else "" if t is None else str(t) for t in texts]
    model = _batch_model(tuple(candidates))
    if model is None:
        return [guess_language(t, candidates, prior, threshold) for t in texts]
    return _guess_batch(model, texts, prior, threshold)


def _guess_batch(model: _BatchModel, texts: Sequence[str], prior: dict[str, float] | None,
                 threshold: float) -> list[LanguageGuess]:
    out = [LanguageGuess("unknown", "", 0.0)] * len(texts)
    todo = [i for i, t in enumerate(texts) if _ENOUGH_LETTERS.search(t)]
    if not todo:
        return out
    feats: list[int] = []
    counts = np.empty(len(todo), dtype=np.int64)
    lengths = np.empty(len(todo), dtype=np.float64)
    for k, i in enumerate(todo):
        data = _encode(texts[i][:CUT])
        lengths[k] = len(data) or 1
        counts[k] = model.features(data, feats)
    rows = np.repeat(np.arange(len(todo)), counts)
    # n-gram counts per comment (duplicates summed), weighted log(1 + count) as the identifier does
    x = sparse.csr_matrix((np.ones(len(feats)), (rows, np.asarray(feats, dtype=np.int64))),
                          shape=(len(todo), model.ptc.shape[0]))
    x.sum_duplicates()
    np.log1p(x.data, out=x.data)
    scores = np.asarray(x @ model.ptc) + model.pc
    scores[counts == 0] = 0.0  # no feature at all: every language equally likely
    scores /= np.sqrt(lengths)[:, None]  # the identifier's temperature: sqrt of the byte length
    scores = np.exp(scores - scores.max(axis=1, keepdims=True))
    probs = (scores / scores.sum(axis=1, keepdims=True)) @ model.merge
    prior = DEFAULT_PRIOR if prior is None else prior
    post = probs * np.array([prior.get(lang, OTHER_PRIOR) for lang in model.labels])
    total = post.sum(axis=1)
    # ties go to the larger language code, as max() over (posterior, code) pairs does
    by_code = sorted(range(len(model.labels)), key=lambda j: model.labels[j], reverse=True)
    best = np.asarray(by_code)[np.argmax(post[:, by_code], axis=1)]
    conf = post[np.arange(len(todo)), best] / np.where(total > 0, total, 1.0)
    for k, i in enumerate(todo):
        if total[k] <= 0:
            continue
        lang, c = model.labels[best[k]], float(conf[k])
        if c < threshold:
            out[i] = LanguageGuess("unknown", lang, c)
        else:
            out[i] = LanguageGuess(lang if lang in ("nl", "en") else "other", lang, c)
    return out
