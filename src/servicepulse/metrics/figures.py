"""How a headline figure is written, defined once for pages, charts, the PDF report, exports and digests.

* NPS: a whole number (it runs from -100 to +100; a tenth of a point is noise at any sample a page shows);
* the grade (rapportcijfer, 1-10) and CES (1-7): one decimal;
* CSAT top-2 share: a whole percentage;
* a level carries a sign only when negative ("-12", "35"); a change or difference always does ("+2", "-3",
  and "0" for no change), so a reader never mistakes a change for a level.

Numbers are written in the reader's language (decimal comma and point thousands in Dutch), as ``number()`` in
the templates does; a missing value is "–".
"""

from __future__ import annotations

DIGITS = {"nps": 0, "grade": 1, "ces": 1, "csat": 0}
MISSING = "–"


def _plain(value: float, language: str, digits: int) -> str:
    text = f"{value:,.{digits}f}"
    if language == "nl":
        text = text.replace(",", "\u2009").replace(".", ",").replace("\u2009", ".")
    return text


def figure_text(kind: str, value: float | None, language: str, *, change: bool = False) -> str:
    """``value`` of figure ``kind`` (a key of DIGITS) as the pages write it; ``change``: a difference, signed."""
    if value is None or value != value:  # None or NaN
        return MISSING
    digits = DIGITS[kind]
    if round(value, digits) == 0:
        value = 0.0  # no "-0" and no "+0": a value that rounds to zero is zero
    text = _plain(abs(value), language, digits)
    if value < 0:
        return "-" + text
    return ("+" + text) if change and value > 0 else text


def figure_helper(language: str):
    """``figure(kind, value, change=False)`` for a template context in ``language``."""
    return lambda kind, value, change=False: figure_text(kind, value, language, change=change)
