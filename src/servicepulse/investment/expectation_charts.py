"""The gap chart: per row the expected mark (open circle) and the perceived mark (dot) on the 1-10 scale, joined
by a line that is red where perception falls short of expectation and green where it meets or exceeds it."""

from __future__ import annotations

from servicepulse.kernels.charts import specs, svg

WIDE, NARROW = 860, 330  # as the metrics charts: the page's style sheet shows the one that fits
SHORT, MET = "#b3261e", "#2e7d32"


def gap_spec(rows: list[dict], x_title: str, width: int) -> dict:
    """``rows``: label, expected, perceived (marks), side ("short" or "met"). ``width``: the whole drawing."""
    values = [r for r in rows if r.get("expected") is not None and r.get("perceived") is not None]
    low = min([6.0] + [min(r["expected"], r["perceived"]) for r in values])
    x_scale = {"domain": [max(1.0, float(int(low)) - 0.5), 10.0]}
    # the renderer measures labels narrower than browsers draw them: room for that, at most 45% of the width
    longest = max([len(str(r["label"])) for r in values] or [10])
    room = min(int(longest * 7.2) + 10, int(width * 0.45))
    y = {"field": "label", "type": "nominal", "sort": None, "title": None, "axis": {"labelLimit": room - 8}}
    colour = {"field": "side", "type": "nominal", "legend": None,
              "scale": {"domain": ["short", "met"], "range": [SHORT, MET]}}
    return {"$schema": specs.SCHEMA, "width": width - room - 15, "height": max(40, 26 * len(values)),
            "padding": {"left": room, "right": 10, "top": 5, "bottom": 5},
            "config": {"font": specs.FONT, "aria": False, "view": {"stroke": None},
                       "axis": {"labelFontSize": 12, "titleFontSize": 12}},
            "data": {"values": values},
            "layer": [
                {"mark": {"type": "rule", "strokeWidth": 3},
                 "encoding": {"y": y, "x": {"field": "expected", "type": "quantitative", "scale": x_scale,
                                            "title": x_title},
                              "x2": {"field": "perceived"}, "color": colour}},
                {"mark": {"type": "point", "filled": False, "size": 90, "color": "#424242", "strokeWidth": 2},
                 "encoding": {"y": y, "x": {"field": "expected", "type": "quantitative", "scale": x_scale}}},
                {"mark": {"type": "point", "filled": True, "size": 90, "opacity": 1},
                 "encoding": {"y": y, "x": {"field": "perceived", "type": "quantitative", "scale": x_scale},
                              "color": colour}},
            ]}


def gap_chart(rows: list[dict], title: str, x_title: str, language: str) -> str:
    """Drawn twice (desktop and phone widths); classes chart-wide / chart-narrow pick one by CSS."""
    if not any(r.get("expected") is not None and r.get("perceived") is not None for r in rows):
        return ""
    wide = svg(gap_spec(rows, x_title, WIDE), title=title, language=language)
    narrow = svg(gap_spec(rows, x_title, NARROW), title=title, language=language)
    return (wide.replace('class="marks"', 'class="marks chart-wide"', 1)
            + narrow.replace('class="marks"', 'class="marks chart-narrow"', 1))
