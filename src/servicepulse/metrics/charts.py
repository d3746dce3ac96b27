"""The insight charts as SVG, built once for the dashboard page and the PDF report.

Figures that are "too few answers" are left out of a chart (never drawn as 0).
"""

from __future__ import annotations

from servicepulse.kernels.charts import png, specs, svg
from servicepulse.kernels.statistics.importance_performance import IMPORTANCE_FLOOR
from servicepulse.metrics.service import DriverAnalysis, MetricRow, MomentView

RUNNING_LABEL = {"nl": "lopend, onvolledig", "en": "running, incomplete"}
# Charts on full-width cards are drawn twice, for a desktop card and for a phone, and the page's style sheet
# shows the one that fits: a single drawing scaled down to a phone would shrink its text below legibility.
WIDE, NARROW = 860, 330


def _both(build, language: str | None) -> str:
    """``build(width)`` -> spec, rendered at both widths; classes chart-wide / chart-narrow pick one by CSS."""
    wide = svg(build(WIDE), language=language).replace('class="marks"', 'class="marks chart-wide"', 1)
    narrow = svg(build(NARROW), language=language).replace('class="marks"', 'class="marks chart-narrow"', 1)
    return wide + narrow


def _mark_running(spec: dict, running: list[dict], x: str, y: str, language: str | None) -> dict:
    """The running period as a hollow red point with a label, apart from the line of complete periods."""
    if not running:
        return spec
    label = RUNNING_LABEL.get(language or "en", RUNNING_LABEL["en"])
    values = [{**p, "label": label} for p in running]
    spec["layer"] += [
        {"data": {"values": values}, "mark": {"type": "point", "filled": False, "size": 90, "color": "#b3261e"},
         "encoding": {"x": {"field": x, "type": "temporal"}, "y": {"field": y, "type": "quantitative"}}},
        {"data": {"values": values}, "mark": {"type": "text", "dy": -12, "color": "#b3261e", "fontSize": 10},
         "encoding": {"x": {"field": x, "type": "temporal"}, "y": {"field": y, "type": "quantitative"},
                      "text": {"field": "label"}}},
    ]
    return spec


def nps_trend_spec(rows: list[MetricRow], title: str, y_title: str = "NPS", *, language: str | None = None,
                   width: int = WIDE) -> dict | None:
    points = [{"period": r.key, "nps": r.figures.nps.score, "low": r.figures.nps.low, "high": r.figures.nps.high}
              for r in rows if r.figures.nps.score is not None and r.complete]
    running = [{"period": r.key, "nps": r.figures.nps.score} for r in rows
               if r.figures.nps.score is not None and not r.complete]
    if not points and not running:
        return None
    return _mark_running(specs.line_with_band(points, "period", "nps", "low", "high", title=title, y_title=y_title,
                                              rule=0.0, width=width), running, "period", "nps", language)


def nps_trend(rows: list[MetricRow], title: str, y_title: str = "NPS", *,
        language: str | None = None) -> str | None:
    if nps_trend_spec(rows, title, y_title, language=language) is None:
        return None
    return _both(lambda width: nps_trend_spec(rows, title, y_title, language=language, width=width), language)


def grade_trend_spec(rows: list[MetricRow], title: str, y_title: str, *, language: str | None = None,
                     width: int = WIDE) -> dict | None:
    points = [{"period": r.key, "grade": r.figures.grade.mean, "low": r.figures.grade.low,
               "high": r.figures.grade.high} for r in rows if r.figures.grade.mean is not None and r.complete]
    running = [{"period": r.key, "grade": r.figures.grade.mean} for r in rows
               if r.figures.grade.mean is not None and not r.complete]
    if not points and not running:
        return None
    return _mark_running(specs.line_with_band(points, "period", "grade", "low", "high", title=title,
                                              y_title=y_title, width=width), running, "period", "grade", language)


def grade_trend(rows: list[MetricRow], title: str, y_title: str, *,
        language: str | None = None) -> str | None:
    if grade_trend_spec(rows, title, y_title, language=language) is None:
        return None
    return _both(lambda width: grade_trend_spec(rows, title, y_title, language=language, width=width), language)


