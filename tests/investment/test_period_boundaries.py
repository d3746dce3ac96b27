"""Periods of cost and avoidable contact cut at the organisation's local midnight (SERVICEPULSE_TIME_ZONE), not
at UTC midnight: a contact at 23:30 on the last day of a month belongs to that month, one at 00:30 on the first
day to the next, in Amsterdam (east of UTC) and New York (west of it); the cached and the direct computation
agree. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from servicepulse.db.session import UnitOfWork
from servicepulse.investment import service
from servicepulse.models import Case, CaseEvent, Journey
from servicepulse.settings import Settings

JAN, FEB, MAR = date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)


@pytest.fixture(autouse=True)
def _fresh_cache():
    service.clear_cache()
    yield
    service.clear_cache()


def _store(engine, zone: str) -> None:
    """Case A: one phone call at 23:30 local on 31 January. Case B: one call at 00:30 local on 1 February.
    Case C: calls at 12:00 local on 15 January and 23:30 local on 28 February (a case spanning the months)."""
    local = ZoneInfo(zone)
    with UnitOfWork(engine) as s:
        journey = Journey(key="j", name_nl="J", name_en="J")
        s.add(journey)
        s.flush()
        for key, times in (("A", [datetime(2026, 1, 31, 23, 30)]), ("B", [datetime(2026, 2, 1, 0, 30)]),
                           ("C", [datetime(2026, 1, 15, 12), datetime(2026, 2, 28, 23, 30)])):
            case = Case(external_id=key, journey_id=journey.id, opened_at=times[0].replace(tzinfo=local))
            s.add(case)
            s.flush()
            for i, t in enumerate(times):
                s.add(CaseEvent(case_id=case.id, occurred_at=t.replace(tzinfo=local), seq=i, activity=f"Call {key}",
                                direction="inbound", channel="phone", customer_facing=True, attributes={}))


def _cases(analysis) -> list[tuple[str, int]]:
    """(case label, contacts) in the period, by the call's activity."""
    counts = analysis.contacts["activity"].value_counts()
    return sorted((a.removeprefix("Call "), int(n)) for a, n in counts.items())


@pytest.mark.parametrize("zone", ["Europe/Amsterdam", "America/New_York"])
def test_a_month_holds_the_contacts_of_its_local_days(engine, zone):
    _store(engine, zone)
    settings = Settings(time_zone=zone, contact_costs={"phone/inbound": 6.5})
    with UnitOfWork(engine, readonly=True) as s:
        for compute in (service.contact_analysis, service.compute_contact_analysis):
            january = compute(s, settings, JAN, FEB)
            february = compute(s, settings, FEB, MAR)
            assert _cases(january) == [("A", 1), ("C", 1)], compute.__name__
            assert _cases(february) == [("B", 1), ("C", 1)], compute.__name__
            assert service.totals(january)["cost"] == pytest.approx(13.0)
            # the day itself: 31 January holds A's late call only, 1 February B's early one only
            assert _cases(compute(s, settings, date(2026, 1, 31), FEB)) == [("A", 1)]
            assert _cases(compute(s, settings, FEB, date(2026, 2, 2))) == [("B", 1)]
            # the monthly table: the same months
            months = service.monthly(compute(s, settings), zone)
            assert months["contacts"].to_dict() == {"2026-01": 2, "2026-02": 2}
