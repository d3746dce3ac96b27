"""Case facts on small hand-made cases whose every fact is worked out by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from servicepulse.kernels.eventlog import FactsConfig, OpeningHours, case_facts, update_case_facts

COLS = ["case_id", "activity", "timestamp", "team", "line", "channel", "direction", "customer_facing"]


def events(rows, tz="Europe/Amsterdam") -> pd.DataFrame:
    """Hand-written events: local Amsterdam wall-clock times -> UTC."""
    df = pd.DataFrame(rows, columns=COLS)
    df["timestamp"] = pd.to_datetime(df["timestamp"]).dt.tz_localize(tz).dt.tz_convert("UTC")
    df["customer_facing"] = df["customer_facing"].astype("boolean")
    df["file_order"] = range(len(df))
    return df


# The fibre story (March 2025, Amsterdam winter time). Friday night the
# customer calls (outside opening hours), Saturday the front office makes a
# ticket and confirms by e-mail, the back office closes it without fixing
# anything. Monday the customer starts a chat and tells the story again; the
# front office waits for the customer to pick a visit slot, the back office
# plans it, Tuesday the field engineer fixes the fibre and the back office
# closes the ticket.
FIBRE = [
    ("F1", "Customer reports outage", "2025-03-07 21:00", "Front", "front", "phone", "inbound", True),
    ("F1", "Create ticket", "2025-03-08 10:00", "Front", "front", None, None, False),
    ("F1", "Send confirmation", "2025-03-08 10:05", "Front", "front", "email", "outbound", True),
    ("F1", "Ticket closed", "2025-03-08 15:00", "Back", "back", None, None, False),
    ("F1", "Customer reports outage again", "2025-03-10 09:15", "Front", "front", "chat", "inbound", True),
    ("F1", "Wacht op klant", "2025-03-10 09:30", "Front", "front", "chat", "outbound", True),
    ("F1", "Plan engineer visit", "2025-03-10 12:00", "Back", "back", None, None, False),
    ("F1", "Engineer repairs fibre", "2025-03-11 14:00", "Field", "back", None, None, True),
    ("F1", "Ticket closed", "2025-03-11 14:30", "Back", "back", None, None, False),
]


def test_fibre_story_every_fact():
    f = case_facts(events(FIBRE)).loc["F1"]
    assert f["events"] == 9
    assert f["started_at"] == pd.Timestamp("2025-03-07 20:00", tz="UTC")
    assert f["ended_at"] == pd.Timestamp("2025-03-11 13:30", tz="UTC")
    # Fri 21:00 -> Tue 14:30 = 3 days 17.5 hours = 89.5 hours
    assert f["throughput_days"] == pytest.approx(89.5 / 24)
    assert f["inbound_contacts"] == 2
    assert f["repeat_contacts"] == 1  # Monday's chat is 2.5 days after Friday's call
    assert f["after_hours_contacts"] == 1  # Friday 21:00; Monday 09:15 is inside hours
    assert f["channel_switches"] == 1  # phone -> chat between the two inbound contacts
    # teams: Front Front Front Back Front Front Back Field Back
    assert f["handoffs"] == 5
    assert f["ping_pong"] == 3  # back to Front once, back to Back twice
    # lines: front front front back front front back back back
    assert f["front_to_back"] == 2
    assert f["back_to_front"] == 1
    assert bool(f["closed"]) is True
    assert f["reopenings"] == 1
    assert bool(f["first_time_right"]) is False
    # closed Sat 15:00 -> Mon 09:15
    assert f["closed_hours"] == pytest.approx(42.25)
    # waiting for the customer Mon 09:30 -> 12:00
    assert f["waiting_on_customer_hours"] == pytest.approx(2.5)
    assert f["waiting_on_us_hours"] == pytest.approx(89.5 - 42.25 - 2.5)
    # longest open stretch without a customer-facing event: after asking the
    # customer on Monday 09:30 nothing reached them until the engineer on
    # Tuesday 14:00 = 28.5 h (Friday 21:00 -> Saturday 10:05 is only 13h05)
    assert f["dark_period_hours"] == pytest.approx(28.5)


def test_first_time_right_and_resolved_then_closed_is_no_reopening():
    rows = [
        ("A", "Call", "2025-03-04 10:00", "Front", "front", "phone", "inbound", True),
        ("A", "Resolved", "2025-03-04 10:10", "Front", "front", None, None, True),
        ("A", "Closed", "2025-03-06 10:10", "Front", "front", None, None, False),
    ]
    f = case_facts(events(rows)).loc["A"]
    assert f["reopenings"] == 0
    assert bool(f["closed"]) and bool(f["first_time_right"])
    assert f["closed_hours"] == pytest.approx(48.0)
    assert f["waiting_on_us_hours"] == pytest.approx(10 / 60)
    # customer-facing at 10:00 and 10:10; closed afterwards, so never dark for long
    assert f["dark_period_hours"] == pytest.approx(10 / 60)
    assert f["handoffs"] == 0 and f["ping_pong"] == 0


def test_ping_pong_handoffs_and_missing_teams():
    rows = [
        ("P", "a", "2025-03-04 09:00", "A", None, None, None, False),
        ("P", "b", "2025-03-04 09:10", None, None, None, None, False),  # no team: skipped
        ("P", "c", "2025-03-04 09:20", "A", None, None, None, False),
        ("P", "d", "2025-03-04 09:30", "B", None, None, None, False),
        ("P", "e", "2025-03-04 09:40", "A", None, None, None, False),
        ("P", "f", "2025-03-04 09:50", "B", None, None, None, False),
        ("P", "g", "2025-03-04 10:00", "C", None, None, None, False),
    ]
    f = case_facts(events(rows)).loc["P"]
    assert f["handoffs"] == 4  # A-B, B-A, A-B, B-C
    assert f["ping_pong"] == 2  # the second A and the second B
    assert f["front_to_back"] == 0 and f["back_to_front"] == 0
    # no customer-facing event at all: the whole case is dark
    assert f["dark_period_hours"] == pytest.approx(1.0)
    assert bool(f["closed"]) is False and bool(f["first_time_right"]) is False


def test_repeat_window_is_inclusive_and_configurable():
    rows = [
        ("R", "Call", "2025-03-03 10:00", None, None, "phone", "inbound", True),
        ("R", "Call", "2025-03-10 10:00", None, None, "phone", "inbound", True),  # exactly 7 days
        ("R", "Call", "2025-03-18 10:00", None, None, "phone", "inbound", True),  # 8 days
    ]
    df = events(rows)
    assert case_facts(df).loc["R", "repeat_contacts"] == 1
    assert case_facts(df, config=FactsConfig(repeat_window_days=10)).loc["R", "repeat_contacts"] == 2
    assert case_facts(df).loc["R", "channel_switches"] == 0


def test_after_hours_uses_holidays_and_the_calendar():
    rows = [
        ("H", "Call", "2025-04-25 10:00", None, None, "phone", "inbound", True),  # Friday: open
        ("H", "Call", "2025-04-26 10:00", None, None, "phone", "inbound", True),  # King's Day (Sat)
        ("H", "Call", "2025-04-27 10:00", None, None, "phone", "inbound", True),  # Sunday
        ("H", "Mail", "2025-04-27 11:00", None, None, "email", "outbound", True),  # not inbound
        ("H", "Call", "2025-04-28 07:59", None, None, "phone", "inbound", True),  # before 08:00
        ("H", "Call", "2025-04-28 08:00", None, None, "phone", "inbound", True),  # opening minute
    ]
    df = events(rows)
    assert case_facts(df).loc["H", "after_hours_contacts"] == 3
    assert case_facts(df, OpeningHours.always_open()).loc["H", "after_hours_contacts"] == 0
    assert case_facts(df).loc["H", "channel_switches"] == 0  # the email is not an inbound contact


def test_open_case_with_as_of_counts_the_tail():
    rows = [
        ("O", "Call", "2025-03-04 10:00", "Front", "front", "phone", "inbound", True),
        ("O", "Wait", "2025-03-04 11:00", "Front", "front", None, None, True),
    ]
    as_of = pd.Timestamp("2025-03-05 11:00", tz="Europe/Amsterdam")
    f = case_facts(events(rows), config=FactsConfig(as_of=as_of)).loc["O"]
    assert f["waiting_on_customer_hours"] == pytest.approx(24.0)
    assert f["dark_period_hours"] == pytest.approx(24.0)
    assert f["throughput_days"] == pytest.approx(1 / 24)  # last minus first event, as pm4py
    plain = case_facts(events(rows)).loc["O"]
    assert plain["waiting_on_customer_hours"] == 0.0


def test_ties_keep_file_order():
    rows = [
        ("T", "Call", "2025-03-04 10:00", "A", None, None, "inbound", True),
        ("T", "Note", "2025-03-04 10:00", "A", None, None, None, False),
        ("T", "Ticket closed", "2025-03-04 10:00", "B", None, None, None, False),
    ]
    f = case_facts(events(rows)).loc["T"]
    assert f["reopenings"] == 0 and bool(f["closed"]) and bool(f["first_time_right"])
    g = case_facts(events(rows[::-1])).loc["T"]
    assert g["reopenings"] == 1 and not bool(g["closed"]) and not bool(g["first_time_right"])


def test_columns_absent_are_treated_as_unknown():
    df = events(FIBRE)[["case_id", "activity", "timestamp"]]
    f = case_facts(df).loc["F1"]
    assert f["inbound_contacts"] == 0 and f["handoffs"] == 0
    # nothing is customer-facing: the longest open stretch is the reopened
    # part, Monday 09:15 -> Tuesday 14:30 (the first part is Fri 21:00 -> Sat 15:00)
    assert f["dark_period_hours"] == pytest.approx(29.25)
    assert case_facts(df.iloc[:0]).empty


def test_incremental_update_recomputes_only_touched_cases():
    rows = FIBRE + [
        ("A", "Call", "2025-03-04 10:00", "Front", "front", "phone", "inbound", True),
        ("A", "Resolved", "2025-03-04 10:10", "Front", "front", None, None, True),
    ]
    full = events(rows)
    store = full[full["timestamp"] < pd.Timestamp("2025-03-09", tz="UTC")]
    batch = full[full["timestamp"] >= pd.Timestamp("2025-03-09", tz="UTC")]
    stored = case_facts(store)
    assert stored.loc["F1", "reopenings"] == 0

    calls = []

    def load_history(case_ids):
        calls.append(sorted(case_ids))
        return store[store["case_id"].isin(case_ids)]

    updated = update_case_facts(stored, batch, load_history)
    assert calls == [["F1"]]  # only the touched case was reloaded
    expected = case_facts(full)
    pd.testing.assert_frame_equal(updated.sort_index(), expected.sort_index())
    assert updated.loc["A"].equals(stored.loc["A"])

    # a history that already holds the batch: duplicates dropped on event_id
    with_ids = full.assign(event_id=[f"e{i}" for i in range(len(full))])
    stored_all = with_ids

    def load_all(case_ids):
        return stored_all[stored_all["case_id"].isin(case_ids)]

    batch_ids = with_ids[with_ids["timestamp"] >= pd.Timestamp("2025-03-09", tz="UTC")]
    again = update_case_facts(stored, batch_ids, load_all)
    pd.testing.assert_frame_equal(again.sort_index(), expected.sort_index())
