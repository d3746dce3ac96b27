"""Alert rules and due times (pure functions, no database)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from servicepulse.followups.due import add_working_days
from servicepulse.followups.rules import DEFAULTS, RuleSetting, response_alerts, risk_words

AMS = ZoneInfo("Europe/Amsterdam")
ON = {k: RuleSetting(k, True, d.threshold, d.priority, 2) for k, d in DEFAULTS.items()}


@pytest.mark.parametrize("text, language, expected", [
    ("Ik ga mijn abonnement opzeggen!", "nl", ["cancel"]),
    ("Ik heb het contract opgezegd, en zeg ook internet op", "nl", ["cancel"]),
    ("Ik stap naar de ombudsman en neem een advocaat", "nl", ["ombudsman", "legal"]),
    ("Ik heb een klacht ingediend bij de Geschillencommissie", "nl", ["complaint", "disputes"]),
    ("Ik heb de ACM al gebeld", "nl", ["regulator"]),
    ("I will cancel and call my lawyer", "en", ["cancel", "legal"]),
    ("We cancelled last week; this is my formal complaint", "en", ["cancel", "complaint"]),
    ("Prima geholpen, dank je wel", "nl", []),
    ("Quick and friendly help", "en", []),
    ("", "nl", []),
])
def test_risk_words_in_dutch_and_english(text, language, expected):
    assert risk_words(text, language) == expected


def test_thresholds_are_inclusive_and_one_alert_per_rule():
    alerts = response_alerts(6, 5, 3, "ik zeg op, klacht!", "nl", ON)
    # every rule on (not_solved is off by default): risk words also say the problem is not solved
    assert [a.rule for a in alerts] == ["detractor", "low_grade", "high_effort_answer", "risk_word", "not_solved"]
    assert "cancel" in alerts[3].reason and "complaint" in alerts[3].reason
    assert alerts[4].reason == "not solved: risk words cancel, complaint"
    assert response_alerts(7, 6, 4, "prima", "nl", ON) == []
    assert response_alerts(None, None, None, None, None, ON) == []


@pytest.mark.parametrize("answers, expected", [
    ({"resolved": "no"}, ["problem not solved"]), ({"resolved": "Nee"}, ["problem not solved"]),
    ({"resolved": "partly"}, []), ({"resolved": "yes"}, []), ({}, []), (None, []), ({"resolved": 0}, []),
])
def test_not_solved_reads_the_solved_question(answers, expected):
    found = response_alerts(9, 9, 7, "prima", "nl", ON, answers)
    assert [a.reason for a in found if a.rule == "not_solved"] == expected
    off = {**ON, "not_solved": RuleSetting("not_solved", False, None, 1, 2)}
    assert response_alerts(9, 9, 7, "prima", "nl", off, answers) == []
    assert DEFAULTS["not_solved"].enabled is False  # it writes into cases: an administrator turns it on


def test_a_disabled_rule_and_a_changed_threshold():
    settings = dict(ON)
    settings["detractor"] = RuleSetting("detractor", False, 6, 2, 2)
    settings["low_grade"] = RuleSetting("low_grade", True, 7, 1, 2)
    rules = [(a.rule, a.priority) for a in response_alerts(0, 7, 7, None, "nl", settings)]
    assert rules == [("low_grade", 1)]


@pytest.mark.parametrize("start, expected", [
    # Monday 10:00 -> Wednesday 10:00
    (datetime(2026, 3, 2, 10, 0, tzinfo=AMS), datetime(2026, 3, 4, 10, 0, tzinfo=AMS)),
    # Friday before King's Day (Monday 27 April 2026) -> Wednesday
    (datetime(2026, 4, 24, 15, 0, tzinfo=AMS), datetime(2026, 4, 29, 15, 0, tzinfo=AMS)),
    # Christmas Eve (Thursday) -> over Christmas, Boxing Day and the weekend -> Tuesday 29th
    (datetime(2026, 12, 24, 10, 0, tzinfo=AMS), datetime(2026, 12, 29, 10, 0, tzinfo=AMS)),
    # Saturday: counting starts Monday 08:00 -> Wednesday 08:00
    (datetime(2026, 3, 7, 13, 0, tzinfo=AMS), datetime(2026, 3, 11, 8, 0, tzinfo=AMS)),
    # Across the change to summer time: same local time of day
    (datetime(2026, 3, 27, 9, 0, tzinfo=AMS), datetime(2026, 3, 31, 9, 0, tzinfo=AMS)),
])
def test_due_time_is_two_working_days(start, expected):
    due = add_working_days(start.astimezone(UTC), 2)
    assert due == expected
    assert due.tzinfo is not None


def test_due_time_refuses_naive_times():
    with pytest.raises(ValueError):
        add_working_days(datetime(2026, 3, 2, 10, 0), 2)


def test_the_quick_gate_lets_every_risk_term_through():
    from servicepulse.followups.rules import _GATE, RISK_FRAME

    for theme in RISK_FRAME["themes"].values():
        for language in ("nl", "en"):
            section = theme.get(language, {})
            for term in section.get("keywords", []) + section.get("lemmas", []):
                assert _GATE.search(term), term
