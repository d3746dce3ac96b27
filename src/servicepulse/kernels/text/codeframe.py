"""The code frame: the list of themes that open answers are coded into.

A theme has a key, labels in Dutch and English, an optional parent (themes
form a tree), an optional owning department, optionally the keys of the
journey moments it is about (``moments``: a comment mentioning the theme is
about those moments, so it shows under them in the comment browser; a parent's
moments hold for its children), and per language the words that signal it:

- ``keywords``: words or multi-word phrases; each word matches a token by its
  written form or by its lemma (so "factuur" also finds "facturen");
- ``lemmas``: lemmas only (simplemma's lemma, e.g. "op_lossen");
- ``patterns``: regular expressions on the (redacted) text, case-insensitive.

Stored as YAML; :func:`load_codeframe` validates and reports every problem
with its place in the file.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

LANGUAGES = ("nl", "en")
_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class CodeFrameError(ValueError):
    """A code frame that can not be used; `problems` lists every issue found."""

    def __init__(self, problems: list[str], source: str = "code frame"):
        self.problems = problems
        super().__init__(f"{source} is not valid:\n  - " + "\n  - ".join(problems))


@dataclass(frozen=True)
class ThemeTerms:
    keywords: tuple[str, ...] = ()
    lemmas: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()

    def is_empty(self) -> bool:
        return not (self.keywords or self.lemmas or self.patterns)


@dataclass(frozen=True)
class Theme:
    key: str
    labels: Mapping[str, str]                # {'nl': ..., 'en': ...}
    parent: str | None = None
    department: str | None = None
    description: str = ""
    terms: Mapping[str, ThemeTerms] = field(default_factory=dict)  # per language
    moments: tuple[str, ...] = ()            # keys of the journey moments this theme is about

    def label(self, language: str = "en") -> str:
        return self.labels.get(language) or self.labels.get("en") or self.key


@dataclass(frozen=True)
class CodeFrame:
    name: str
    themes: tuple[Theme, ...]
    version: int = 1

    def __post_init__(self) -> None:
        problems = _validate(self)
        if problems:
            raise CodeFrameError(problems)

    # -- lookups --------------------------------------------------------------
    def theme(self, key: str) -> Theme:
        for t in self.themes:
            if t.key == key:
                return t
        raise KeyError(f"no theme {key!r} in code frame {self.name!r}")

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(t.key for t in self.themes)

    def ancestors(self, key: str) -> list[str]:
        """Parent, grandparent ... of a theme (nearest first)."""
        by_key = {t.key: t for t in self.themes}
        out, cur = [], by_key[key].parent
        while cur is not None:
            out.append(cur)
            cur = by_key[cur].parent
        return out

    def rollup(self, keys) -> list[str]:
        """The given theme keys plus all their ancestors, without duplicates,
        in code-frame order (for counting mentions at every level)."""
        want = set()
        for k in keys:
            want.add(k)
            want.update(self.ancestors(k))
        return [t.key for t in self.themes if t.key in want]

    def about_moment(self, moment_key: str) -> list[str]:
        """Themes about the moment with this key: those naming it under ``moments``, and their descendants."""
        naming = {t.key for t in self.themes if moment_key in t.moments}
        return [t.key for t in self.themes if naming & {t.key, *self.ancestors(t.key)}]

    def children(self, key: str) -> list[str]:
        return [t.key for t in self.themes if t.parent == key]

    def with_theme(self, theme: Theme) -> CodeFrame:
        """A new code frame with `theme` added (or replacing the same key)."""
        rest = tuple(t for t in self.themes if t.key != theme.key)
        return replace(self, themes=rest + (theme,))

    # -- (de)serialisation ------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        themes: dict[str, Any] = {}
        for t in self.themes:
            d: dict[str, Any] = {"labels": dict(t.labels)}
            if t.parent:
                d["parent"] = t.parent
            if t.department:
                d["department"] = t.department
            if t.description:
                d["description"] = t.description
            if t.moments:
                d["moments"] = list(t.moments)
            for lang, terms in t.terms.items():
                section = {k: list(getattr(terms, k)) for k in ("keywords", "lemmas", "patterns") if getattr(terms, k)}
                if section:
                    d[lang] = section
            themes[t.key] = d
        return {"name": self.name, "version": self.version, "themes": themes}

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), allow_unicode=True, sort_keys=False, width=100)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_yaml(), encoding="utf-8")


# -- validation ---------------------------------------------------------------------

def _validate(cf: CodeFrame) -> list[str]:
    problems: list[str] = []
    seen: set[str] = set()
    keys = {t.key for t in cf.themes}
    if not cf.themes:
        problems.append("the code frame has no themes")
    for t in cf.themes:
        where = f"theme {t.key!r}"
        if not isinstance(t.key, str) or not _KEY_RE.match(t.key):
            problems.append(f"{where}: key must be lower-case letters, digits and '_' and start with a letter")
        if t.key in seen:
            problems.append(f"{where}: key is used twice")
        seen.add(t.key)
        for lang in LANGUAGES:
            if not str(t.labels.get(lang, "")).strip():
                problems.append(f"{where}: labels.{lang} is missing")
        for m in t.moments:
            if not isinstance(m, str) or not _KEY_RE.match(m):
                problems.append(f"{where}: moment {m!r} is not a moment key (lower-case letters, digits and '_')")
        if t.parent is not None:
            if t.parent not in keys:
                problems.append(f"{where}: parent {t.parent!r} is not a theme in this code frame")
            elif t.parent == t.key:
                problems.append(f"{where}: a theme can not be its own parent")
        for lang, terms in t.terms.items():
            if lang not in LANGUAGES:
                problems.append(f"{where}: language section {lang!r} is not supported (use {', '.join(LANGUAGES)})")
                continue
            for kind in ("keywords", "lemmas"):
                for i, w in enumerate(getattr(terms, kind)):
                    if not isinstance(w, str) or not w.strip():
                        problems.append(f"{where}: {lang}.{kind}[{i}] is empty")
            for i, p in enumerate(terms.patterns):
                try:
                    rx = re.compile(p, re.IGNORECASE)
                except (re.error, TypeError) as exc:
                    problems.append(f"{where}: {lang}.patterns[{i}] {p!r} is not a valid regular expression ({exc})")
                    continue
                if rx.match(""):
                    problems.append(f"{where}: {lang}.patterns[{i}] {p!r} matches empty text, so it would match every comment")
    # cycles in the parent chain
    parents = {t.key: t.parent for t in cf.themes}
    for k in parents:
        cur, steps = parents.get(k), 0
        while cur is not None and cur in parents and steps <= len(parents):
            if cur == k:
                problems.append(f"theme {k!r}: parent chain loops back to itself")
                break
            cur, steps = parents[cur], steps + 1
    return problems


# -- loading -----------------------------------------------------------------------

def _str_list(value: Any, where: str, problems: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list):
        problems.append(f"{where} must be a list of strings, got {type(value).__name__}")
        return ()
    out = []
    for i, v in enumerate(value):
        if isinstance(v, (str, int, float)) and not isinstance(v, bool):
            out.append(str(v))
        else:
            problems.append(f"{where}[{i}] must be a string, got {type(v).__name__}")
    return tuple(out)


def codeframe_from_dict(data: Any, source: str = "code frame") -> CodeFrame:
    problems: list[str] = []
    if not isinstance(data, dict):
        raise CodeFrameError(["the top level must be a mapping with 'name' and 'themes'"], source)
    raw_themes = data.get("themes")
    if not isinstance(raw_themes, dict) or not raw_themes:
        raise CodeFrameError(["'themes' must be a mapping of theme key -> theme"], source)
    allowed = {"labels", "parent", "department", "description", "moments", *LANGUAGES}
    themes = []
    for key, body in raw_themes.items():
        where = f"themes.{key}"
        if not isinstance(body, dict):
            problems.append(f"{where} must be a mapping")
            continue
        for extra in sorted(set(body) - allowed):
            problems.append(f"{where}: unknown field {extra!r} (allowed: {', '.join(sorted(allowed))})")
        labels = body.get("labels")
        if not isinstance(labels, dict):
            problems.append(f"{where}.labels must be a mapping like {{nl: ..., en: ...}}")
            labels = {}
        terms = {}
        for lang in LANGUAGES:
            sec = body.get(lang)
            if sec is None:
                continue
            if not isinstance(sec, dict):
                problems.append(f"{where}.{lang} must be a mapping with keywords/lemmas/patterns")
                continue
            for extra in sorted(set(sec) - {"keywords", "lemmas", "patterns"}):
                problems.append(f"{where}.{lang}: unknown field {extra!r} (allowed: keywords, lemmas, patterns)")
            terms[lang] = ThemeTerms(
                keywords=_str_list(sec.get("keywords"), f"{where}.{lang}.keywords", problems),
                lemmas=_str_list(sec.get("lemmas"), f"{where}.{lang}.lemmas", problems),
                patterns=_str_list(sec.get("patterns"), f"{where}.{lang}.patterns", problems),
            )
        parent = body.get("parent")
        dept = body.get("department")
        themes.append(Theme(
            key=str(key),
            labels={str(k): str(v) for k, v in labels.items()},
            parent=None if parent in (None, "") else str(parent),
            department=None if dept in (None, "") else str(dept),
            description=str(body.get("description") or ""),
            terms=terms,
            moments=_str_list(body.get("moments"), f"{where}.moments", problems),
        ))
    if problems:
        raise CodeFrameError(problems, source)
    version = data.get("version", 1)
    try:
        return CodeFrame(name=str(data.get("name") or "code frame"), themes=tuple(themes), version=int(version))
    except CodeFrameError as exc:
        raise CodeFrameError(exc.problems, source) from None
    except (TypeError, ValueError):
        raise CodeFrameError([f"version must be a whole number, got {version!r}"], source) from None


def load_codeframe(path: str | Path) -> CodeFrame:
    """Read and validate a code frame YAML file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise CodeFrameError([f"can not read the file: {exc.strerror or exc}"], str(p)) from None
    return codeframe_from_yaml(text, source=str(p))


def codeframe_from_yaml(text: str, source: str = "code frame") -> CodeFrame:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise CodeFrameError([f"not valid YAML{where}: {getattr(exc, 'problem', exc)}"], source) from None
    return codeframe_from_dict(data, source)


_default: CodeFrame | None = None


def load_default_codeframe() -> CodeFrame:
    """The service code frame shipped with servicepulse (Dutch and English)."""
    global _default
    if _default is None:
        text = resources.files("servicepulse.kernels.text").joinpath("data/codeframe.yaml").read_text(encoding="utf-8")
        _default = codeframe_from_yaml(text, source="default code frame")
    return _default


def iter_terms(theme: Theme, languages: Iterable[str]) -> Iterable[tuple[str, ThemeTerms]]:
    for lang in languages:
        t = theme.terms.get(lang)
        if t is not None:
            yield lang, t
