"""Layered layout of a directed graph that may have cycles (Sugiyama's scheme), in plain Python.

1. Cycles: a depth-first search from the start nodes marks every edge that returns to a node on
   the search path as a back-edge; back-edges are laid out reversed, so the rest is acyclic.
2. Layers: longest path from the sources; a source that is not a start node moves down to just
   above its nearest successor, so it does not dangle at the top. Self-loops take no part.
3. Ranks: with edge labels, layer L becomes rank 2L and every edge gets a label node on an odd
   rank in between (Graphviz does the same), so labels take space like boxes and never overlap;
   an edge crossing more ranks gets a chain of dummy nodes, one per rank.
4. Order within ranks: barycentre sweeps down and up, then swaps of neighbours (transposition);
   the order with the fewest crossings is kept.
5. x: per rank, weighted least squares towards the neighbours' x under the order's minimum gaps,
   solved exactly by pool-adjacent-violators; long edges weigh more, so they run straight.

Everything is deterministic: ties follow the input order. Sizes are in any unit (SVG pixels).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

Point = tuple[float, float]


@dataclass(frozen=True)
class PlacedNode:
    name: str
    layer: int
    x: float  # centre
    y: float  # centre
    width: float
    height: float


@dataclass(frozen=True)
class PlacedEdge:
    source: str
    target: str
    points: tuple[Point, ...]  # source centre, bends (one per rank crossed), target centre; one point for a self-loop
    label: Point | None  # centre of the edge's label node
    back: bool  # a back-edge: drawn against the layer direction (rework, loops)
    self_loop: bool


@dataclass(frozen=True)
class Layout:
    nodes: dict[str, PlacedNode]
    edges: tuple[PlacedEdge, ...]  # in input order
    width: float
    height: float


def layered_layout(nodes: Sequence[str], edges: Sequence[tuple[str, str]],
                   sizes: Mapping[str, tuple[float, float]], starts: Sequence[str] = (),
                   label_sizes: Sequence[tuple[float, float]] | None = None, *,
                   node_gap: float = 28.0, rank_gap: float = 22.0, dummy_width: float = 10.0,
                   sweeps: int = 12) -> Layout:
    """Place `nodes` (with (width, height) from `sizes`) and route `edges` top to bottom.

    `starts` are the nodes the flow begins at (searched first, so the main path points down);
    `label_sizes`, one per edge, reserves room for each edge's label. Nodes named only in edges
    are added after `nodes`. The result's coordinates start at (0, 0)."""
    names = list(dict.fromkeys([*nodes, *(n for e in edges for n in e)]))
    index = {n: i for i, n in enumerate(names)}
    n = len(names)
    if label_sizes is not None and len(label_sizes) != len(edges):
        raise ValueError("label_sizes needs one size per edge")
    pairs = [(index[a], index[b]) for a, b in edges]
    back = _back_edges(n, pairs, [index[s] for s in starts if s in index])
    dag = [(b, a) if rev else (a, b) for (a, b), rev in zip(pairs, back)]
    layer = _layers(n, [e for e in dag if e[0] != e[1]], {index[s] for s in starts if s in index})

    # Vertices: the real nodes, then dummies; each with rank, width and height.
    step = 2 if label_sizes is not None else 1
    rank = [layer[v] * step for v in range(n)]
    width = [float(sizes[name][0]) for name in names]
    height = [float(sizes[name][1]) for name in names]
    chains: list[list[int]] = []  # per edge: the vertices from the DAG tail to the DAG head
    label_vertex: list[int | None] = []
    for i, (a, b) in enumerate(dag):
        if a == b:
            chains.append([a])
            label_vertex.append(None)
            continue
        chain, label_at = [a], None
        lo, hi = rank[a], rank[b]
        if label_sizes is not None:  # the odd rank nearest the middle, the upper one on a tie
            label_at = min(range(lo + 1, hi, 2), key=lambda r: (abs(2 * r - lo - hi), r))
        for r in range(lo + 1, hi):
            chain.append(len(rank))
            rank.append(r)
            if r == label_at:
                width.append(float(label_sizes[i][0]))
                height.append(float(label_sizes[i][1]))
            else:
                width.append(dummy_width)
                height.append(0.0)
        chain.append(b)
        chains.append(chain)
        label_vertex.append(chain[label_at - lo] if label_at is not None else None)
    total = len(rank)
    is_dummy = [v >= n for v in range(total)]
    links = sorted({(c[k], c[k + 1]) for c in chains for k in range(len(c) - 1)})
    up: list[list[int]] = [[] for _ in range(total)]
    down: list[list[int]] = [[] for _ in range(total)]
    for a, b in links:
        down[a].append(b)
        up[b].append(a)

    n_ranks = max(rank, default=-1) + 1
    ranks = _initial_order(total, n_ranks, rank, down, n)
    ranks = _reduce_crossings(ranks, up, down, sweeps)
    xs = _x_coordinates(ranks, up, down, width, is_dummy, node_gap)

    # y: each rank as tall as its tallest member, rank_gap between ranks.
    ys_rank, top = [], 0.0
    for members in ranks:
        h = max((height[v] for v in members), default=0.0)
        ys_rank.append(top + h / 2)
        top += h + rank_gap
    left = min((xs[v] - width[v] / 2 for v in range(total)), default=0.0)
    right = max((xs[v] + width[v] / 2 for v in range(total)), default=0.0)
    point = [(xs[v] - left, ys_rank[rank[v]]) for v in range(total)]

    placed = {name: PlacedNode(name, layer[v], point[v][0], point[v][1], width[v], height[v])
              for v, name in enumerate(names)}
    routed = []
    for (a, b), rev, chain, lab in zip(edges, back, chains, label_vertex):
        pts = [point[v] for v in chain]
        routed.append(PlacedEdge(a, b, tuple(reversed(pts)) if rev else tuple(pts),
                                 point[lab] if lab is not None else None, rev and a != b, a == b))
    return Layout(placed, tuple(routed), right - left if total else 0.0, max(top - rank_gap, 0.0))


