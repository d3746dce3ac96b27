"""The charts of /investment as SVG (Vega-Lite through kernels/charts): the compass and the monthly cost trend.

Each is drawn for a desktop card and for a phone (classes chart-wide / chart-narrow, as metrics/charts.py does).
"""

from __future__ import annotations

import pandas as pd

from servicepulse.kernels.charts import labels, specs, svg

WIDE, NARROW = 860, 330
LABEL_COLOURS = {"fix_basics": "#b3261e", "under_invested": "#6a1b9a", "over_invested": "#e07b00", "keep": "#2e7d32",
                 "unknown": "#9e9e9e"}
FONT = specs.FONT
TICKS = (0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)


def _both(build, title: str, language: str) -> str:
    wide = svg(build(WIDE), title=title, language=language).replace('class="marks"', 'class="marks chart-wide"', 1)
    narrow = svg(build(NARROW), title=title, language=language).replace('class="marks"',
                                                                         'class="marks chart-narrow"', 1)
    return wide + narrow


def compass_chart(rows, t, language: str) -> str | None:
    """Gap to the norm (grade points) against cost per case (euros): one point per moment, coloured by label."""
    points = [{"moment": r.name, "gap": round(r.gap, 2), "cost": round(r.cost_per_case, 2),
               "label": t(f"investment.compass.label.{r.label}"), "named": r.label != "keep"}
              for r in rows if r.gap is not None and r.cost_per_case]
    if not points:
        return None
    costs = [p["cost"] for p in points]
    lo, hi = min(costs) * 0.8, max(costs) * 1.25
    domain = [t(f"investment.compass.label.{k}") for k in LABEL_COLOURS]
    title = t("investment.compass.chart_title")

    def build(width: int) -> dict:
        if width != WIDE:
            return _compass_rows(points, domain, t, width)
        height = 420
        scale = {"type": "log", "domain": [lo, hi], "nice": False}
        x = {"field": "cost", "type": "quantitative", "title": t("investment.compass.axis_cost"), "scale": scale,
             "axis": {"values": [v for v in TICKS if lo <= v <= hi]}}
        y = {"field": "gap", "type": "quantitative", "title": t("investment.compass.axis_gap")}
        values = [dict(p) for p in points]
        gaps = [p["gap"] for p in points] + [0.0]  # the norm rule is in the domain, as is zero
        if width == WIDE and min(gaps) < max(gaps):
            # Names that would run into each other are nudged apart (kernels/charts/labels.py): the y scale is
            # fixed to the domain Vega would choose, so a label's pixel height maps back to a gap.
            y_domain = labels.nice_domain(min(gaps), max(gaps))
            y["scale"] = {"domain": [v + 0.0 for v in y_domain], "nice": False}
            px, py = labels.log((lo, hi), (0, width)), labels.linear(y_domain, (height, 0))
            named = [v for v in values if v["named"]]
            boxes = labels.choose_sides([labels.Label(px(v["cost"]), py(v["gap"]), v["moment"],
                                                      "left" if v["cost"] <= 30 else "right") for v in named],
                                        10, width)
            for v, b, y_px in zip(named, boxes, labels.place(boxes, 10, height)):
                v["label_gap"], v["label_align"] = labels.linear((height, 0), y_domain)(y_px), b.align
        layers = [
            {"mark": {"type": "rule", "strokeDash": [4, 4], "color": "#888"}, "encoding": {"y": {"datum": 0}}},
            {"mark": {"type": "point", "filled": True, "size": 90},
             "encoding": {"x": x, "y": y, "color": {"field": "label", "type": "nominal", "title": None,
                                                    "scale": {"domain": domain,
                                                              "range": list(LABEL_COLOURS.values())},
                                                    "legend": {"orient": "bottom", "columns": 2 if width < 500
                                                               else 5, "labelLimit": 220}}}},
        ]
        if width == WIDE:  # names of the moments that need a decision (the table has them all)
            for align, dx, test in (("left", 7, "datum.cost <= 30"), ("right", -7, "datum.cost > 30")):
                test = f"datum.label_align == '{align}'" if "scale" in y else test
                layers.append({"transform": [{"filter": f"datum.named && {test}"}],
                               "mark": {"type": "text", "align": align, "dx": dx, "fontSize": 10},
                               "encoding": {"x": {"field": "cost", "type": "quantitative", "scale": scale},
                                            "y": {"field": "label_gap" if "scale" in y else "gap",
                                                  "type": "quantitative"},
                                            "text": {"field": "moment"}}})
        return {"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "width": width, "height": height,
                "config": {"font": FONT, "aria": False, "view": {"stroke": None}},
                "data": {"values": values}, "layer": layers}

    return _both(build, title, language)


