"""Render Vega-Lite specs. vl-convert ships its own engine: no browser, no network."""

from __future__ import annotations

import re

import vl_convert as vlc

_XML_DECL = re.compile(r"^<\?xml[^>]*>\s*")


def svg(spec: dict, title: str | None = None) -> str:
    """SVG markup ready to inline in a page; `title` becomes the accessible name."""
    out = _XML_DECL.sub("", vlc.vegalite_to_svg(spec))
    label = title or spec.get("title") or spec.get("description") or "chart"
    if isinstance(label, dict):
        label = label.get("text", "chart")
    return out.replace("<svg ", f'<svg role="img" aria-label="{_escape(str(label))}" ', 1)


def png(spec: dict, scale: float = 2.0) -> bytes:
    return vlc.vegalite_to_png(spec, scale=scale)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