def moment_row_spec(view: MomentView, title: str, *, language: str | None = None,
                    width: int = WIDE) -> dict | None:
    if not view.moments:
        return None
    rows = [{"moment": m.name, "position": m.position, "status": m.chart_status, "score": m.score.mean,
             "kind": m.kind} for m in view.moments]
    legend = {}
    for m in view.moments:  # the colours shown, named as the status column names them
        legend.setdefault(m.chart_status, m.status.label_nl if language == "nl" else m.status.label_en)
    return specs.moment_row(rows, title=title, width=width, legend=legend)


def moment_row(view: MomentView, title: str, *,
        language: str | None = None) -> str | None:
    if not view.moments:
        return None
    return _both(lambda width: moment_row_spec(view, title, language=language, width=width), language)


def distribution_spec(counts: dict[int, int], title: str, scale: str = "grade") -> dict | None:
    """Answers per value of a scale, in that scale's colour bands (``specs.SCALE_BANDS``)."""
    if not counts:
        return None
    return specs.distribution(counts, title=title, scale=scale)


def distribution(counts: dict[int, int], title: str, scale: str = "grade", *,
        language: str | None = None) -> str | None:
    spec = distribution_spec(counts, title, scale)
    return None if spec is None else svg(spec, language=language)


def importance_performance_spec(analysis: DriverAnalysis, title: str, x_title: str, y_title: str) -> dict | None:
    """Importance (% of R-squared) against performance relative to the norm, the cuts the quadrants use:
    the importance floor and the norm (0). A case fact's gap is in tens of percentage points of cases (so
    that 10% of cases reads like one grade point), a moment's in grade points. Not-significant factors are
    left out: they have no place in the grid."""
    if not analysis.ok:
        return None
    table = analysis.table
    rows = [{"driver": analysis.labels.get(name, name), "importance": float(rec["relative_weight"]),
             "performance": float(rec["gap"]) * (10.0 if rec["kind"] == "fact" else 1.0)}
            for name, rec in table.iterrows() if rec["quadrant"] not in ("not_significant", "overlap")]
    if not rows:
        return None
    return specs.scatter(rows, "importance", "performance", "driver", title=title,
                         x_rule=IMPORTANCE_FLOOR, y_rule=0.0, x_title=x_title, y_title=y_title)


def importance_performance(analysis: DriverAnalysis, title: str, x_title: str, y_title: str, *,
        language: str | None = None) -> str | None:
    spec = importance_performance_spec(analysis, title, x_title, y_title)
    return None if spec is None else svg(spec, language=language)


def driver_bars_spec(analysis: DriverAnalysis, title: str, x_title: str) -> dict | None:
    if not analysis.ok:
        return None
    rows = [{"driver": analysis.labels.get(name, name), "weight": round(float(rec["relative_weight"]), 1)}
            for name, rec in analysis.table.iterrows()]
    return specs.bar(rows, "driver", "weight", title=title, horizontal=True, x_title="", y_title=x_title,
                     height=max(22 * len(rows), 120))


def driver_bars(analysis: DriverAnalysis, title: str, x_title: str, *,
        language: str | None = None) -> str | None:
    spec = driver_bars_spec(analysis, title, x_title)
    return None if spec is None else svg(spec, language=language)


# -- downloads: the same spec as on the page, as a file -------------------------------------------------------

CHART_FORMATS = {"svg": "image/svg+xml", "png": "image/png"}


def chart_file(spec: dict, kind: str, title: str, language: str | None = None) -> tuple[bytes, str]:
    """The chart as a standalone SVG (with its XML declaration, so that a viewer opens it) or a PNG at twice
    the size (sharp on a slide), with its media type."""
    if kind == "png":
        return png(spec, scale=2.0, language=language), CHART_FORMATS["png"]
    if kind != "svg":
        raise ValueError(f"chart format must be svg or png, got {kind!r}")
    markup = svg(spec, title=title, language=language)
    if 'xmlns="http://www.w3.org/2000/svg"' not in markup:
        markup = markup.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + markup).encode("utf-8"), CHART_FORMATS["svg"]