def _compass_rows(points: list[dict], domain: list[str], t, width: int) -> dict:
    """The phone's compass: one row per moment, named on the axis, its gap to the norm as a dot coloured by the
    advice (a scatter of unnamed dots says nothing at 330 px; the cost per case is in the table below)."""
    values = sorted(({**p, "gap_text": f"{p['gap']:+.1f}"} for p in points), key=lambda p: p["gap"])
    y = {"field": "moment", "type": "nominal", "sort": None, "title": None,
         "axis": {"labelLimit": 135, "labelFontSize": 10}}
    x = {"field": "gap", "type": "quantitative", "title": t("investment.compass.axis_gap"),
         "axis": {"tickCount": 5}}
    # the padding on the left leaves room for a browser font wider than the one the SVG was measured with
    return {"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "width": width - 170,
            "height": 18 * len(values), "padding": {"left": 24, "right": 8, "top": 5, "bottom": 5}, "config": {"font": FONT, "aria": False, "view": {"stroke": None}},
            "data": {"values": values}, "layer": [
                {"mark": {"type": "rule", "strokeDash": [4, 4], "color": "#888"}, "encoding": {"x": {"datum": 0}}},
                {"mark": {"type": "point", "filled": True, "size": 70},
                 "encoding": {"y": y, "x": x,
                              "color": {"field": "label", "type": "nominal", "title": None,
                                        "scale": {"domain": domain, "range": list(LABEL_COLOURS.values())},
                                        "legend": {"orient": "bottom", "columns": 1, "labelLimit": 160}}}},
            ]}


def cost_trend(months: pd.DataFrame, t, language: str) -> str | None:
    """Cost per case per complete month (bars) with the failure-demand share (line, right axis)."""
    if months.empty:
        return None
    points = [{"month": f"{k}-01", "cost": round(float(r["cost_per_case"]), 2),
               "share": None if pd.isna(r["share"]) else round(float(r["share"]) * 100, 1)}
              for k, r in months.iterrows() if not pd.isna(r["cost_per_case"]) and r["complete"]]
    if not points:
        return None
    title = t("investment.cost.trend_title")

    def build(width: int) -> dict:
        x = {"field": "month", "type": "temporal", "timeUnit": "yearmonth", "title": None,
             "axis": {"format": "%b %y", "labelAngle": -40 if width < 500 else 0}}
        return {"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "width": width, "height": 240,
                "config": {"font": FONT, "aria": False, "view": {"stroke": None}},
                "data": {"values": points}, "resolve": {"scale": {"y": "independent"}},
                "layer": [
                    {"mark": {"type": "bar", "color": "#1f5fa8", "opacity": 0.8},
                     "encoding": {"x": x, "y": {"field": "cost", "type": "quantitative",
                                                "title": t("investment.cost.axis_cost_per_case")}}},
                    {"mark": {"type": "line", "color": "#b3261e", "point": True},
                     "encoding": {"x": x, "y": {"field": "share", "type": "quantitative",
                                                "title": t("investment.cost.axis_failure_share"),
                                                "axis": {"orient": "right"}}}},
                ]}

    return _both(build, title, language)
