"""Placing point labels of a scatter so they do not overlap, in pixel space, before the spec is built.

Vega-Lite draws a text mark where its encoding puts it and does not move labels apart. So the scales are
fixed here (the same "nice" domains Vega would choose, see ``nice_domain``), each label's box is estimated
from its text, and a greedy pass from top to bottom nudges a label up or down, in whole line heights, until
it touches no label placed before it. The label's new height goes back into the spec as a data value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from servicepulse.kernels.charts.process_graph import text_width

# The renderer and browsers draw the chart font a little wider than the Helvetica metrics text_width uses.
WIDTH_SLACK = 1.12


def _tick_increment(start: float, stop: float, count: int) -> float:
    """d3-array's tickIncrement: a positive step, or minus the inverse of a step below 1."""
    step = (stop - start) / max(0, count)
    power = math.floor(math.log10(step))
    error = step / 10 ** power
    factor = 10 if error >= math.sqrt(50) else 5 if error >= math.sqrt(10) else 2 if error >= math.sqrt(2) else 1
    return factor * 10 ** power if power >= 0 else -(10 ** -power) / factor


def nice_domain(low: float, high: float, count: int = 10) -> tuple[float, float]:
    """The domain a Vega linear scale with ``nice: true`` makes of [low, high] (d3-scale's linear.nice)."""
    if low > high:
        low, high = high, low
    if low == high:  # Vega widens a single value itself; leave it to the caller
        return low, high
    previous = None
    for _ in range(10):
        step = _tick_increment(low, high, count)
        if step == previous:
            break
        if step > 0:
            low, high = math.floor(low / step) * step, math.ceil(high / step) * step
        elif step < 0:
            low, high = math.ceil(low * step) / step, math.floor(high * step) / step
        else:
            break
        previous = step
    return low, high


def linear(domain: tuple[float, float], extent: tuple[float, float]):
    """A function from data value to pixel, as a linear scale with that domain and range."""
    (d0, d1), (r0, r1) = domain, extent
    span = (d1 - d0) or 1.0
    return lambda v: r0 + (v - d0) / span * (r1 - r0)


def log(domain: tuple[float, float], extent: tuple[float, float]):
    """A function from data value to pixel for a log scale (positive domain)."""
    (d0, d1), (r0, r1) = domain, extent
    l0, span = math.log(d0), (math.log(d1) - math.log(d0)) or 1.0
    return lambda v: r0 + (math.log(v) - l0) / span * (r1 - r0)


@dataclass(frozen=True)
class Label:
    x: float  # the point, in pixels from the plot's top left
    y: float
    text: str
    align: str  # "left": text starts right of the point; "right": text ends left of it
    dx: float = 7.0


def box(label: Label, y: float, font_size: float) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) of the label's text drawn with its middle at height ``y``."""
    width = text_width(label.text, font_size) * WIDTH_SLACK
    left = label.x + label.dx if label.align == "left" else label.x - label.dx - width
    half = font_size * 0.6
    return left, y - half, left + width, y + half


def overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float], gap: float = 0.0) -> bool:
    return a[0] < b[2] + gap and b[0] < a[2] + gap and a[1] < b[3] + gap and b[1] < a[3] + gap


def choose_sides(labels: Sequence[Label], font_size: float, width: float, radius: float = 5.0) -> list[Label]:
    """Each label on the side of its point it asked for, unless there it would cover another point and on
    the other side it covers none and stays inside the plot (0..``width``)."""
    dots = [(p.x - radius, p.y - radius, p.x + radius, p.y + radius) for p in labels]

    def covers(label: Label) -> bool:
        mine = box(label, label.y, font_size)
        return any(overlaps(mine, d) for d in dots)

    chosen = []
    for label in labels:
        other = replace(label, align="right" if label.align == "left" else "left")
        left, _, right, _ = box(other, other.y, font_size)
        chosen.append(other if covers(label) and not covers(other) and 0 <= left and right <= width else label)
    return chosen


def place(labels: Sequence[Label], font_size: float, height: float, gap: float = 2.0) -> list[float]:
    """The height (pixels) to draw each label at: its point's, or nudged just far enough that its box clears
    the labels it would run into. Two greedy passes keep the labels in the order of their points: top to
    bottom, a label moves down below any label placed above it that it touches; then bottom to top, a label
    that went past the bottom of the plot (``height``), or now touches one below it, moves up. Only labels
    whose boxes share some width push each other. Returns one y per label, in the order given."""
    half = font_size * 0.6
    order = sorted(range(len(labels)), key=lambda i: (labels[i].y, labels[i].x))
    ys = [label.y for label in labels]

    def clash(i: int, others: list[int]) -> list[int]:
        mine = box(labels[i], ys[i], font_size)
        return [j for j in others if overlaps(mine, box(labels[j], ys[j], font_size), gap)]

    done: list[int] = []
    for i in order:
        for _ in range(len(labels) + 1):
            hit = clash(i, done)
            if not hit:
                break
            ys[i] = max(ys[j] for j in hit) + 2 * half + gap
        done.append(i)
    done = []
    for i in reversed(order):
        ys[i] = min(ys[i], height - half)
        for _ in range(len(labels) + 1):
            hit = clash(i, done)
            if not hit:
                break
            ys[i] = min(ys[j] for j in hit) - 2 * half - gap
        done.append(i)
    return ys
