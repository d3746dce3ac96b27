"""Theme words highlighted in a comment, safely: every piece of text is escaped first, then the spans are wrapped in <mark>."""

from __future__ import annotations

from collections.abc import Iterable

from markupsafe import Markup, escape


def highlight(text: str, spans: Iterable[tuple[int, int, str]], max_chars: int | None = None) -> Markup:
    """`spans` are (start, end, theme) in `text`; overlapping spans are merged (the first theme names the mark).
    With max_chars the text is cut there (a mark running past the cut is cut too) and ends in an ellipsis."""
    text = text or ""
    cut = len(text) if max_chars is None else min(len(text), max_chars)
    merged: list[list] = []
    for start, end, theme in sorted((max(0, s), min(e, cut), th) for s, e, th in spans if s < cut and e > s):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        elif end > start:
            merged.append([start, end, theme])
    out, pos = [], 0
    for start, end, theme in merged:
        out.append(escape(text[pos:start]))
        out.append(Markup('<mark data-theme="{}">{}</mark>').format(theme, text[start:end]))
        pos = end
    out.append(escape(text[pos:cut]))
    if cut < len(text):
        out.append(Markup("…"))
    return Markup("").join(out)
