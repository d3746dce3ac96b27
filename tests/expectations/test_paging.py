"""The expectations dashboard's list of cases at risk is paged (25 a page) and sortable by case, team, promise and
silence (#17 item 5); its team filter is a removable chip (the shared chips macro), as on the signals list."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import quote

from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.expectations.signals import run_signals
from servicepulse.models import OrgUnit

from ..web.conftest import login
from .helpers import at, event, ingest

NOW = quote(at(200).isoformat())  # ?at=: the dashboard as of this moment


def _rows(html: str) -> list[tuple[str, str, str]]:
    """(case, team, silent since) of each at-risk row, in the order shown."""
    return re.findall(r'<tr data-case="([^"]+)" data-team="([^"]*)" data-due="[^"]*" data-silent="([^"]*)">', html)


def _world(engine):
    # 61 cases that went silent: W00..W30 at the front office, W31..W60 at the back office; case Wnn was last
    # told something nn hours after the start, so the higher the number, the shorter its silence
    ingest(engine, [event(f"W{i:02d}", i, "Customer informed", direction="outbound", facing=True,
                          team="Front office" if i <= 30 else "Back office") for i in range(61)])


def test_cases_at_risk_are_paged_and_sorted(engine, client, make_user):
    _world(engine)
    make_user("ana@example.org", role="analyst", language="en")
    login(client, "ana@example.org")
    first = client.get(f"/expectations?at={NOW}").text
    shown = _rows(first)
    assert len(shown) == 25 and "Page 1 of 3 (61 in all)" in first
    pages = [shown] + [_rows(client.get(f"/expectations?at={NOW}&sort=due&page={p}").text) for p in (2, 3)]
    assert [len(p) for p in pages] == [25, 25, 11]
    every = [case for page in pages for case, _, _ in page]
    assert sorted(every) == [f"W{i:02d}" for i in range(61)]  # each case once, on one page
    assert every == [f"W{i:02d}" for i in range(61)]  # most urgent (longest silence) first
    # the pager keeps the moment and the order
    assert f'href="/expectations?at={NOW}&amp;sort=due&amp;page=2"' in first

    by_case = [c for c, _, _ in _rows(client.get(f"/expectations?at={NOW}&sort=case&page=3").text)]
    assert by_case == [f"W{i:02d}" for i in range(50, 61)]
    by_team = _rows(client.get(f"/expectations?at={NOW}&sort=team").text)
    assert [t for _, t, _ in by_team] == ["Back office"] * 25  # alphabetical, most urgent first within a team
    assert [c for c, _, _ in by_team] == [f"W{i:02d}" for i in range(31, 56)]
    silent = [datetime.fromisoformat(s) for _, _, s in _rows(client.get(f"/expectations?at={NOW}&sort=silent").text)]
    assert silent == sorted(silent) and silent[0] == at(0)
    page = client.get(f"/expectations?at={NOW}&sort=silent").text
    assert 'aria-sort="ascending"' in page and "sort=case" in page
    # an unknown sort is the default order, a page past the end the last page
    past = client.get(f"/expectations?at={NOW}&sort=nonsense&page=9")
    assert past.status_code == 200 and len(_rows(past.text)) == 11


def test_the_team_filter_is_a_chip_that_removes_itself(engine, client, make_user):
    _world(engine)
    make_user("ana@example.org", role="analyst", language="nl")
    with UnitOfWork(engine) as s:
        back = s.scalar(select(OrgUnit.id).where(OrgUnit.name == "Back office"))
        run_signals(s, at(200), notify=False)
    login(client, "ana@example.org")
    page = client.get(f"/expectations?at={NOW}&team={back}").text
    rows = _rows(page)
    assert len(rows) == 25 and {t for _, t, _ in rows} == {"Back office"} and "(30 in all)" not in page
    chip = re.search(r'<ul class="chips"[^>]*>.*?</ul>', page, re.S).group(0)
    assert "Back office" in chip and f'href="/expectations?at={NOW}"' in chip
    signals = client.get(f"/expectations/signals?team={back}").text
    chip = re.search(r'<ul class="chips"[^>]*>.*?</ul>', signals, re.S).group(0)
    assert "Back office" in chip and 'href="/expectations/signals"' in chip
    assert '<ul class="chips"' not in client.get("/expectations/signals").text
