"""The signals work list pages and sorts over every open signal in view, not over the newest 200.

The list used to read at most 200 signals and page and sort those: with 254 open signals in the demo it said
"Pagina 1 van 4 (200 in totaal)" and the oldest never showed. Here 262 signals (256 open, 7 of them of no team,
pairs fired at the same minute) are written straight into the tables, and every page of every order is checked
against the order computed here from what was written.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.expectations.signals import count_team_work, ensure_default_rules, team_work_list
from servicepulse.models import Case, OrgUnit, TeamMembership
from servicepulse.models.expectations import Signal

from ..web.conftest import login

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
N = 262
TEAMS = ("Charlie", "Alpha", "Bravo")  # not in alphabetical order of creation


def _world(engine) -> list[dict]:
    """N signals, one per case; returns what was written, one dict per signal."""
    with UnitOfWork(engine) as s:
        rules = ensure_default_rules(s)
        teams = [OrgUnit(key=name.lower(), name=name, kind="team") for name in TEAMS]
        s.add_all(teams)
        s.flush()
        written = []
        for i in range(N):
            team = None if i % 37 == 5 else teams[(i * 7) % 3]
            rule = rules[(i * 3) % len(rules)]
            case = Case(external_id=f"K{(i * 101) % N:03d}", opened_at=T0, attributes={})
            s.add(case)
            s.flush()
            signal = Signal(rule_id=rule.id, case_id=case.id, team_id=team.id if team else None,
                            cause_key=f"test:{i}", fired_at=T0 + timedelta(minutes=i // 2),  # pairs: ties
                            details={}, resolved_at=T0 + timedelta(days=1) if i % 50 == 7 else None)
            s.add(signal)
            s.flush()
            written.append({"id": signal.id, "team": team.name if team else None, "team_id": team.id if team else None,
                            "rule": rule.key, "case": case.external_id, "fired": signal.fired_at,
                            "open": signal.resolved_at is None})
    return written


def _ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-signal="(\d+)"', html)]


def _all_pages(client, sort: str) -> tuple[list[int], list[list[int]]]:
    first = client.get(f"/expectations/signals?sort={sort}").text
    pages = int(re.search(r"Page 1 of (\d+) \((\d+) in all\)", first).group(1))
    every = [_ids(first)] + [_ids(client.get(f"/expectations/signals?sort={sort}&page={p}").text)
                             for p in range(2, pages + 1)]
    return [i for page in every for i in page], every


def _expected(rows: list[dict], field: str | None) -> list[int]:
    """Alphabetical on ``field`` (no team: an empty name), newest first within it, then the highest id."""
    newest = sorted(rows, key=lambda r: (r["fired"], r["id"]), reverse=True)
    ordered = newest if field is None else sorted(newest, key=lambda r: r[field] or "")  # stable
    return [r["id"] for r in ordered]


def test_the_work_list_pages_and_sorts_over_all_open_signals(engine, client, make_user):
    written = _world(engine)
    open_rows = [r for r in written if r["open"]]
    assert len(open_rows) == 256 and sum(r["team"] is None for r in open_rows) == 7
    make_user("ana@example.org", role="analyst", language="en")
    login(client, "ana@example.org")

    first = client.get("/expectations/signals").text
    assert "Page 1 of 6 (256 in all)" in first  # 256 = 5 pages of 50 and 6
    by_time, pages = _all_pages(client, "fired")
    assert [len(p) for p in pages] == [50] * 5 + [6]
    assert by_time == _expected(open_rows, None)  # each open signal once, newest first
    oldest = [r["id"] for r in open_rows if r["fired"] == min(o["fired"] for o in open_rows)]
    assert set(oldest) <= set(pages[-1])  # the oldest open signals are on the last page
    for field, sort in (("team", "team"), ("rule", "rule"), ("case", "case")):
        ordered, _ = _all_pages(client, sort)
        assert ordered == _expected(open_rows, field), sort
    # sorted by team the first page holds the signals of no team, then Alpha's newest; the last page Charlie's oldest
    _, team_pages = _all_pages(client, "team")
    by_id = {r["id"]: r for r in written}
    assert [by_id[i]["team"] for i in team_pages[0][:8]] == [None] * 7 + ["Alpha"]
    assert {by_id[i]["team"] for i in team_pages[-1]} == {"Charlie"}
    # a page past the end is the last page
    assert _ids(client.get("/expectations/signals?sort=team&page=99").text) == team_pages[-1]


def test_a_team_member_sees_the_true_count_of_their_teams_signals(engine, client, make_user):
    written = _world(engine)
    user_id = make_user("agnes@example.org", role="agent", language="en")
    with UnitOfWork(engine) as s:
        teams = dict(s.execute(select(OrgUnit.name, OrgUnit.id)).all())
        s.add_all([TeamMembership(user_id=user_id, team_id=teams[name]) for name in ("Alpha", "Bravo")])
    mine = [r for r in written if r["open"] and r["team"] in ("Alpha", "Bravo")]
    assert len(mine) > 150
    with UnitOfWork(engine, readonly=True) as s:
        scope = {teams["Alpha"], teams["Bravo"]}
        assert count_team_work(s, scope) == len(mine)
        assert [x.id for x in team_work_list(s, scope)] == _expected(mine, None)
        assert count_team_work(s, None) == sum(r["open"] for r in written)
        assert count_team_work(s, set()) == 0 and team_work_list(s, set()) == []
        alpha = [r for r in mine if r["team"] == "Alpha"]
        assert [x.id for x in team_work_list(s, teams["Alpha"], sort="case", limit=10, offset=10)] == \
            _expected(alpha, "case")[10:20]

    login(client, "agnes@example.org")
    pages = -(-len(mine) // 50)
    html = client.get("/expectations/signals").text
    assert f"Page 1 of {pages} ({len(mine)} in all)" in html
    ordered, _ = _all_pages(client, "rule")
    assert ordered == _expected(mine, "rule")
    assert client.get(f"/expectations/signals?team={teams['Charlie']}").status_code == 404
    only_bravo = client.get(f"/expectations/signals?team={teams['Bravo']}").text
    assert f"({sum(r['team'] == 'Bravo' for r in mine)} in all)" in only_bravo
    # the home page's panel counts every open signal of the teams (and shows the newest few)
    home = client.get("/").text
    assert f"My team&#39;s signals ({len(mine)})" in home or f"My team's signals ({len(mine)})" in home
    shown = [int(i) for i in re.findall(r'<tr data-signal="(\d+)"', home.split('id="home-signals"')[1].split("</table>")[0])]
    assert shown == _expected(mine, None)[:len(shown)] and 0 < len(shown) < len(mine)
