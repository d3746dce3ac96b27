"""Find code-frame themes in a comment, with character spans for highlighting.

The code frame is compiled once per language into lookup tables (written
form and lemma of every keyword word, phrases by their first word, and one
combined regular expression), so coding a comment is a single pass over its
tokens plus one regex scan.
"""
from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from .codeframe import CodeFrame, load_default_codeframe
from .tokens import LANGS, Token, lemma, tokenize


class ThemeMention(NamedTuple):
    theme: str
    start: int      # character span in the text that was coded
    end: int
    matched: str    # the words as written in the comment
    via: str        # 'keyword', 'lemma', 'phrase' or 'pattern'
    language: str   # language section of the code frame that matched


@dataclass
class _LangTables:
    words: dict[str, set[str]]                             # form or lemma -> themes
    lemmas: dict[str, set[str]]                            # lemma only -> themes
    phrases: dict[str, list[tuple[tuple[frozenset[str], ...], str]]]  # first form -> (elements, theme)
    regex: re.Pattern | None
    group_theme: dict[str, str]
    cache: dict = field(default_factory=dict)  # word -> (lemma, hits, phrase candidates)


_NAMED_GROUP = re.compile(r"\(\?P<[^>]+>")


def _forms(word: str, lang: str) -> frozenset[str]:
    w = word.lower().replace("’", "'")
    return frozenset({w, lemma(w, lang)})


def _compile(cf: CodeFrame, lang: str) -> _LangTables:
    words: dict[str, set[str]] = {}
    lemmas: dict[str, set[str]] = {}
    phrases: dict[str, list] = {}
    alts, group_theme = [], {}
    for theme in cf.themes:
        terms = theme.terms.get(lang)
        if terms is None:
            continue
        for kw in terms.keywords:
            toks = [t for t in tokenize(kw) if t.kind == "word"]
            if not toks:
                continue
            if len(toks) == 1:
                for f in _forms(toks[0].lower, lang):
                    words.setdefault(f, set()).add(theme.key)
            else:
                elements = tuple(_forms(t.lower, lang) for t in toks)
                for f in elements[0]:
                    phrases.setdefault(f, []).append((elements, theme.key))
        for lm in terms.lemmas:
            lemmas.setdefault(lm.lower(), set()).add(theme.key)
        for _i, p in enumerate(terms.patterns):
            g = f"p{len(alts)}"
            # named groups inside user patterns would clash when combined
            body = _NAMED_GROUP.sub("(?:", p)
            alts.append(f"(?P<{g}>{body})")
            group_theme[g] = theme.key
    for lst in phrases.values():
        lst.sort(key=lambda x: -len(x[0]))  # longest phrase first
    regex = re.compile(_combine(alts), re.IGNORECASE) if alts else None
    return _LangTables(words, lemmas, phrases, regex, group_theme)


def _combine(alts: list[str]) -> str:
    """One alternation of `alts`, in order. A run of alternatives that all need \b where they start
    is wrapped as \b(?:...): a position without a word boundary then fails in one test instead of
    one per alternative. The order is kept, so every match is the same as the plain alternation's."""
    runs: list[tuple[bool, list[str]]] = []
    for a in alts:
        bounded = _opens_with_boundary(a)
        if runs and runs[-1][0] == bounded:
            runs[-1][1].append(a)
        else:
            runs.append((bounded, [a]))
    return "|".join(rf"\b(?:{'|'.join(run)})" if bounded else "|".join(run) for bounded, run in runs)


def _opens_with_boundary(pattern: str) -> bool:
    """True if every match of `pattern` starts where \b holds (each branch opens with \b);
    False when unsure (the parser is CPython's own, private one)."""
    try:
        from re import _constants as sre
        from re import _parser

        def first_is_boundary(sub) -> bool:
            if not len(sub):
                return False
            op, av = sub[0]
            if op is sre.AT:
                return av is sre.AT_BOUNDARY
            if op is sre.SUBPATTERN:
                return first_is_boundary(av[-1])
            if op is sre.BRANCH:
                return all(first_is_boundary(b) for b in av[1])
            return False

        return first_is_boundary(_parser.parse(pattern, re.IGNORECASE))
    except Exception:  # another Python's parser: no shortcut, same results
        return False


