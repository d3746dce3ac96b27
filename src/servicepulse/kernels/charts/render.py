"""Render Vega-Lite specs. vl-convert ships its own engine: no browser, no network."""

from __future__ import annotations

import re

import vl_convert as vlc

_XML_DECL = re.compile(r"^<\?xml[^>]*>\s*")
# Vega gives every mark group an ARIA role without a name; the chart is one image, named on the root.
_INNER_ROLES = re.compile(r' (?:role="graphics-(?:symbol|object)"|aria-roledescription="[^"]*")')
# Month names and decimal commas in the reader's language: d3 locales shipped with vl-convert.
LOCALES = {"nl": "nl-NL", "en": "en-GB"}


def _locale(language: str | None) -> dict:
    name = LOCALES.get(language or "")
    return {"format_locale": name, "time_format_locale": name} if name else {}


def svg(spec: dict, title: str | None = None, language: str | None = None) -> str:
    """SVG markup ready to inline in a page; `title` becomes the accessible name; `language` (nl, en)
    sets month names and number format."""
    # The chart is one image with one accessible name (below): no English descriptions of its axes and marks
    # inside it ("X-axis for a linear scale ...", "period: Jan 01, 2026; nps: 2.4"), which no reader hears.
    spec = {**spec, "config": {**spec.get("config", {}), "aria": False}}
    out = _INNER_ROLES.sub("", _XML_DECL.sub("", vlc.vegalite_to_svg(spec, **_locale(language))))
    label = title or spec.get("title") or spec.get("description") or "chart"
    if isinstance(label, dict):
        label = label.get("text", "chart")
    if isinstance(label, list):  # a title wrapped onto lines
        label = " ".join(label)
    return out.replace("<svg ", f'<svg role="img" aria-label="{_escape(str(label))}" ', 1)


def png(spec: dict, scale: float = 2.0, language: str | None = None) -> bytes:
    return vlc.vegalite_to_png(spec, scale=scale, **_locale(language))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
