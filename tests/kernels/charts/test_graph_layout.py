"""The layered layout of possibly cyclic graphs, and the process graph drawn from it as SVG."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from servicepulse.kernels.charts.graph_layout import layered_layout
from servicepulse.kernels.charts.process_graph import (
    MAX_LINE,
    NAME_SIZE,
    WRAP_AT,
    GraphEdge,
    GraphNode,
    process_graph_svg,
    text_width,
    wrap_name,
)

SVG = "{http://www.w3.org/2000/svg}"

# A service process with rework: a repeat contact goes back to the start, a revisit loops, a self-loop.
EDGES = [("report", "diagnose"), ("diagnose", "visit"), ("visit", "close"), ("report", "close"),
         ("visit", "report"), ("close", "reopen"), ("reopen", "diagnose"), ("visit", "visit"),
         ("diagnose", "close")]
NODES = ["report", "diagnose", "visit", "close", "reopen"]


def sizes(names, w=120.0, h=40.0):
    return {n: (w + 10 * i, h) for i, n in enumerate(names)}


def boxes_overlap(a, b) -> bool:
    return abs(a.x - b.x) < (a.width + b.width) / 2 and abs(a.y - b.y) < (a.height + b.height) / 2


def test_every_node_placed_and_forward_edges_go_down():
    layout = layered_layout(NODES, EDGES, sizes(NODES), starts=["report"], label_sizes=[(60, 16)] * len(EDGES))
    assert set(layout.nodes) == set(NODES)
    assert layout.nodes["report"].layer == 0
    for edge in layout.edges:
        a, b = layout.nodes[edge.source], layout.nodes[edge.target]
        if edge.self_loop:
            assert edge.source == edge.target and edge.points == ((a.x, a.y),) and not edge.back
        elif edge.back:
            assert a.layer > b.layer
        else:
            assert a.layer < b.layer and a.y < b.y
        if not edge.self_loop:  # the route runs from box to box, monotone in y, through its label
            assert edge.points[0] == (a.x, a.y) and edge.points[-1] == (b.x, b.y)
            ys = [y for _, y in edge.points]
            assert ys == sorted(ys, reverse=edge.back)
            assert edge.label in edge.points
    backs = {(e.source, e.target) for e in layout.edges if e.back}
    assert backs == {("visit", "report"), ("reopen", "diagnose")}


def test_no_two_nodes_overlap_and_labels_miss_the_boxes():
    layout = layered_layout(NODES, EDGES, sizes(NODES), starts=["report"], label_sizes=[(60, 16)] * len(EDGES))
    placed = list(layout.nodes.values())
    for i, a in enumerate(placed):
        assert 0 <= a.x - a.width / 2 and a.x + a.width / 2 <= layout.width + 1e-9
        assert 0 <= a.y - a.height / 2 and a.y + a.height / 2 <= layout.height + 1e-9
        for b in placed[i + 1:]:
            assert not boxes_overlap(a, b), (a, b)
            if a.layer == b.layer:
                assert abs(a.x - b.x) >= (a.width + b.width) / 2
    labels = [e.label for e in layout.edges if e.label]
    for x, y in labels:
        for box in placed:
            assert not (abs(x - box.x) < (60 + box.width) / 2 and abs(y - box.y) < (16 + box.height) / 2)
    for k, (x1, y1) in enumerate(labels):
        for x2, y2 in labels[k + 1:]:
            assert not (abs(x1 - x2) < 60 and abs(y1 - y2) < 16)


def test_a_pure_cycle_gets_one_back_edge_and_distinct_layers():
    ring = [("a", "b"), ("b", "c"), ("c", "a")]
    layout = layered_layout([], ring, sizes("abc"), starts=["b"])
    assert [e.back for e in layout.edges] == [True, False, False]  # the search starts at b, so c -> a -> b
    assert [layout.nodes[n].layer for n in "bca"] == [0, 1, 2]
    # Without starts the search begins at the first node.
    assert [e.back for e in layered_layout([], ring, sizes("abc")).edges] == [False, False, True]


def test_a_self_loop_alone_and_the_empty_graph():
    alone = layered_layout(["x"], [("x", "x")], {"x": (100, 30)})
    assert alone.nodes["x"].layer == 0 and alone.edges[0].self_loop
    assert (alone.width, alone.height) == (100, 30)
    empty = layered_layout([], [], {})
    assert empty.nodes == {} and empty.edges == () and (empty.width, empty.height) == (0, 0)


def test_a_long_edge_bends_through_every_rank_and_sources_sit_near_their_successor():
    edges = [("a", "b"), ("b", "c"), ("c", "d"), ("a", "d"), ("late", "d")]
    layout = layered_layout([], edges, sizes(["a", "b", "c", "d", "late"]), starts=["a"])
    long = layout.edges[3]
    assert len(long.points) == 4  # a, two bends, d: one per layer crossed
    assert layout.nodes["late"].layer == layout.nodes["d"].layer - 1


def test_layout_is_deterministic():
    def run():
        return layered_layout(NODES, EDGES, sizes(NODES), starts=["report"], label_sizes=[(50, 14)] * len(EDGES))
    assert run() == run()


def test_barycentre_ordering_removes_avoidable_crossings():
    # Two parallel chains whose second layer starts out swapped: the sweeps must untangle them.
    edges = [("a1", "b2"), ("a2", "b1"), ("b1", "c2"), ("b2", "c1")]
    layout = layered_layout(["a1", "a2", "b1", "b2", "c1", "c2"], edges, sizes(["a1", "a2", "b1", "b2", "c1", "c2"]))
    nodes = layout.nodes

    def order(*names):
        return sorted(names, key=lambda n: nodes[n].x)
    first = order("a1", "a2")
    assert order("b1", "b2") == [{"a1": "b2", "a2": "b1"}[n] for n in first]
    assert order("c1", "c2") == [{"b1": "c2", "b2": "c1"}[n] for n in order("b1", "b2")]


def test_long_names_wrap_onto_two_lines_and_stay_short():
    assert wrap_name("Engineer visit") == ["Engineer visit"]
    lines = wrap_name("Call attempt outside opening hours")
    assert len(lines) == 2 and " ".join(lines) == "Call attempt outside opening hours"
    assert all(text_width(line, NAME_SIZE, True) <= WRAP_AT for line in lines)
    cut = wrap_name("x" * 80)
    assert len(cut) == 1 and cut[0].endswith("…") and text_width(cut[0], NAME_SIZE, True) <= MAX_LINE


def test_the_svg_escapes_names_and_sizes_boxes_to_their_text():
    nodes = [GraphNode("<script>alert(1)</script>", "10", 1.0), GraphNode("a & b", "7", 0.5),
             GraphNode('Quote "this"', "3")]
    edges = [GraphEdge("<script>alert(1)</script>", "a & b", "7 · 2 h", 1.0),
             GraphEdge("a & b", "<script>alert(1)</script>", "2 · 1 d", 0.3),
             GraphEdge("a & b", "a & b", "1 · 5 min", 0.1), GraphEdge("a & b", 'Quote "this"', "3 · 1 h", 0.4)]
    markup = process_graph_svg(nodes, edges, starts=["<script>alert(1)</script>"], title="Graph <x>")
    assert "<script>" not in markup and "&lt;script&gt;" in markup and "a &amp; b" in markup
    root = ET.fromstring(markup)
    assert root.get("aria-label") == "Graph <x>"
    texts = [t.text for t in root.iter(f"{SVG}text")]
    for node in nodes:
        assert node.name in texts
    assert {"7 · 2 h", "2 · 1 d", "1 · 5 min"} <= set(texts)
    for group in root.iter(f"{SVG}g"):
        rect, title = group.find(f"{SVG}rect"), group.find(f"{SVG}title")
        if rect is None or title is None:
            continue
        assert float(rect.get("width")) >= text_width(title.text, NAME_SIZE, True)
    dashed = [p for p in root.iter(f"{SVG}path") if p.get("stroke-dasharray")]
    assert len(dashed) == 2  # the back-edge and the self-loop
    assert len(list(root.iter(f"{SVG}polygon"))) == len(edges)  # an arrowhead each


@pytest.mark.parametrize("n", [0, 1])
def test_tiny_graphs_draw(n):
    nodes = [GraphNode("only", "1")][:n]
    root = ET.fromstring(process_graph_svg(nodes, []))
    assert root.tag == f"{SVG}svg" and len([t for t in root.iter(f"{SVG}text")]) == 2 * n
