import re
import xml.etree.ElementTree as ET

from servicepulse.kernels.charts import specs, svg


def test_distribution_renders_accessible_svg_with_every_score():
    out = svg(specs.distribution({s: s + 1 for s in range(11)}, title="NPS 0-10", low_cut=6, high_cut=9))
    root = ET.fromstring(out)
    assert root.get("role") == "img" and root.get("aria-label") == "NPS 0-10"
    texts = {t.text for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert {str(s) for s in range(11)} <= texts


def test_moment_row_shows_scores_and_escapes_the_title():
    rows = [{"moment": "Storing melden", "position": 1, "status": "fix_basics", "score": 6.2, "kind": "functional"},
            {"moment": "Monteur <bezoek>", "position": 2, "status": "keep_it", "score": 9.1, "kind": "emotional"}]
    out = svg(specs.moment_row(rows, title='Storing & "herstel"'))
    root = ET.fromstring(out)
    assert root.get("aria-label") == 'Storing & "herstel"'
    texts = {t.text for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert {"6.2", "9.1", "Storing melden", "Monteur <bezoek>"} <= texts


def _texts(markup: str) -> list[str]:
    return [el.text for el in ET.fromstring(markup).iter() if el.tag.endswith("text") and el.text]


def test_month_names_and_decimals_follow_the_reader_language():
    rows = [{"month": f"2026-{m:02d}-01", "kept": 80.5 + m / 10, "low": 70.25, "high": 90.75} for m in (1, 3, 5, 10)]
    spec = specs.line_with_band(rows, "month", "kept", "low", "high", y_title="%")
    dutch, english = _texts(svg(spec, language="nl")), _texts(svg(spec, language="en"))
    assert "mrt" in dutch and "okt" in dutch and "Mar" not in dutch
    assert "Mar" in english and "Oct" in english and "mrt" not in english
    assert "jan 2026" in dutch and "Jan 2026" in english  # January carries the year


def test_month_labels_never_run_together_on_a_phone():
    """Thirteen months on a 330-px chart: labels that would touch are dropped, never drawn over each other."""
    from servicepulse.metrics.charts import NARROW

    rows = [{"month": f"{2025 + (m > 0)}-{(m - 1) % 12 + 1:02d}-01", "v": 1.0, "low": 0.0, "high": 2.0}
            for m in range(0, 13)]
    root = ET.fromstring(svg(specs.line_with_band(rows, "month", "v", "low", "high", width=NARROW), language="nl"))
    shown = []
    for el in root.iter("{http://www.w3.org/2000/svg}text"):
        at = re.fullmatch(r"translate\(([\d.]+),[\d.]+\)", el.get("transform", ""))
        if el.text and at and el.get("opacity") != "0" and re.fullmatch(r"[a-z]{3}( \d{4})?", el.text):
            shown.append((float(at.group(1)), el.text))  # a month label of the time axis, drawn
    shown.sort()
    assert 4 <= len(shown) < 13
    for (x1, t1), (x2, t2) in zip(shown, shown[1:]):
        assert x2 - x1 >= 6 * (len(t1) + len(t2)) / 2 + 4, shown  # centres at least half of both widths apart


def test_one_set_of_colour_bands_per_scale():
    """The survey page and the moment page colour the grade alike: below 7 red, 9 and up green (7+/9+)."""
    def colours(scale, values):
        spec = specs.distribution({v: 1 for v in values}, scale=scale)
        band = {r["score"]: r["band"] for r in spec["data"]["values"]}
        return band
    grade = colours("grade", range(1, 11))
    assert [grade[str(v)] for v in (6, 7, 8, 9)] == ["low", "mid", "mid", "high"]
    nps = colours("nps", range(0, 11))
    assert [nps[str(v)] for v in (6, 7, 8, 9)] == ["low", "mid", "mid", "high"]
    ces = colours("ces", range(1, 8))
    assert [ces[str(v)] for v in (3, 4, 5)] == ["low", "mid", "high"]  # 5-7 "easy", as the headline share
    legend = specs.distribution({v: 1 for v in range(1, 11)}, scale="grade")["encoding"]["color"]["legend"]
    assert "1\\u20136" in legend["labelExpr"] and "9\\u201310" in legend["labelExpr"]


SVG_TEXT = "{http://www.w3.org/2000/svg}text"


def test_a_distribution_shows_the_whole_scale_and_its_own_bands_whatever_the_data_cover():
    """Grades only 6-8 (the moment page's case): ten bars 1-10, zeros where nobody answered, and the legend
    names the grade's bands 1–6 / 7–8 / 9–10, not the lowest and highest value that happens to be present."""
    counts = {6: 3, 7: 12, 8: 5}
    spec = specs.distribution(counts, title="Verdeling van de cijfers", scale="grade")
    rows = spec["data"]["values"]
    assert [r["score"] for r in rows] == [str(v) for v in range(1, 11)]
    assert {r["score"]: r["n"] for r in rows} == {str(v): counts.get(v, 0) for v in range(1, 11)}
    assert sum(r["n"] for r in rows) == 20
    out = svg(spec, language="nl")
    texts = [el.text for el in ET.fromstring(out).iter(SVG_TEXT) if el.text]
    assert {"1\u20136", "7\u20138", "9\u201310"} <= set(texts)  # the legend, as drawn
    assert "9\u20138" not in texts and "7\u20138" in texts
    assert {str(v) for v in range(1, 11)} <= set(texts)  # every value on the x axis
    # Each scale, data in one band only: still every value, and the legend spans the whole scale.
    for scale, (first, last) in specs.SCALE_RANGES.items():
        low, high = specs.SCALE_BANDS[scale]
        spec = specs.distribution({high: 4}, scale=scale)
        assert [r["score"] for r in spec["data"]["values"]] == [str(v) for v in range(first, last + 1)]
        expr = spec["encoding"]["color"]["legend"]["labelExpr"]
        assert f'"low": "{first}\\u2013{low}"' in expr and f'"high": "{high}\\u2013{last}"' in expr, expr


def test_the_kernel_knows_each_scale_as_the_surveys_define_it():
    from servicepulse.surveys.scales import SCALES

    assert specs.SCALE_RANGES == {k: (s.low, s.high) for k, s in SCALES.items()}
    assert set(specs.SCALE_BANDS) == set(SCALES)


def _label_boxes(markup: str, names: set[str]) -> dict[str, tuple[float, float, float, float]]:
    """Boxes of the drawn labels: from their anchor in the SVG and a width of 0.58 em per character (wider
    than the placement's own estimate, about what a browser's sans-serif draws)."""
    boxes = {}
    for el in ET.fromstring(markup).iter(SVG_TEXT):
        if el.text not in names:
            continue
        x, y = map(float, re.fullmatch(r"translate\(([-\d.]+),([-\d.]+)\)", el.get("transform")).groups())
        size = float(el.get("font-size").removesuffix("px"))
        width = 0.58 * size * len(el.text)
        left = x if el.get("text-anchor") == "start" else x - width
        boxes[el.text] = (left, y - 0.8 * size, left + width, y + 0.25 * size)  # y is the baseline
    assert set(boxes) == names
    return boxes


def _overlapping(boxes: dict) -> list[tuple[str, str]]:
    items = list(boxes.items())
    return [(a, b) for i, (a, p) in enumerate(items) for b, q in items[i + 1:]
            if p[0] < q[2] and q[0] < p[2] and p[1] < q[3] and q[1] < p[3]]


def _points(markup: str) -> list[tuple[float, float]]:
    root = ET.fromstring(markup)
    group = next(g for g in root.iter("{http://www.w3.org/2000/svg}g") if "layer_0_marks" in (g.get("class") or ""))
    return sorted(tuple(map(float, re.fullmatch(r"translate\(([-\d.]+),([-\d.]+)\)", p.get("transform")).groups()))
                  for p in group.iter("{http://www.w3.org/2000/svg}path"))


def test_scatter_labels_that_would_collide_are_nudged_apart_and_the_points_stay_put():
    """The drivers page: two drivers close together at the bottom of the grid, and a crowd of five near one
    spot. Drawn, no two labels overlap; every point is where its figures put it on the axes Vega would draw."""
    rows = [{"driver": "doorverbonden naar ander team", "importance": 0.21, "performance": -0.62},
            {"driver": "meer dan 2 dagen stilte", "importance": 0.19, "performance": -0.66},
            {"driver": "monteur op tijd", "importance": 0.33, "performance": 0.4},
            *({"driver": f"factor nummer {k}", "importance": 0.10 + k * 0.004, "performance": 0.10 + k * 0.01}
              for k in range(5))]
    before = [dict(r) for r in rows]
    spec = specs.scatter(rows, "importance", "performance", "driver", x_rule=0.05, y_rule=0.0)
    assert rows == before  # the caller's rows are not touched
    out = svg(spec)
    names = {r["driver"] for r in rows}
    assert _overlapping(_label_boxes(out, names)) == []
    # Without placement (labels at their points) these same labels do overlap: the test can fail.
    plain = {**spec, "layer": [{**layer, "encoding": {**layer["encoding"], "y": {"field": "performance",
                                                                                 "type": "quantitative"}}}
                               if layer["mark"]["type"] == "text" else layer for layer in spec["layer"]]}
    assert _overlapping(_label_boxes(svg(plain), names))
    # The axes are Vega's own nice ones (x from zero), and each point sits at its value on them.
    texts = {el.text for el in ET.fromstring(out).iter(SVG_TEXT)}
    assert {"0.00", "0.35", "\u22120.7", "0.4"} <= texts and "0.40" not in texts
    expected = sorted((r["importance"] / 0.35 * 420, (0.4 - r["performance"]) / 1.1 * 320) for r in rows)
    for (x, y), (ex, ey) in zip(_points(out), expected):
        assert abs(x - ex) < 0.01 and abs(y - ey) < 0.01
    # and a label is never far from its point: within a few lines of it
    for el in ET.fromstring(out).iter(SVG_TEXT):
        if el.text in names:
            row = next(r for r in rows if r["driver"] == el.text)
            y = float(re.fullmatch(r"translate\([-\d.]+,([-\d.]+)\)", el.get("transform")).group(1))
            assert abs(y - (0.4 - row["performance"]) / 1.1 * 320) < 4 * 14


def test_placed_labels_never_overlap_in_pixel_space():
    """labels.place on its own: twelve labels on nearly one spot, in two columns, inside a 200 px plot."""
    from servicepulse.kernels.charts import labels

    crowd = [labels.Label(100 + (k % 2) * 3, 150 + k * 0.5, f"moment {k}", "left") for k in range(12)]
    at = labels.place(crowd, 11, 200)
    boxes = [labels.box(label, y, 11) for label, y in zip(crowd, at)]
    assert all(not labels.overlaps(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    assert all(0 <= y <= 200 for y in at)
    assert sorted(range(12), key=lambda i: at[i]) == list(range(12))  # in the order of their points
    # labels far apart stay exactly where they are
    apart = [labels.Label(10, 20, "a", "left"), labels.Label(10, 120, "b", "left"), labels.Label(300, 20, "c", "right")]
    assert labels.place(apart, 11, 200) == [20, 120, 20]


def test_investment_compass_names_do_not_overlap():
    """/investment: "Eindafrekening oud adres" and "Eerste factuur" sit close together; drawn apart."""
    from types import SimpleNamespace

    from servicepulse.investment.charts import WIDE, compass_chart

    rows = [SimpleNamespace(name="Eindafrekening oud adres", gap=-0.80, cost_per_case=12.0, label="fix_basics"),
            SimpleNamespace(name="Eerste factuur", gap=-0.78, cost_per_case=13.5, label="fix_basics"),
            SimpleNamespace(name="Verhuizing doorgeven", gap=0.35, cost_per_case=48.0, label="over_invested"),
            SimpleNamespace(name="Meterstand", gap=0.1, cost_per_case=4.0, label="keep")]
    out = compass_chart(rows, lambda key, **_: key, "nl")
    wide = out[:out.index("</svg>") + 6]
    assert f'width="{WIDE}' in wide or "chart-wide" in wide
    names = {"Eindafrekening oud adres", "Eerste factuur", "Verhuizing doorgeven"}
    assert _overlapping(_label_boxes(wide, names)) == []


def test_a_label_that_would_cover_another_point_goes_to_the_other_side_when_that_fits():
    from servicepulse.kernels.charts import labels

    crowd = [labels.Label(200, 100, "Serieus genomen worden", "left"), labels.Label(260, 104, "Aanbod", "left"),
             labels.Label(20, 200, "Eindafrekening oud adres", "left"), labels.Label(80, 203, "Eerste", "left")]
    sides = [b.align for b in labels.choose_sides(crowd, 10, 400)]
    assert sides == ["right", "left", "left", "left"]  # the third has no room on its left: it stays
