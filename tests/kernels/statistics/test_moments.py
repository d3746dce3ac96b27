import pytest

from servicepulse.kernels.statistics import AnalyticsInputError, check_label, moment_status


@pytest.mark.parametrize(
    "kind, score, code, en, nl",
    [
        ("functional", 6.4, "fix_basics", "fix the basics", "basis op orde brengen"),
        ("functional", 7.0, "good_enough", "good enough: do not over-invest", "goed genoeg: niet overinvesteren"),
        ("functional", 8.4, "good_enough", "good enough: do not over-invest", "goed genoeg: niet overinvesteren"),
        ("functional", 8.6, "over_invested", "possibly over-invested: well above what this moment needs",
         "mogelijk overgeïnvesteerd: ruim boven wat dit moment nodig heeft"),
        # below 7 is "fix the basics" whatever the kind: a moment of truth at 4.9 is not one "to win"
        ("emotional", 4.9, "fix_basics", "fix the basics", "basis op orde brengen"),
        ("emotional", 6.99, "fix_basics", "fix the basics", "basis op orde brengen"),
        ("emotional", 7.0, "win_moment", "moment of truth to win", "moment van de waarheid om te winnen"),
        ("emotional", 8.9, "win_moment", "moment of truth to win", "moment van de waarheid om te winnen"),
        ("emotional", 9.0, "keep_it", "keep it", "vasthouden"),
        ("emotioneel", 9.4, "keep_it", "keep it", "vasthouden"),
    ],
)
def test_status_with_default_norms(kind, score, code, en, nl):
    status = moment_status(kind, score=score)
    assert (status.code, status.label_en, status.label_nl) == (code, en, nl)
    assert status.norm == (7.0 if status.kind == "functional" else 9.0)
    assert status.gap == pytest.approx(score - status.norm)


def test_custom_norm_and_interval_certainty():
    assert moment_status("functional", norm=7.5, score=7.2).code == "fix_basics"
    sure = moment_status("functional", 7.0, 6.4, low=6.1, high=6.7)
    assert sure.certain is True and sure.note_en is None
    unsure = moment_status("functional", 7.0, 6.8, low=6.5, high=7.1)
    assert unsure.certain is False
    assert unsure.note_en == "not yet certain: the interval 6.5-7.1 includes the norm 7.0"
    assert unsure.note_nl == "nog niet zeker: het interval 6,5-7,1 omvat de norm 7,0"


def test_unknown_score_and_bad_input():
    status = moment_status("emotional", score=None)
    assert status.code == "unknown" and status.score is None
    with pytest.raises(AnalyticsInputError, match="'functional' or 'emotional', got 'nice'"):
        moment_status("nice", score=7)
    with pytest.raises(AnalyticsInputError, match="score must be a number"):
        moment_status("functional", score="seven")


def test_label_checks():
    assert check_label("emotional", "basic").suggestion_en == (
        "labelled emotional but behaves like a basic: consider functional"
    )
    assert check_label("emotional", "excitement").consistent is True
    assert check_label("functional", "no effect").consistent is None
    with pytest.raises(AnalyticsInputError, match="behaviour must be"):
        check_label("functional", "wow")