class ThemeMatcher:
    """Compiled code frame. Thread-safe after construction."""

    def __init__(self, codeframe: CodeFrame | None = None):
        self.codeframe = codeframe or load_default_codeframe()
        self._tables = {lang: _compile(self.codeframe, lang) for lang in LANGS}

    def find(self, text: str, language: str = "unknown", tokens: Sequence[Token] | None = None) -> list[ThemeMention]:
        """Theme mentions in `text`. For a language other than nl/en both
        language sections are tried (mixed or undetected comments)."""
        if not text:
            return []
        if tokens is None:
            tokens = tokenize(text)
        langs = (language,) if language in LANGS else LANGS
        found: list[ThemeMention] = []
        for lang in langs:
            found.extend(self._find_lang(text, tokens, lang))
        return _dedupe(found, text)

    def _info(self, tb: _LangTables, low: str, lang: str):
        """Per distinct word: lemma, direct theme hits, phrase candidates (cached)."""
        info = tb.cache.get(low)
        if info is None:
            lem = lemma(low, lang)
            hits = [(th, "keyword") for th in tb.words.get(low, ())]
            if lem != low:
                hits += [(th, "keyword") for th in tb.words.get(lem, ()) if (th, "keyword") not in hits]
            hits += [(th, "lemma") for th in tb.lemmas.get(lem, ())]
            cands = list(tb.phrases.get(low, ()))
            if lem != low:
                cands += [c for c in tb.phrases.get(lem, ()) if c not in cands]
            info = (lem, tuple(hits), tuple(cands))
            if len(tb.cache) > 500_000:  # bound memory on endless vocabularies
                tb.cache.clear()
            tb.cache[low] = info
        return info

    def _find_lang(self, text: str, tokens: Sequence[Token], lang: str) -> list[ThemeMention]:
        tb = self._tables[lang]
        out: list[ThemeMention] = []
        words = [t for t in tokens if t.kind == "word"]
        cache = tb.cache
        infos = [cache.get(t.lower) or self._info(tb, t.lower, lang) for t in words]
        n = len(words)
        for i, (_lem, hits, cands) in enumerate(infos):
            if not (hits or cands):  # most words: no theme, no phrase starts here
                continue
            tok = words[i]
            for elements, theme in cands:
                m = len(elements)
                if i + m > n:
                    continue
                j = 1  # most candidates fail on their second word; a plain loop is cheaper than all(...)
                while j < m and (words[i + j].lower in elements[j] or infos[i + j][0] in elements[j]):
                    j += 1
                if j == m:
                    s, e = tok.start, words[i + m - 1].end
                    out.append(ThemeMention(theme, s, e, text[s:e], "phrase", lang))
            for theme, via in hits:
                out.append(ThemeMention(theme, tok.start, tok.end, tok.text, via, lang))
        if tb.regex is not None:
            for m in tb.regex.finditer(text):
                if m.end() > m.start():
                    out.append(ThemeMention(tb.group_theme[m.lastgroup], m.start(), m.end(), m.group(), "pattern", lang))
        return out


def _dedupe(found: list[ThemeMention], text: str) -> list[ThemeMention]:
    """One mention per theme and overlapping region: keep the longest."""
    found.sort(key=lambda m: (m.theme, m.start, -(m.end - m.start)))
    out: list[ThemeMention] = []
    last: dict[str, ThemeMention] = {}
    for m in found:
        prev = last.get(m.theme)
        if prev is not None and m.start < prev.end:
            if m.end > prev.end:  # overlapping and longer: extend
                merged = ThemeMention(m.theme, prev.start, m.end, text[prev.start:m.end], prev.via, prev.language)
                out[out.index(prev)] = merged
                last[m.theme] = merged
            continue
        out.append(m)
        last[m.theme] = m
    out.sort(key=lambda m: (m.start, m.theme))
    return out


_lock = threading.Lock()
_matchers: dict[int, ThemeMatcher] = {}
_MAX_MATCHERS = 16  # code frames compiled and kept; the oldest is dropped beyond this


def matcher_for(codeframe: CodeFrame | None = None) -> ThemeMatcher:
    """A cached compiled matcher per code frame object."""
    cf = codeframe or load_default_codeframe()
    with _lock:
        m = _matchers.get(id(cf))
        if m is None or m.codeframe is not cf:
            m = ThemeMatcher(cf)
            _matchers.pop(id(cf), None)
            _matchers[id(cf)] = m
            while len(_matchers) > _MAX_MATCHERS:
                del _matchers[next(iter(_matchers))]
        return m


def find_themes(text: str, language: str = "unknown", codeframe: CodeFrame | None = None) -> list[ThemeMention]:
    """Theme mentions in one comment (see :class:`ThemeMention`)."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    return matcher_for(codeframe).find(text, language)
