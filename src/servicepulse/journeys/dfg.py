"""The directly-follows graph as an SVG image, laid out and drawn in Python (`kernels.charts`).

Each activity is a box with its number of events, shaded by frequency; each arrow carries its
frequency and the median time between the two activities, and grows thicker with frequency.
Arrows back to an earlier step (rework, loops) are dashed and orange. Only the most frequent arcs
are drawn (`MAX_ARCS`) so the picture stays readable; the page says how many were left out. The
SVG is built with ElementTree, which escapes every name, and the page shows it as an ``<img>``, so
no activity name can run as markup.
"""

from __future__ import annotations

import math

from servicepulse.kernels.charts.process_graph import (
    GraphEdge,
    GraphNode,
    process_graph_svg,
)

MAX_ARCS = 40
MAX_LONE_ACTIVITIES = 12  # shown as boxes when a journey has no arcs at all


def duration_text(hours: float, language: str) -> str:
    if hours is None or math.isnan(hours):
        return "–"
    if hours < 1:
        return f"{hours * 60:.0f} min"
    if hours < 48:
        return f"{hours:.1f} {'u' if language == 'nl' else 'h'}".replace(".", "," if language == "nl" else ".")
    days = hours / 24
    return f"{days:.1f} {'d' if language == 'nl' else 'd'}".replace(".", "," if language == "nl" else ".")


def count_text(n: int, language: str) -> str:
    """1.234 in Dutch, 1,234 in English."""
    return f"{n:,}".replace(",", "." if language == "nl" else ",")


def dfg_svg(arcs: list[tuple[str, str, int, float]], activities: dict[str, int], language: str = "nl",
            max_arcs: int = MAX_ARCS, starts: dict[str, int] | None = None, title: str = "") -> bytes:
    """SVG bytes of the graph of the `max_arcs` most frequent arcs (a, b, count, median hours).

    `activities` holds each activity's event count, `starts` how many cases begin at each activity
    (the most common start goes first, so the main flow runs top to bottom); `title` is the
    accessible name."""
    shown = arcs[:max_arcs]
    top_arc = max((c for _, _, c, _ in shown), default=1)
    named = {a for a, _, _, _ in shown} | {b for _, b, _, _ in shown}
    if shown:
        # The most frequent activities first: ties in the layout follow this order.
        order = sorted(named, key=lambda name: (-activities.get(name, 0), name))
    else:
        order = sorted(activities, key=lambda name: (-activities[name], name))[:MAX_LONE_ACTIVITIES]
    top_activity = max((activities.get(name, 0) for name in order), default=1) or 1
    nodes = [GraphNode(name, count_text(activities.get(name, 0), language), activities.get(name, 0) / top_activity)
             for name in order]
    edges = [GraphEdge(a, b, f"{count_text(count, language)} · {duration_text(hours, language)}", count / top_arc)
             for a, b, count, hours in shown]
    first = sorted((name for name in (starts or {}) if name in order), key=lambda name: (-starts[name], name))
    svg = process_graph_svg(nodes, edges, first, title)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + svg).encode("utf-8")