def _back_edges(n: int, pairs: list[tuple[int, int]], starts: list[int]) -> list[bool]:
    """Which edges close a cycle, by an iterative depth-first search: from the starts first, then from
    nodes nothing leads to, then from the rest in input order. Self-loops count as back-edges."""
    out: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    has_in = [False] * n
    for i, (a, b) in enumerate(pairs):
        out[a].append((b, i))
        if a != b:
            has_in[b] = True
    back = [a == b for a, b in pairs]
    state = [0] * n  # 0 unseen, 1 on the search path, 2 done
    roots = [*starts, *(v for v in range(n) if not has_in[v]), *range(n)]
    for root in roots:
        if state[root]:
            continue
        state[root] = 1
        stack = [(root, 0)]
        while stack:
            v, k = stack[-1]
            if k == len(out[v]):
                state[v] = 2
                stack.pop()
                continue
            stack[-1] = (v, k + 1)
            w, i = out[v][k]
            if state[w] == 1:
                back[i] = True
            elif state[w] == 0:
                state[w] = 1
                stack.append((w, 0))
    return back


def _layers(n: int, dag: list[tuple[int, int]], starts: set[int]) -> list[int]:
    preds: list[list[int]] = [[] for _ in range(n)]
    succs: list[list[int]] = [[] for _ in range(n)]
    for a, b in dag:
        succs[a].append(b)
        preds[b].append(a)
    indegree = [len(p) for p in preds]
    order = [v for v in range(n) if not indegree[v]]
    for v in order:  # Kahn's algorithm; the list grows while it is read
        for w in succs[v]:
            indegree[w] -= 1
            if not indegree[w]:
                order.append(w)
    layer = [0] * n
    for v in order:
        for w in succs[v]:
            layer[w] = max(layer[w], layer[v] + 1)
    # A source that is not a start sits just above its nearest successor (latest first, so chains follow).
    for v in reversed(order):
        if not preds[v] and succs[v] and v not in starts:
            layer[v] = min(layer[w] for w in succs[v]) - 1
    return layer


def _initial_order(total: int, n_ranks: int, rank: list[int], down: list[list[int]], n_real: int) -> list[list[int]]:
    """Ranks ordered by depth-first discovery from the top, which already keeps paths together."""
    seen = [False] * total
    found: list[int] = []
    roots = sorted(range(total), key=lambda v: (rank[v], v))
    for root in roots:
        if seen[root]:
            continue
        stack = [root]
        while stack:
            v = stack.pop()
            if seen[v]:
                continue
            seen[v] = True
            found.append(v)
            stack.extend(reversed(down[v]))
    ranks: list[list[int]] = [[] for _ in range(n_ranks)]
    for v in found:
        ranks[rank[v]].append(v)
    return ranks


def _crossings(upper: list[int], lower: list[int], down: list[list[int]]) -> int:
    pos = {v: i for i, v in enumerate(lower)}
    segs = sorted((i, pos[w]) for i, v in enumerate(upper) for w in down[v])
    count = 0
    for k, (a1, b1) in enumerate(segs):
        for a2, b2 in segs[k + 1:]:
            if a2 > a1 and b2 < b1:
                count += 1
    return count


