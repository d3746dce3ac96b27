"""The charts of the predicted-experience page, as SVG (Vega-Lite through the charts kernel)."""

from __future__ import annotations

from servicepulse.kernels.charts import svg
from servicepulse.kernels.charts.specs import FONT, SCHEMA

OBSERVED_COLOUR = "#b3261e"  # measured: as the customers answered
PREDICTED_COLOUR = "#1f5fa8"


def reliability(rows: list[dict], title: str, x_title: str, y_title: str, *, language: str | None = None) -> str | None:
    spec = reliability_spec(rows, title, x_title, y_title)
    return None if spec is None else svg(spec, title=title, language=language)


def reliability_spec(rows: list[dict], title: str, x_title: str, y_title: str) -> dict | None:
    """Predicted against observed share of detractors per fifth of held-out answers (ordered by the predicted
    probability), with the diagonal where a perfectly calibrated prediction lies."""
    if not rows:
        return None
    points = [{"predicted": r["predicted"], "observed": r["observed"], "n": r["n"]} for r in rows]
    axis = {"format": "%", "tickCount": 5}
    spec = {
        "$schema": SCHEMA, "width": 340, "height": 280, "title": title,
        "config": {"font": FONT, "view": {"stroke": None}, "axis": {"labelFontSize": 11, "titleFontSize": 12}},
        "layer": [
            {"data": {"values": [{"predicted": 0.0, "observed": 0.0}, {"predicted": 1.0, "observed": 1.0}]},
             "mark": {"type": "line", "strokeDash": [4, 4], "color": "#888"},
             "encoding": {"x": {"field": "predicted", "type": "quantitative"},
                          "y": {"field": "observed", "type": "quantitative"}}},
            {"data": {"values": points},
             "mark": {"type": "line", "point": {"filled": True, "size": 70, "color": OBSERVED_COLOUR},
                      "color": PREDICTED_COLOUR},
             "encoding": {"x": {"field": "predicted", "type": "quantitative", "title": x_title, "axis": axis,
                                "scale": {"domain": [0, 1]}},
                          "y": {"field": "observed", "type": "quantitative", "title": y_title, "axis": axis,
                                "scale": {"domain": [0, 1]}},
                          "tooltip": [{"field": "predicted", "format": ".1%"}, {"field": "observed", "format": ".1%"},
                                      {"field": "n"}]}},
        ],
    }
    return spec

