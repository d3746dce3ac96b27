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
