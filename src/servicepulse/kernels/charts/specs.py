"""Vega-Lite spec builders for the charts the product draws. Data goes in as rows of dicts."""

from __future__ import annotations

import json
import textwrap

from servicepulse.kernels.charts import labels

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"  # an identifier only; nothing is fetched
FONT = "system-ui, -apple-system, Segoe UI, Roboto, sans-serif"
STATUS_COLOURS = {
    "fix_basics": "#b3261e",
    "good_enough": "#2e7d32",
    "over_invested": "#5b8c2a",
    "moment_to_win": "#c77700",
    "keep_it": "#1b5e20",
    "too_few": "#757575",
}
# One set of colour bands per answer scale, used by every chart and page: (highest "low" value, lowest "high"
# value). NPS: detractors 0-6, promoters 9-10; the grade follows 7+/9+ (below 7 fails a functional moment, 9+
# is what an emotional one needs); CES 1-7: 5-7 is "easy" as in the headline share; CSAT 1-5: top-2 box.
SCALE_BANDS = {"nps": (6, 9), "grade": (6, 9), "ces": (3, 5), "csat": (2, 4)}
# The values each scale has, lowest and highest (as surveys/scales.py defines them; a kernel imports nothing of
# the package, tests/kernels/charts checks the two agree).
SCALE_RANGES = {"nps": (0, 10), "grade": (1, 10), "ces": (1, 7), "csat": (1, 5)}
BAND_COLOURS = {"low": "#b3261e", "mid": "#9e9e9e", "high": "#2e7d32"}
TREND_COLOUR = "#1f5fa8"


def _base(title: str | None, width: int, height: int) -> dict:
    spec = {"$schema": SCHEMA, "width": width, "height": height,
            # aria false: guides and marks stay out of the accessibility tree; the chart is one image whose
            # label (render.svg) names it, and its figures are in the page's tables
            "config": {"font": FONT, "aria": False, "view": {"stroke": None},
                       "axis": {"labelFontSize": 11, "titleFontSize": 12}}}
    if title:
        # a title longer than the chart is wide wraps onto lines instead of being cut at both ends
        per_line = max(20, int(width / 7.5))
        spec["title"] = title if len(title) <= per_line else {"text": textwrap.wrap(title, per_line)}
    return spec


def bar(rows: list[dict], x: str, y: str, title: str | None = None, colour: str | None = None,
        width: int = 480, height: int = 220, x_title: str | None = None, y_title: str | None = None,
        horizontal: bool = False, colour_scale: dict | None = None) -> dict:
    spec = _base(title, width, height)
    # None: the field name as title; "": no title at all (the labels say enough)
    xenc = {"field": x, "type": "nominal", "sort": None, "title": x if x_title is None else (x_title or None)}
    yenc = {"field": y, "type": "quantitative", "title": y if y_title is None else (y_title or None)}
    enc = {"x": yenc, "y": xenc} if horizontal else {"x": xenc, "y": yenc}
    enc["tooltip"] = [{"field": x}, {"field": y}]
    if colour:
        enc["color"] = {"field": colour, "type": "nominal", "legend": None}
        if colour_scale:
            enc["color"]["scale"] = {"domain": list(colour_scale), "range": list(colour_scale.values())}
    spec.update({"data": {"values": rows}, "mark": {"type": "bar", "color": "#1f5fa8"}, "encoding": enc})
    if horizontal and rows:
        # The renderer measures label text narrower than browsers draw it in the page's font: room for that.
        longest = max(len(str(r.get(x, ""))) for r in rows)
        spec["padding"] = {"left": 5 + int(longest * 1.2), "right": 5, "top": 5, "bottom": 5}
    return spec


def line_with_band(rows: list[dict], x: str, y: str, low: str, high: str, title: str | None = None,
                   width: int = 480, height: int = 220, x_type: str = "temporal", y_title: str | None = None,
                   rule: float | None = None) -> dict:
    """A trend with its confidence interval as a band, and an optional norm line. Time axes label months
    short, January with its year ("dec", "jan 2026"), and drop labels that would overlap rather than run them together."""
    spec = _base(title, width, height)
    axis = ({"labelExpr": "month(datum.value) == 0 ? timeFormat(datum.value, '%b %Y') : timeFormat(datum.value, '%b')",
             "labelOverlap": "greedy", "labelSeparation": 6, "tickCount": "month"}
            if x_type == "temporal" else {"labelOverlap": "greedy"})
    layers = [
        {"mark": {"type": "area", "opacity": 0.25, "color": TREND_COLOUR},
         "encoding": {"x": {"field": x, "type": x_type, "title": None, "axis": axis},
                      "y": {"field": low, "type": "quantitative", "title": y_title or y}, "y2": {"field": high}}},
        {"mark": {"type": "line", "point": True, "color": TREND_COLOUR},
         "encoding": {"x": {"field": x, "type": x_type}, "y": {"field": y, "type": "quantitative"},
                      "tooltip": [{"field": x, "type": x_type}, {"field": y, "format": ".1f"},
                                  {"field": low, "format": ".1f"}, {"field": high, "format": ".1f"}]}},
    ]
    if rule is not None:
        layers.append({"mark": {"type": "rule", "strokeDash": [4, 4], "color": "#555"},
                       "encoding": {"y": {"datum": rule}}})
    spec.update({"data": {"values": rows}, "layer": layers})
    return spec