def _total_crossings(ranks: list[list[int]], down: list[list[int]]) -> int:
    return sum(_crossings(ranks[r], ranks[r + 1], down) for r in range(len(ranks) - 1))


def _by_barycentre(members: list[int], neighbours: list[list[int]], pos: dict[int, int]) -> list[int]:
    def key(item: tuple[int, int]) -> tuple[float, int]:
        i, v = item
        around = [pos[w] for w in neighbours[v]]
        return (sum(around) / len(around) if around else float(i), i)  # no neighbours: stay put
    return [v for _, v in sorted(enumerate(members), key=key)]


def _local_crossings(ranks: list[list[int]], r: int, down: list[list[int]]) -> int:
    above = _crossings(ranks[r - 1], ranks[r], down) if r > 0 else 0
    return above + (_crossings(ranks[r], ranks[r + 1], down) if r + 1 < len(ranks) else 0)


def _transpose(ranks: list[list[int]], down: list[list[int]]) -> None:
    """Swap neighbours in a rank while that lowers the crossings with the ranks above and below."""
    improved = True
    while improved:
        improved = False
        for r, members in enumerate(ranks):
            for i in range(len(members) - 1):
                before = _local_crossings(ranks, r, down)
                members[i], members[i + 1] = members[i + 1], members[i]
                if _local_crossings(ranks, r, down) < before:
                    improved = True
                else:
                    members[i], members[i + 1] = members[i + 1], members[i]


def _reduce_crossings(ranks: list[list[int]], up: list[list[int]], down: list[list[int]],
                      sweeps: int) -> list[list[int]]:
    best = [list(m) for m in ranks]
    best_count = _total_crossings(best, down)
    current = [list(m) for m in ranks]
    for _ in range(sweeps):
        if best_count == 0:
            break
        for r in range(1, len(current)):
            pos = {v: i for i, v in enumerate(current[r - 1])}
            current[r] = _by_barycentre(current[r], up, pos)
        for r in range(len(current) - 2, -1, -1):
            pos = {v: i for i, v in enumerate(current[r + 1])}
            current[r] = _by_barycentre(current[r], down, pos)
        _transpose(current, down)
        count = _total_crossings(current, down)
        if count < best_count:
            best, best_count = [list(m) for m in current], count
    return best


def _pava(targets: list[float], weights: list[float]) -> list[float]:
    """The non-decreasing sequence nearest to `targets` in weighted least squares."""
    blocks: list[list[float]] = []  # [weighted mean, weight, size]
    for t, w in zip(targets, weights):
        blocks.append([t, w, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2, s2 = blocks.pop()
            m1, w1, s1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, s1 + s2])
    out: list[float] = []
    for mean, _, size in blocks:
        out.extend([mean] * int(size))
    return out


def _x_coordinates(ranks: list[list[int]], up: list[list[int]], down: list[list[int]], width: list[float],
                   is_dummy: list[bool], node_gap: float, rounds: int = 12) -> list[float]:
    x = [0.0] * len(width)

    def gap(a: int, b: int) -> float:
        g = node_gap if not (is_dummy[a] or is_dummy[b]) else node_gap / 2
        return (width[a] + width[b]) / 2 + g

    for members in ranks:  # packed, centred on 0
        at = 0.0
        for i, v in enumerate(members):
            at += gap(members[i - 1], v) if i else 0.0
            x[v] = at
        shift = at / 2
        for v in members:
            x[v] -= shift

    def pull(v: int, w: int) -> float:  # straight long edges matter most (Graphviz's 1, 2, 8)
        return 8.0 if is_dummy[v] and is_dummy[w] else 2.0 if is_dummy[v] or is_dummy[w] else 1.0

    def place(members: list[int], sides: tuple[list[list[int]], ...]) -> None:
        targets, weights, offsets, at = [], [], [], 0.0
        for i, v in enumerate(members):
            at += gap(members[i - 1], v) if i else 0.0
            offsets.append(at)
            pairs = [(x[w], pull(v, w)) for side in sides for w in side[v]]
            total = sum(p for _, p in pairs)
            if total:
                targets.append(sum(xw * p for xw, p in pairs) / total - at)
                weights.append(total)
            else:  # nothing to follow: hold the place lightly
                targets.append(x[v] - at)
                weights.append(0.1)
        for v, y, off in zip(members, _pava(targets, weights), offsets):
            x[v] = y + off

    for k in range(rounds):
        last = k == rounds - 1
        for r in range(1, len(ranks)):
            place(ranks[r], (up, down) if last else (up,))
        for r in range(len(ranks) - 2, -1, -1):
            place(ranks[r], (up, down) if last else (down,))
    return x
