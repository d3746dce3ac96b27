"""A process graph (activities and the arrows between them) drawn as SVG, laid out by `graph_layout`.

Boxes are sized to their text (an approximate Helvetica width table; long names wrap onto two
lines); arrows get thicker with weight and carry a label; back-edges (rework, loops) are orange and
dashed, self-loops curl out of the box's right side. The SVG is built with ElementTree, which
escapes every text and attribute, so a name like ``<script>`` is shown as text.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

from servicepulse.kernels.charts.graph_layout import (
    PlacedEdge,
    PlacedNode,
    layered_layout,
)

FONT = "Helvetica, Arial, 'Liberation Sans', sans-serif"
NAME_SIZE, DETAIL_SIZE, LABEL_SIZE = 13.0, 11.5, 11.0
NAME_LINE, DETAIL_LINE = 16.0, 15.0
PAD_X, PAD_Y = 12.0, 8.0
WRAP_AT, MAX_LINE, MIN_BOX = 150.0, 210.0, 96.0  # px of name text: wrap beyond, cut beyond, narrowest box
LOOP_OUT = 30.0  # how far a self-loop reaches out of its box
MARGIN = 16.0
INK, MUTED = "#1f2d3d", "#5a6b7d"
FORWARD, BACK = "#4f75a3", "#d2691e"
BOX_EDGE, BOX_LIGHT, BOX_DARK = "#4a6fa5", (244, 247, 251), (196, 215, 238)

# Helvetica advance widths (1/1000 em) of the common characters; the rest count as 'n' (556).
_WIDTHS = {**dict.fromkeys("ijl'|", 222), **dict.fromkeys(" ftI!.,:;/\\()[]-", 278), "r": 333,
           **dict.fromkeys("ckszvxyJ", 500), "m": 833, "w": 722, "M": 833, "W": 944,
           **dict.fromkeys("FTZL", 611), **dict.fromkeys("ABEKPSVXY&", 667),
           **dict.fromkeys("CDHNRUw", 722), **dict.fromkeys("GOQ", 778), "·": 278, "…": 1000, "–": 556}


def text_width(text: str, size: float, bold: bool = False) -> float:
    """Approximate rendered width in px (bold about 6% wider)."""
    return sum(_WIDTHS.get(ch, 556) for ch in text) * size / 1000 * (1.06 if bold else 1.0)


@dataclass(frozen=True)
class GraphNode:
    name: str
    detail: str = ""  # a second, smaller line (e.g. the count)
    weight: float = 0.0  # 0..1: box shade


@dataclass(frozen=True)
class GraphEdge:
    source: str
    target: str
    label: str = ""
    weight: float = 1.0  # 0..1: line thickness


def _cut(text: str, limit: float) -> str:
    if text_width(text, NAME_SIZE, True) <= limit:
        return text
    while text and text_width(text + "…", NAME_SIZE, True) > limit:
        text = text[:-1]
    return text.rstrip() + "…"


def wrap_name(name: str) -> list[str]:
    """One line, or two split at the space that balances them best; a line still too long is cut."""
    if text_width(name, NAME_SIZE, True) <= WRAP_AT:
        return [name]
    cuts = [i for i, ch in enumerate(name) if ch in " -/"]
    if not cuts:
        return [_cut(name, MAX_LINE)]

    def split(i: int) -> tuple[str, str]:
        keep = name[i] if name[i] in "-/" else ""
        return name[:i] + keep, name[i + 1:]

    first, second = min((split(i) for i in cuts),
                        key=lambda p: max(text_width(p[0], NAME_SIZE, True), text_width(p[1], NAME_SIZE, True)))
    return [_cut(first, MAX_LINE), _cut(second, MAX_LINE)]


def _box_size(lines: list[str], detail: str) -> tuple[float, float]:
    widest = max([text_width(t, NAME_SIZE, True) for t in lines] + [text_width(detail, DETAIL_SIZE)])
    height = 2 * PAD_Y + NAME_LINE * len(lines) + (DETAIL_LINE if detail else 0)
    return max(MIN_BOX, widest + 2 * PAD_X), height


def _shade(weight: float) -> str:
    w = min(max(weight, 0.0), 1.0)
    return "#" + "".join(f"{round(a + (b - a) * w):02x}" for a, b in zip(BOX_LIGHT, BOX_DARK))


def _f(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _ports(placed: dict[str, PlacedNode], routes: Sequence[PlacedEdge]) -> dict[tuple[int, int], tuple[float, float]]:
    """Where each edge meets its boxes ((edge, 0) the start, (edge, -1) the end): on the top or bottom
    side, spread in the order of where the edges go next, so arrows into one box stay apart."""
    ends: dict[tuple[str, int], list[tuple[float, int, int]]] = {}
    for i, route in enumerate(routes):
        if route.self_loop:
            continue
        for at, name, toward in ((0, route.source, route.points[1]), (-1, route.target, route.points[-2])):
            node = placed[name]
            side = 1 if toward[1] > node.y else -1
            ends.setdefault((name, side), []).append((toward[0], i, at))
    out = {}
    for (name, side), items in ends.items():
        node = placed[name]
        items.sort()
        reach = max(node.width / 2 - 14, 0.0)
        spacing = min(16.0, 2 * reach / (len(items) - 1)) if len(items) > 1 else 0.0
        mean = sum(x for x, _, _ in items) / len(items)
        half = spacing * (len(items) - 1) / 2
        centre = node.x + min(max((mean - node.x) * 0.5, -reach + half), reach - half)
        for k, (_, i, at) in enumerate(items):
            out[(i, at)] = (centre - half + k * spacing, node.y + side * node.height / 2)
    return out


def _curve(points: list[tuple[float, float]]) -> str:
    """Through every point with vertical tangents, so edges leave and enter the boxes straight."""
    (x0, y0), parts = points[0], []
    for x1, y1 in points[1:]:
        my = (y0 + y1) / 2
        parts.append(f"C{_f(x0)},{_f(my)} {_f(x1)},{_f(my)} {_f(x1)},{_f(y1)}")
        x0, y0 = x1, y1
    return f"M{_f(points[0][0])},{_f(points[0][1])} " + " ".join(parts)


def _arrowhead(parent: ET.Element, tip: tuple[float, float], dx: float, dy: float, size: float, colour: str) -> None:
    bx, by = tip[0] - dx * size, tip[1] - dy * size
    px, py = -dy * size * 0.45, dx * size * 0.45
    pts = [tip, (bx + px, by + py), (bx - px, by - py)]
    ET.SubElement(parent, "polygon", points=" ".join(f"{_f(x)},{_f(y)}" for x, y in pts), fill=colour)


def process_graph_svg(nodes: Sequence[GraphNode], edges: Sequence[GraphEdge], starts: Sequence[str] = (),
                      title: str = "") -> str:
    """SVG markup of the graph; `starts` are where the flow begins (they go to the top)."""
    lines = {n.name: wrap_name(n.name) for n in nodes}
    boxes = {n.name: _box_size(lines[n.name], n.detail) for n in nodes}
    loops = {e.source: e for e in edges if e.source == e.target}
    sizes = {}
    for name, (w, h) in boxes.items():
        # A self-loop and its label stick out on the right: reserve as much on both sides (the layout is symmetric).
        extra = LOOP_OUT + 6 + text_width(loops[name].label, LABEL_SIZE) + 8 if name in loops else 0.0
        sizes[name] = (w + 2 * extra, h)
    label_sizes = [(text_width(e.label, LABEL_SIZE) + 10, LABEL_SIZE + 6) for e in edges]
    layout = layered_layout([n.name for n in nodes], [(e.source, e.target) for e in edges], sizes, starts,
                            label_sizes)
    width, height = layout.width + 2 * MARGIN, layout.height + 2 * MARGIN
    svg = ET.Element("svg", {"xmlns": "http://www.w3.org/2000/svg", "width": _f(width), "height": _f(height),
                             "viewBox": f"0 0 {_f(width)} {_f(height)}", "role": "img", "font-family": FONT})
    if title:
        svg.set("aria-label", title)
        ET.SubElement(svg, "title").text = title
    ET.SubElement(svg, "rect", width="100%", height="100%", fill="white")
    canvas = ET.SubElement(svg, "g", transform=f"translate({_f(MARGIN)},{_f(MARGIN)})")
    placed = {name: PlacedNode(p.name, p.layer, p.x, p.y, *boxes[name]) for name, p in layout.nodes.items()}
    by_name = {n.name: n for n in nodes}

    arrows = ET.SubElement(canvas, "g", fill="none")
    labels = []
    ports = _ports(placed, layout.edges)
    # Back-edges first, so the main flow is drawn over them.
    for i, edge, route in sorted(zip(range(len(edges)), edges, layout.edges), key=lambda ier: not ier[2].back):
        colour = BACK if route.back or route.self_loop else FORWARD
        stroke = 1.2 + 4.3 * min(max(edge.weight, 0.0), 1.0)
        head = 7.0 + stroke * 1.1
        style = {"stroke": colour, "stroke-width": _f(stroke), "stroke-linecap": "round"}
        if route.back or route.self_loop:
            style["stroke-dasharray"] = "7 4"
        if route.self_loop:
            box = placed[edge.source]
            right, top, bottom = box.x + box.width / 2, box.y - box.height / 4, box.y + box.height / 4
            out = right + LOOP_OUT
            ET.SubElement(arrows, "path", d=f"M{_f(right)},{_f(top)} C{_f(out)},{_f(top - 12)} {_f(out)},"
                          f"{_f(bottom + 12)} {_f(right + head)},{_f(bottom)}", **style)
            _arrowhead(arrows, (right, bottom), -1.0, 0.0, head, colour)
            labels.append((right + LOOP_OUT + 6, box.y, edge.label, colour, "start"))
            continue
        pts = list(route.points)
        start, end = ports[(i, 0)], ports[(i, -1)]
        pts[0], pts[-1] = start, end
        down = 1.0 if end[1] > pts[-2][1] else -1.0
        pts[-1] = (end[0], end[1] - down * head)  # the line stops at the arrowhead's base
        ET.SubElement(arrows, "path", d=_curve(pts), **style)
        _arrowhead(arrows, end, 0.0, down, head, colour)
        if route.label is not None and edge.label:
            labels.append((route.label[0], route.label[1], edge.label, colour, "middle"))

    for name, box in placed.items():
        node = by_name[name]
        group = ET.SubElement(canvas, "g")
        ET.SubElement(group, "title").text = name
        ET.SubElement(group, "rect", x=_f(box.x - box.width / 2), y=_f(box.y - box.height / 2),
                      width=_f(box.width), height=_f(box.height), rx="8", fill=_shade(node.weight),
                      stroke=BOX_EDGE, **{"stroke-width": "1.3"})
        text_top = box.y - box.height / 2 + PAD_Y
        for i, line in enumerate(lines[name]):
            t = ET.SubElement(group, "text", x=_f(box.x), y=_f(text_top + NAME_LINE * (i + 1) - 4),
                              fill=INK, **{"text-anchor": "middle", "font-size": _f(NAME_SIZE),
                                           "font-weight": "bold"})
            t.text = line
        if node.detail:
            t = ET.SubElement(group, "text", x=_f(box.x),
                              y=_f(text_top + NAME_LINE * len(lines[name]) + DETAIL_LINE - 3),
                              fill=MUTED, **{"text-anchor": "middle", "font-size": _f(DETAIL_SIZE)})
            t.text = node.detail

    # Labels last, on a white plate, so no line runs through their text.
    for x, y, text, colour, anchor in labels:
        w = text_width(text, LABEL_SIZE) + 8
        left = x - w / 2 if anchor == "middle" else x - 4
        ET.SubElement(canvas, "rect", x=_f(left), y=_f(y - LABEL_SIZE / 2 - 3), width=_f(w),
                      height=_f(LABEL_SIZE + 6), rx="3", fill="white", **{"fill-opacity": "0.9"})
        t = ET.SubElement(canvas, "text", x=_f(x), y=_f(y + LABEL_SIZE / 2 - 1.5),
                          fill="#7a3a0c" if colour == BACK else INK,
                          **{"text-anchor": anchor, "font-size": _f(LABEL_SIZE)})
        t.text = text
    return ET.tostring(svg, encoding="unicode")
