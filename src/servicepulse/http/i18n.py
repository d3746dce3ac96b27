"""Message catalogues (Dutch and English) and the choice of language per request.

Each domain keeps its texts in ``http/i18n/<domain>.yaml`` as a flat mapping
``{"<domain>.<name>": {"nl": "...", "en": "..."}}``. The files are merged at
start-up; a key without both languages, a key outside its file's prefix, or a
key defined twice stops the start-up with a message naming the file and key,
so a missing translation is found by the first test that builds the app rather
than by a user.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from servicepulse.errors import ConfigurationError

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"
CATALOGUE_DIR = Path(__file__).parent / "i18n"

log = logging.getLogger(__name__)
_YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser where PyYAML was built with it


@dataclass
class Catalogue:
    messages: dict[str, dict[str, str]] = field(default_factory=dict)
    _warned: set[str] = field(default_factory=set)

    def translate(self, key: str, language: str, **values) -> str:
        entry = self.messages.get(key)
        if entry is None:
            # Show the key rather than failing the page; log once so it gets fixed.
            if key not in self._warned:
                self._warned.add(key)
                log.warning("missing message %r in the catalogues", key)
            return key
        text = entry.get(language) or entry[DEFAULT_LANGUAGE]
        return text.format(**values) if values else text


def load_catalogue(directory: Path = CATALOGUE_DIR) -> Catalogue:
    """The catalogue in `directory`, validated; a fresh Catalogue each call (its warn-once state is per app)."""
    files = tuple(sorted(Path(directory).glob("*.yaml")))
    stamp = tuple((path.name, path.stat().st_size, path.stat().st_mtime_ns) for path in files)
    return Catalogue({key: dict(texts) for key, texts in _parsed(files, stamp).items()})


@lru_cache(maxsize=8)
def _parsed(files: tuple[Path, ...], stamp: tuple) -> dict[str, dict[str, str]]:
    """Parsed once per set of files as they are (name, size, modification time): an edited file is read again."""
    messages: dict[str, dict[str, str]] = {}
    origin: dict[str, str] = {}
    for path in files:
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YamlLoader) or {}
        except yaml.YAMLError as exc:
            raise ConfigurationError(f"message catalogue {path.name} is not valid YAML: {exc}") from None
        if not isinstance(data, dict):
            raise ConfigurationError(f"message catalogue {path.name} must be a mapping of key -> {{nl, en}}")
        prefix = path.stem + "."
        for key, entry in data.items():
            where = f"message catalogue {path.name}, key {key!r}"
            if not str(key).startswith(prefix):
                raise ConfigurationError(f"{where}: keys in this file must start with {prefix!r}")
            if key in messages:
                raise ConfigurationError(f"{where}: already defined in {origin[key]}")
            if not isinstance(entry, dict):
                raise ConfigurationError(f"{where}: expected a mapping with nl and en texts")
            missing = [lang for lang in LANGUAGES if not isinstance(entry.get(lang), str) or not entry[lang].strip()]
            if missing:
                raise ConfigurationError(f"{where}: missing text for {', '.join(missing)}")
            messages[key] = {lang: entry[lang] for lang in LANGUAGES}
            origin[key] = path.name
    return messages


def parse_accept_language(header: str | None) -> str | None:
    """The supported language the browser prefers most (RFC 9110 quality values), or None."""
    if not header:
        return None
    best: tuple[float, int, str] | None = None
    for index, part in enumerate(header.split(",")):
        pieces = part.strip().split(";")
        tag = pieces[0].strip().lower()
        quality = 1.0
        for param in pieces[1:]:
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.split("-")[0]
        if primary in LANGUAGES and quality > 0:
            # Highest quality wins; on a tie the one listed first.
            candidate = (quality, -index, primary)
            if best is None or candidate > best:
                best = candidate
    return best[2] if best else None


def request_language(request) -> str:
    """Session choice (set at login from the user's preference, or by the switch), else the browser's, else Dutch."""
    chosen = request.session.get("lang") if "session" in request.scope else None
    if chosen in LANGUAGES:
        return chosen
    return parse_accept_language(request.headers.get("accept-language")) or DEFAULT_LANGUAGE