def distribution(counts: dict[int, int], title: str | None = None, scale: str | None = None,
                 low_cut: int | None = None, high_cut: int | None = None, width: int = 360,
                 height: int = 180) -> dict:
    """Score distribution (e.g. NPS 0-10) coloured low / middle / high, with a legend of the value ranges.
    ``scale`` (nps, grade, ces, csat) takes its bands from ``SCALE_BANDS``; explicit cuts override them.
    With a scale the axis shows every value of it (``SCALE_RANGES``), a bar of 0 where nobody answered it,
    and the legend names the scale's bands ("1–6", "7–8", "9–10"), whatever values the answers happen to
    cover. Without one, the values from the lowest to the highest present (and the cuts) are shown."""
    if scale is not None:
        low_cut, high_cut = (low_cut, high_cut) if low_cut is not None else SCALE_BANDS[scale]
    present = sorted(counts)
    if scale is not None:
        first, last = SCALE_RANGES[scale]
        first, last = min([first, *present[:1]]), max([last, *present[-1:]])  # never hide a stray value
    elif present:
        ends = present + [c for c in (low_cut, high_cut) if c is not None]
        first, last = min(ends), max(ends)
    else:
        first, last = 0, -1
    rows = []
    for score in range(first, last + 1):
        band = "mid"
        if low_cut is not None and score <= low_cut:
            band = "low"
        elif high_cut is not None and score >= high_cut:
            band = "high"
        rows.append({"score": str(score), "n": counts.get(score, 0), "band": band})
    spec = bar(rows, "score", "n", title=title, colour="band", width=width, height=height,
               x_title="", y_title="", colour_scale=BAND_COLOURS)
    spec["encoding"]["x"]["axis"] = {"labelAngle": 0}
    if rows and low_cut is not None and high_cut is not None:
        ranges = {"low": _span(first, low_cut), "mid": _span(low_cut + 1, high_cut - 1),
                  "high": _span(high_cut, last)}
        spec["encoding"]["color"]["legend"] = {
            "orient": "top", "title": None, "symbolType": "square", "aria": False,  # the chart's label says it
            "labelExpr": f"{json.dumps(ranges)}[datum.label] || datum.label"}
    return spec


def _span(a: int, b: int) -> str:
    return str(a) if a == b else f"{a}\u2013{b}"


def moment_row(moments: list[dict], title: str | None = None, width: int = 640, height: int = 90,
               legend: dict[str, str] | None = None) -> dict:
    """The journey drawn as a row of moments coloured by 7+/9+ status.

    Each row: {"moment": name, "position": int, "status": key, "score": float|None, "kind": ...}.
    ``legend`` (status key -> label in the reader's language) adds a legend of the colours shown.
    """
    spec = _base(title, width, height)
    # Names wrap onto lines that fit their tile, so neighbouring labels never overlap.
    band = width / max(1, len(moments))
    per_line = max(6, int((band - 10) / 6.5))  # characters of the 10 px axis font per line, with room to spare
    lines = {m["moment"]: textwrap.wrap(str(m["moment"]), per_line, break_long_words=False) or [""]
             for m in moments}
    spec.update({
        "data": {"values": moments},
        "layer": [
            {"mark": {"type": "rect", "cornerRadius": 6, "stroke": "white", "strokeWidth": 3},
             "encoding": {"x": {"field": "moment", "type": "ordinal", "sort": {"field": "position"}, "title": None,
                                "axis": {"labelAngle": 0, "labelLimit": int(band) - 4, "orient": "bottom",
                                         "labelExpr": f"{json.dumps(lines)}[datum.label] || datum.label"}},
                          "color": {"field": "status", "type": "nominal", "legend": _status_legend(legend, width),
                                    "scale": {"domain": list(STATUS_COLOURS), "range": list(STATUS_COLOURS.values())}},
                          "tooltip": [{"field": "moment"}, {"field": "kind"}, {"field": "score", "format": ".1f"},
                                      {"field": "status"}]}},
            {"mark": {"type": "text", "color": "white", "fontSize": 16, "fontWeight": "bold"},
             "encoding": {"x": {"field": "moment", "type": "ordinal", "sort": {"field": "position"}},
                          # a moment with too few answers has no score: a dash, never the word "null"
                          "text": {"condition": {"test": "!isValid(datum.score)", "value": "–"},
                                   "field": "score", "format": ".1f"}}},
        ],
    })
    return spec


