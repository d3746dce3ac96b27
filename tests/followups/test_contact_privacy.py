"""Phone and e-mail on the follow-up page: only for the team working the follow-up while it is open
(the customer page's rule). Administrators, analysts, another team and a closed follow-up see neither."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from servicepulse.app import create_app
from servicepulse.db.session import UnitOfWork
from servicepulse.models import Customer, FollowUp, utcnow
from servicepulse.settings import Settings
from tests.web.conftest import login

from .conftest import add_response

PHONE = "+31 6 1234 5678"
EMAIL = "klant@example.org"


def _followup(engine, org, response_id: int, status: str, n: int) -> int:
    now = utcnow()
    with UnitOfWork(engine) as s:
        s.get(Customer, org.customer).phone = PHONE
        fu = FollowUp(cause="low_grade", cause_ref=f"privacy:{n}", response_id=response_id,
                      customer_id=org.customer, team_id=org.team_a, priority=2, status=status,
                      due_at=now + timedelta(days=2), assignee_id=org.users["agent_a"],
                      claimed_at=now, closed_at=now if status == "closed" else None,
                      outcome="resolved" if status == "closed" else None)
        s.add(fu)
        s.flush()
        return fu.id


@pytest.mark.parametrize("who,status,shown", [
    ("admin", "claimed", False), ("analyst", "claimed", False),  # not a team's: never
    ("agent_b", "claimed", False),  # another team: the page itself is refused
    ("agent_a", "claimed", True), ("lead", "claimed", True), ("agent_a2", "open", True),  # the working team
    ("agent_a", "closed", False), ("lead", "closed", False), ("admin", "closed", False),  # closed: nobody
])
def test_contact_details_only_for_the_working_team_while_open(engine, org, who, status, shown):
    response_id = add_response(engine, "R-privacy", ces=2, grade=3, why="Slecht geholpen")
    fid = _followup(engine, org, response_id, status, 1)
    app = create_app(engine, Settings(secret_key="privacy-secret-" + "x" * 30))
    with TestClient(app, base_url="http://testserver") as client:
        assert login(client, org.email(who)).status_code == 303
        page = client.get(f"/followups/{fid}")
        if who == "agent_b":
            assert page.status_code == 403
            assert PHONE not in page.text and EMAIL not in page.text
            return
        assert page.status_code == 200
        assert "Klant Een" in page.text  # the customer is named either way
        assert (PHONE in page.text) is shown
        assert (EMAIL in page.text) is shown
