"""Code frame: default frame, YAML round trip, validation messages."""
import pytest

from servicepulse.kernels.text import CodeFrameError, load_codeframe, load_default_codeframe
from servicepulse.kernels.text.codeframe import codeframe_from_yaml

REQUIRED = ["reachability_waiting", "kept_informed", "promise_not_kept", "repeat_yourself", "engineer_visit",
            "invoice_clarity", "price", "friendliness", "competence", "first_time_right", "website_selfservice",
            "cancellation"]


def test_default_frame_has_the_service_themes_in_both_languages():
    cf = load_default_codeframe()
    for key in REQUIRED:
        t = cf.theme(key)
        assert t.labels["nl"] and t.labels["en"]
        assert not t.terms["nl"].is_empty() and not t.terms["en"].is_empty(), key
    assert cf.theme("invoice_clarity").department == "billing"
    assert cf.theme("engineer_visit").department == "field_service"
    assert cf.theme("website_selfservice").department == "digital"
    assert cf.ancestors("invoice_clarity") == ["billing_price"]
    assert set(cf.children("staff")) == {"friendliness", "competence"}
    assert cf.rollup(["price", "invoice_clarity", "friendliness"]) == [
        "billing_price", "invoice_clarity", "price", "staff", "friendliness"]


def test_yaml_round_trip(tmp_path):
    cf = load_default_codeframe()
    path = tmp_path / "frame.yaml"
    cf.save(path)
    again = load_codeframe(path)
    assert again.to_dict() == cf.to_dict()


def test_validation_reports_every_problem_with_its_place():
    bad = """
name: broken
themes:
  Price:
    labels: {nl: Prijs}
  waiting:
    parent: nowhere
    labels: {nl: Wachten, en: Waiting}
    nl:
      keywords: [wachten]
      patterns: ['(unclosed', '.*']
    fr:
      keywords: [attendre]
"""
    with pytest.raises(CodeFrameError) as exc:
        codeframe_from_yaml(bad, source="frame.yaml")
    msg = str(exc.value)
    assert "frame.yaml" in msg
    assert "themes.waiting: unknown field 'fr'" in msg
    probs = exc.value.problems
    assert len(probs) == 1  # structural problems stop before semantic checks
    bad2 = bad.replace("    fr:\n      keywords: [attendre]\n", "")
    with pytest.raises(CodeFrameError) as exc2:
        codeframe_from_yaml(bad2)
    probs = "\n".join(exc2.value.problems)
    assert "theme 'Price': key must be lower-case" in probs
    assert "labels.en is missing" in probs
    assert "parent 'nowhere' is not a theme" in probs
    assert "nl.patterns[0] '(unclosed' is not a valid regular expression" in probs
    assert "nl.patterns[1] '.*' matches empty text" in probs


def test_parent_cycle_is_rejected():
    text = """
themes:
  a: {labels: {nl: A, en: A}, parent: b}
  b: {labels: {nl: B, en: B}, parent: a}
"""
    with pytest.raises(CodeFrameError, match="loops back"):
        codeframe_from_yaml(text)


def test_not_yaml_and_missing_file(tmp_path):
    with pytest.raises(CodeFrameError, match="not valid YAML at line"):
        codeframe_from_yaml("themes: [unclosed")
    with pytest.raises(CodeFrameError, match="can not read the file"):
        load_codeframe(tmp_path / "missing.yaml")
    with pytest.raises(CodeFrameError, match="'themes' must be a mapping"):
        codeframe_from_yaml("name: x")
