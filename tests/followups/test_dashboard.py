"""Closed-loop figures against a hand count of a small, known set of follow-ups."""

from __future__ import annotations

import statistics
from datetime import timedelta

from servicepulse.db.session import UnitOfWork
from servicepulse.followups import dashboard
from servicepulse.models import FollowUp

from .conftest import NOW, actor


def test_closed_loop_rate_first_contact_and_root_causes(engine, org):
    # (created offset h, first contact h, closed h or None, due h, root cause, team)
    spec = [
        (0, 2, 10, 48, "communication", "a"),      # closed in time
        (0, 30, 60, 48, "communication", "a"),     # closed late
        (0, 5, 20, 48, "billing_error", "a"),      # closed in time
        (0, None, None, 24, None, "a"),            # open, overdue at NOW+72h
        (0, 1, None, 200, None, "a"),              # open, not due yet
        (0, 4, 8, 48, "billing_error", "b"),       # other team
    ]
    with UnitOfWork(engine) as s:
        for i, (c, fc, cl, due, rc, team) in enumerate(spec):
            s.add(FollowUp(cause="detractor", cause_ref=f"t:{i}", team_id=org.team_a if team == "a" else org.team_b,
                           case_id=org.case, status="closed" if cl is not None else "claimed",
                           created_at=NOW + timedelta(hours=c), due_at=NOW + timedelta(hours=due),
                           first_contact_at=None if fc is None else NOW + timedelta(hours=fc),
                           closed_at=None if cl is None else NOW + timedelta(hours=cl), root_cause=rc))
    at = NOW + timedelta(hours=72)
    with UnitOfWork(engine, readonly=True) as s:
        everyone = dashboard.figures(s, actor(engine, org.users["analyst"]), at)
        team_a = dashboard.figures(s, actor(engine, org.users["agent_a"]), at)
    # hand count: closed in time 3 of (4 closed + 1 overdue open) = 0.6
    assert (everyone.closed_in_time, everyone.due) == (3, 5)
    assert everyone.closed_loop_rate == 0.6
    assert everyone.median_first_contact_hours == statistics.median([2, 30, 5, 1, 4])
    assert everyone.top_root_causes == {"service": [("billing_error", 2), ("communication", 2)]}
    # an agent sees their own team only: 2 of (2 closed in time + 1 late + 1 overdue)
    assert (team_a.closed_in_time, team_a.due, team_a.overdue) == (2, 4, 1)
    assert team_a.median_first_contact_hours == statistics.median([2, 30, 5, 1])