def _status_legend(labels: dict[str, str] | None, width: int) -> dict | None:
    if not labels:
        return None
    return {"orient": "bottom", "direction": "horizontal", "title": None, "symbolType": "square", "aria": False,
            # the renderer measures text narrower than browsers draw it: generous columns keep labels apart
            "columns": max(1, min(len(labels), int(width // 280))), "labelLimit": 240, "columnPadding": 36,
            "values": [k for k in STATUS_COLOURS if k in labels],
            "labelExpr": f"{json.dumps(labels)}[datum.label] || datum.label"}


def scatter(rows: list[dict], x: str, y: str, label: str, title: str | None = None,
            x_rule: float | None = None, y_rule: float | None = None, width: int = 420, height: int = 320,
            x_title: str | None = None, y_title: str | None = None, font_size: int = 11) -> dict:
    """Importance-performance grid: points with labels and quadrant rules. Labels that would run into each
    other are nudged apart vertically (``labels.place``); the points stay where their figures put them."""
    spec = _base(title, width, height)
    xs = [r[x] for r in rows if isinstance(r.get(x), int | float)]
    ys = [r[y] for r in rows if isinstance(r.get(y), int | float)]
    xenc = {"field": x, "type": "quantitative", "title": x_title or x}
    yenc = {"field": y, "type": "quantitative", "title": y_title or y, "scale": {"zero": False}}
    # Labels of points in the right part of the grid go to the left of their point, so none is cut off.
    turn = min(xs) + 0.6 * (max(xs) - min(xs)) if xs else 0.0
    drawn = [dict(r) for r in rows]  # the caller's rows stay as they are
    placed = len(xs) == len(ys) == len(rows) and len(set(xs)) > 1 and len(set(ys)) > 1
    if placed:
        # The domains Vega would choose (zero on x, the rules included), fixed so label heights map back to data.
        x_domain = labels.nice_domain(min(xs + [0.0] + ([x_rule] if x_rule is not None else [])),
                                      max(xs + [0.0] + ([x_rule] if x_rule is not None else [])))
        y_domain = labels.nice_domain(min(ys + ([y_rule] if y_rule is not None else [])),
                                      max(ys + ([y_rule] if y_rule is not None else [])))
        xenc["scale"] = {"domain": [v + 0.0 for v in x_domain], "nice": False}  # + 0.0: never "-0.0"
        yenc["scale"] = {"domain": [v + 0.0 for v in y_domain], "nice": False}
        px = labels.linear(x_domain, (0, width))
        py = labels.linear(y_domain, (height, 0))
        to_data = labels.linear((height, 0), y_domain)
        boxes = [labels.Label(px(r[x]), py(r[y]), str(r.get(label, "")), "left" if r[x] <= turn else "right")
                 for r in rows]
        boxes = labels.choose_sides(boxes, font_size, width)
        for r, b, at in zip(drawn, boxes, labels.place(boxes, font_size, height)):
            r["_label_y"], r["_label_align"] = to_data(at), b.align
    layers = [
        {"mark": {"type": "point", "filled": True, "size": 80, "color": "#1f5fa8"},
         "encoding": {"x": xenc, "y": yenc,
                      "tooltip": [{"field": label}, {"field": x, "format": ".3f"}, {"field": y, "format": ".2f"}]}},
    ]
    for side, test, dx in (("left", f"datum['{x}'] <= {turn!r}", 7), ("right", f"datum['{x}'] > {turn!r}", -7)):
        test = f"datum._label_align == '{side}'" if placed else test
        layers.append({"transform": [{"filter": test}],
                       "mark": {"type": "text", "align": side, "dx": dx, "fontSize": font_size},
                       "encoding": {"x": {"field": x, "type": "quantitative"},
                                    "y": {"field": "_label_y" if placed else y, "type": "quantitative"},
                                    "text": {"field": label}}})
    if x_rule is not None:
        layers.append({"mark": {"type": "rule", "strokeDash": [4, 4], "color": "#888"}, "encoding": {"x": {"datum": x_rule}}})
    if y_rule is not None:
        layers.append({"mark": {"type": "rule", "strokeDash": [4, 4], "color": "#888"}, "encoding": {"y": {"datum": y_rule}}})
    spec.update({"data": {"values": drawn}, "layer": layers})
    return spec
