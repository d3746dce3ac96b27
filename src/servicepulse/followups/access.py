"""Who may see and change which follow-ups.

agent: the follow-ups (and customers' verbatims) of their own teams, and may work them;
teamlead: the same for the teams they belong to, plus approving over-budget gestures;
analyst: reads everything, changes nothing;
admin: reads everything, manages budgets, rules and channels (does not work follow-ups).
"""

from __future__ import annotations

from servicepulse.followups.errors import NotAllowed
from servicepulse.models import FollowUp
from servicepulse.org import Actor  # the one least-privilege rule (servicepulse/org/access.py)

__all__ = ["Actor", "can_view", "check_admin", "check_lead", "check_view", "check_work", "is_lead_of"]

WORKERS = ("agent", "teamlead")


def can_view(actor: Actor, fu: FollowUp) -> bool:
    return actor.reads_all or (fu.team_id is not None and fu.team_id in actor.team_ids)


def check_view(actor: Actor, fu: FollowUp) -> None:
    if not can_view(actor, fu):
        raise NotAllowed(f"follow-up {fu.id} belongs to another team; you can only see your own team's follow-ups")


def check_work(actor: Actor, fu: FollowUp) -> None:
    """May work the follow-up: an agent or team lead of its team."""
    if actor.role not in WORKERS:
        raise NotAllowed(f"a user with the role {actor.role} reads follow-ups but cannot change them")
    if fu.team_id is None or fu.team_id not in actor.team_ids:
        raise NotAllowed(f"follow-up {fu.id} belongs to another team; only its own team can work it")


def is_lead_of(actor: Actor, team_id: int | None) -> bool:
    return actor.role == "teamlead" and team_id is not None and team_id in actor.led_team_ids


def check_lead(actor: Actor, team_id: int | None) -> None:
    if not is_lead_of(actor, team_id):
        raise NotAllowed("only a team lead of this follow-up's team can approve spending over the budget")


def check_admin(actor: Actor, what: str) -> None:
    if actor.role != "admin":
        raise NotAllowed(f"only an administrator can manage {what}")
