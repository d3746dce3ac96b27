"""The signals work list is paged (50 a page) and sortable by case, rule, team and time (#17 item 5)."""

from __future__ import annotations

import re

from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.expectations.signals import run_signals
from servicepulse.models import OrgUnit

from ..web.conftest import login
from .helpers import at, event, ingest


def _cases_shown(html: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="/expectations/cases/[^"]+">([^<]+)</a>', html)


def test_signals_are_paged_and_sorted(engine, client, make_user):
    # 61 cases silent too long: W00..W30 at the front office, W31..W60 at the back office, each a minute apart
    ingest(engine, [event(f"W{i:02d}", i / 60, "Customer calls", direction="inbound", facing=True,
                          team="Front office" if i <= 30 else "Back office") for i in range(61)])
    make_user("ana@example.org", role="analyst", language="en")
    with UnitOfWork(engine) as s:
        run_signals(s, at(60), notify=False)
        assert s.scalar(select(OrgUnit.id).where(OrgUnit.name == "Back office"))
    login(client, "ana@example.org")
    first = client.get("/expectations/signals").text
    shown = _cases_shown(first)
    assert len(shown) == 50 and "Page 1 of 2 (61 in all)" in first
    second = _cases_shown(client.get("/expectations/signals?sort=fired&page=2").text)
    assert len(second) == 11 and not set(second) & set(shown)
    assert sorted(shown + second) == [f"W{i:02d}" for i in range(61)]
    by_case = _cases_shown(client.get("/expectations/signals?sort=case").text)
    assert by_case == [f"W{i:02d}" for i in range(50)]
    by_team = client.get("/expectations/signals?sort=team").text
    teams = re.findall(r"<td>(Back office|Front office)</td>", by_team)
    assert teams == ["Back office"] * 30 + ["Front office"] * 20  # alphabetical, newest first within a team
    assert 'aria-sort="ascending"' in by_team
    # an unknown sort is the default order, a page past the end the last page
    assert client.get("/expectations/signals?sort=nonsense&page=9").status_code == 200


def test_the_work_list_says_why_each_signal_is_there(engine, client, make_user):
    # one case silent from hour 0; signals run at hour 60: silent for 60 hours by then, longer when the page is read
    ingest(engine, [event("S1", 0, "Customer calls", direction="inbound", facing=True, team="Front office"),
                    event("S2", 0, "Customer calls", direction="inbound", facing=True, team=None)])
    make_user("ana@example.org", role="analyst", language="nl")
    with UnitOfWork(engine) as s:
        run_signals(s, at(60), notify=False)
    login(client, "ana@example.org")
    html = client.get("/expectations/signals").text
    # the rules behind the list, with their thresholds from the rule's parameters and their open counts
    legend = html.split('class="rules-legend"')[1].split("</details>")[0]
    assert "geen bericht aan de klant sinds 48 uur of langer" in legend and "2 open" in legend
    assert "binnen 4 uur" in legend  # promise_due_soon's default threshold
    # the why column: since when the customer heard nothing, in days past 48 hours
    rows = re.findall(r'<tr data-signal="\d+" data-rule="dark_too_long">(.*?)</tr>', html, re.S)
    assert len(rows) == 2 and all(re.search(r"Stil sinds [^<]+ \(\d+ dagen\)", r) for r in rows)
    # a case whose events name no team says so in words, with the reason on hover
    assert any("geen team" in r for r in rows) and any("Front office" in r for r in rows)
