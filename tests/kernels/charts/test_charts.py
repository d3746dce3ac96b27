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
    assert "maart" in dutch and "oktober" in dutch and "March" not in dutch
    assert "March" in english and "October" in english and "maart" not in english
