"""QR codes (segno) for links people scan from a counter, a letter or a poster: SVG for the page and for
print, PNG for documents. Error correction 'M' (15%): survives a crease or a smudge at a modest size."""

from __future__ import annotations

import io

import segno


def qr_svg(text: str, title: str, scale: int = 4) -> str:
    """An SVG QR code of ``text``, an image named ``title`` for assistive technology."""
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="svg", scale=scale, xmldecl=False, svgns=True, title=title,
                                     svgclass="qr", nl=False)
    return out.getvalue().decode("utf-8").replace("<svg ", '<svg role="img" ', 1)


def qr_png(text: str, scale: int = 10) -> bytes:
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="png", scale=scale, border=4)
    return out.getvalue()
