import pytest

from servicepulse.kernels.statistics import AnalyticsInputError, MomentFacts, Project, scan_projects, scan_table

MOMENTS = [
    MomentFacts("Invoice", "functional", score=6.4, n=800, slope=0.42, p_value=0.001),
    MomentFacts("Installation", "functional", score=7.6, n=1000, slope=0.50, p_value=0.001),
    MomentFacts("Outage", "emotional", score=7.5, n=200, slope=0.80, p_value=0.01),
    MomentFacts("Website", "functional", score=6.0, n=900, slope=0.05, p_value=0.40),
    MomentFacts("Welcome", "emotional", score=9.3, n=1000, slope=0.30, p_value=0.02),
]


def _by_name(scans):
    return {s.project: s for s in scans}


def test_lift_follows_the_formula_and_classifies():
    projects = [
        Project("New billing", {"Invoice": 1.0}),
        Project("Outage care", {"Outage": 2.0}),
        Project("Portal", {"Website": 2.0, "Installation": 1.0}),
    ]
    scans = scan_projects(projects, MOMENTS)
    result = _by_name(scans)
    # slope * min(planned, room to ceiling) * volume share (n / largest n = 1000)
    assert result["New billing"].expected_lift == pytest.approx(0.42 * min(1.0, 7.0 - 6.4) * 0.8)
    assert result["New billing"].code == "7plus" and result["New billing"].label_en == "7+ project"
    assert result["Outage care"].expected_lift == pytest.approx(0.80 * min(2.0, 10.0 - 7.5) * 0.2)
    assert result["Outage care"].code == "9plus" and result["Outage care"].label_nl == "9+-project"
    assert result["Portal"].code == "little_potential" and result["Portal"].expected_lift == 0
    assert [s.project for s in scans] == ["Outage care", "New billing", "Portal"]


def test_reasoning_names_the_numbers_in_both_languages():
    scan = scan_projects([Project("New billing", {"Invoice": 1.0})], MOMENTS)[0]
    assert "+0.20 overall points" in scan.reasoning_en
    assert "counts +0.6 up to the norm" in scan.reasoning_en
    assert "slope 0.42 x volume share 80%" in scan.reasoning_en
    assert "+0,20 punt op het totaaloordeel" in scan.reasoning_nl
    assert "7+-project" in scan.reasoning_nl
    portal = scan_projects([Project("Portal", {"Website": 2.0, "Installation": 1.0})], MOMENTS)[0]
    assert "no significant effect on the overall score (slope 0.05, p = 0.40)" in portal.reasoning_en
    assert "already at norm (7.6 >= 7.0)" in portal.reasoning_en
    assert "al op norm (7,6 >= 7,0)" in portal.reasoning_nl


def test_emotional_at_nine_and_threshold_and_total_n():
    keep = scan_projects([Project("Welcome gift", {"Welcome": 1.0})], MOMENTS)[0]
    assert keep.code == "little_potential" and "keep it" in keep.reasoning_en
    small = scan_projects([Project("Tweak", {"Invoice": 0.1})], MOMENTS, min_lift=0.05)[0]
    assert small.expected_lift == pytest.approx(0.42 * 0.1 * 0.8)
    assert small.code == "little_potential" and "below the threshold of 0.05" in small.reasoning_en
    wide = scan_projects([Project("New billing", {"Invoice": 1.0})], MOMENTS, total_n=1600)[0]
    assert wide.expected_lift == pytest.approx(0.42 * 0.6 * 0.5)


def test_mixed_project_takes_the_larger_kind():
    mixed = scan_projects([Project("Both", {"Invoice": 1.0, "Outage": 2.0})], MOMENTS)[0]
    assert mixed.expected_lift == pytest.approx(0.42 * 0.6 * 0.8 + 0.8 * 2.0 * 0.2)
    assert mixed.code == "9plus"
    assert len(mixed.targets) == 2 and {t.role for t in mixed.targets} == {"7plus", "9plus"}
    table = scan_table([mixed])
    assert table.loc["Both", "code"] == "9plus"


def test_bad_input_is_explained():
    with pytest.raises(AnalyticsInputError, match="'Chatbot' targets moment 'Chat', which has no data"):
        scan_projects([Project("Chatbot", {"Chat": 1.0})], MOMENTS)
    with pytest.raises(AnalyticsInputError, match="planned improvement of 'Invoice' must be positive"):
        scan_projects([Project("Odd", {"Invoice": -1.0})], MOMENTS)
    with pytest.raises(AnalyticsInputError, match="moment kind must be"):
        scan_projects([Project("X", {"Y": 1.0})], [MomentFacts("Y", "fun", 6.0, 10, 0.3)])
    none = scan_projects([Project("Empty", {})], MOMENTS)[0]
    assert none.code == "little_potential" and "no moments are linked" in none.reasoning_en


def test_facts_from_a_table_feed_the_scan():
    import pandas as pd

    from servicepulse.kernels.statistics import facts_from_frame

    table = pd.DataFrame(
        {"kind": ["functional", "emotional"], "score": [6.4, None], "n": [800, 50],
         "slope": [0.42, 0.9], "p_value": [0.001, float("nan")]},
        index=["Invoice", "Complaint"],
    )
    facts = facts_from_frame(table)
    assert facts[1].score is None and facts[1].p_value is None and facts[1].norm is None
    scan = scan_projects([Project("Billing", {"Invoice": 1.0, "Complaint": 1.0})], facts)[0]
    assert scan.expected_lift == pytest.approx(0.42 * 0.6 * 1.0)
    assert "no score yet" in scan.reasoning_en
    with pytest.raises(AnalyticsInputError, match="missing the column\\(s\\): slope"):
        facts_from_frame(table.drop(columns="slope"))
