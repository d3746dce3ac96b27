"""The directly-follows graph as an SVG image, laid out by Graphviz (``dot``).

Each arrow carries its frequency and the median time between the two
activities; arrow width grows with frequency. Only the most frequent arcs are
drawn (`MAX_ARCS`) so the picture stays readable; the page says how many
were left out. Graphviz escapes the labels in its SVG output, and the page
shows the picture as an ``<img>``, so no activity name can run as markup.
"""

from __future__ import annotations

import math
import shutil

import graphviz

MAX_ARCS = 40


class GraphvizMissing(RuntimeError):
    pass


def duration_text(hours: float, language: str) -> str:
    if hours is None or math.isnan(hours):
        return "–"
    if hours < 1:
        return f"{hours * 60:.0f} min"
    if hours < 48:
        return f"{hours:.1f} {'u' if language == 'nl' else 'h'}".replace(".", "," if language == "nl" else ".")
    days = hours / 24
    return f"{days:.1f} {'d' if language == 'nl' else 'd'}".replace(".", "," if language == "nl" else ".")


def dfg_svg(arcs: list[tuple[str, str, int, float]], activities: dict[str, int], language: str = "nl",
            max_arcs: int = MAX_ARCS) -> bytes:
    """SVG bytes of the graph; raises GraphvizMissing when ``dot`` is not installed."""
    if shutil.which("dot") is None:
        raise GraphvizMissing("Graphviz 'dot' is not installed (Debian: apt-get install graphviz)")
    shown = arcs[:max_arcs]
    top = max((c for _, _, c, _ in shown), default=1)
    g = graphviz.Digraph(graph_attr={"rankdir": "TB", "fontname": "Helvetica", "bgcolor": "white"},
                         node_attr={"shape": "box", "style": "rounded,filled", "fillcolor": "#eef3f8",
                                    "fontname": "Helvetica", "fontsize": "11"},
                         edge_attr={"fontname": "Helvetica", "fontsize": "9", "color": "#4a6fa5"})
    names = {a for a, _, _, _ in shown} | {b for _, b, _, _ in shown}
    ids = {name: f"n{i}" for i, name in enumerate(sorted(names))}
    for name, nid in ids.items():
        g.node(nid, label=f"{name}\n{activities.get(name, 0):,}".replace(",", "." if language == "nl" else ","))
    for a, b, count, hours in shown:
        width = 0.6 + 3.4 * count / top
        label = f"{count:,}".replace(",", "." if language == "nl" else ",") + " · " + duration_text(hours, language)
        g.edge(ids[a], ids[b], label=label, penwidth=f"{width:.2f}")
    return g.pipe(format="svg")
