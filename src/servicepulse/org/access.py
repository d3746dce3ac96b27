"""Who may see what: the one place for least privilege (pages, API keys and services all use it).

An `Actor` is the person (or API key acting for a person) a request runs for:
their role and the teams they belong to. The rule for team work (comments,
cases, signals, follow-ups, customers):

* admin, analyst: every team;
* teamlead, agent: the teams they belong to (`TeamMembership`, lead or not).

Services take an `Actor` and filter with `visible_team_ids()` / `team_clause()`
instead of repeating role checks; pages and API routes get one from the HTTP glue
(`servicepulse.http.auth.CurrentActor` / `ApiActor`).

API-key scopes live here too: what a key may do is the intersection of the scopes
it was given and the scopes its user's role allows (`allowed_scopes`), so a key
never does more than its user.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import false
from sqlalchemy.sql.elements import ColumnElement

from servicepulse.models import User
from servicepulse.models.org import ROLES

READ_ALL_ROLES = ("admin", "analyst")


@dataclass(frozen=True)
class Actor:
    id: int | None  # None: an installation key that acts for no user (see INSTALLATION_SCOPES)
    role: str
    team_ids: frozenset[int]
    led_team_ids: frozenset[int]

    @classmethod
    def of(cls, user: User) -> Actor:
        teams = {m.team_id for m in user.memberships}
        led = {m.team_id for m in user.memberships if m.is_lead} if user.role == "teamlead" else set()
        return cls(user.id, user.role, frozenset(teams), frozenset(led))

    @classmethod
    def installation(cls) -> Actor:
        """A key made without a user: bounded by its scopes only, reads every team."""
        return cls(None, "admin", frozenset(), frozenset())

    @property
    def reads_all(self) -> bool:
        return self.role in READ_ALL_ROLES

    def visible_team_ids(self) -> frozenset[int] | None:
        """The teams whose work this actor sees; None means every team."""
        return None if self.reads_all else self.team_ids

    def sees_team(self, team_id: int | None) -> bool:
        """Work of one team (None: of no team, which only readers of every team see)."""
        return self.reads_all or (team_id is not None and team_id in self.team_ids)

    def sees_any_team(self, team_ids) -> bool:
        return self.reads_all or bool(self.team_ids.intersection(t for t in team_ids if t is not None))

    def team_clause(self, column) -> ColumnElement | None:
        """A WHERE clause limiting `column` (a team id column) to the visible teams; None: no limit."""
        visible = self.visible_team_ids()
        if visible is None:
            return None
        return column.in_(sorted(visible)) if visible else false()


# --- API-key scopes ------------------------------------------------------------------------------

SCOPES: dict[str, str] = {
    "read:surveys": "read survey definitions",
    "read:metrics": "read aggregate figures: metrics, drivers, moments, scan, projects, trigger and promise figures",
    "read:responses": "read single responses back (comments included), within the user's teams",
    "write:responses": "post responses",
    "write:events": "post case events and promises",
    "read:cases": "read cases, their timelines, promises and forecasts, within the user's teams",
    "read:followups": "read follow-ups and the follow-up dashboard, within the user's teams",
    "write:followups": "work follow-ups: claim, contact, gestures, close, decide",
    "write:projects": "register and change improvement projects",
    "admin": "change configuration: surveys, trigger rules, alert rules, recovery budgets",
}

# The scopes each role may hold; a key's effective scopes are its own intersected with these.
ROLE_SCOPES: dict[str, frozenset[str]] = {
    "admin": frozenset(SCOPES) - {"write:followups"},  # administrators manage follow-ups, they do not work them
    "analyst": frozenset(SCOPES) - {"admin", "write:followups"},
    "teamlead": frozenset({"read:surveys", "read:metrics", "read:responses", "read:cases", "read:followups",
                           "write:followups"}),
    "agent": frozenset({"read:surveys", "read:cases", "read:followups", "write:followups"}),
}
assert set(ROLE_SCOPES) == set(ROLES)

# A new key without --scope: reading what the role allows of surveys and aggregate figures.
DEFAULT_SCOPES = ("read:surveys", "read:metrics")
# What keys made before scopes existed received (the migration's server default): feeding data in,
# which is what those keys were made for; anything more needs a new key with a user and scopes.
LEGACY_SCOPES = ("write:responses", "write:events")
# A key without a user: an installation key, made before keys acted for users or by code (the command
# line requires --user). No role bounds it, so it is bounded by its scopes alone; it reads every team but
# cannot work follow-ups (those need a person).
INSTALLATION_SCOPES = frozenset(SCOPES) - {"read:followups", "write:followups"}


def parse_scopes(text: str | None) -> frozenset[str]:
    return frozenset((text or "").split())


def allowed_scopes(role: str | None) -> frozenset[str]:
    """The scopes a key of a user with this role can use (None: a key without a user)."""
    return INSTALLATION_SCOPES if role is None else ROLE_SCOPES.get(role, frozenset())


def effective_scopes(granted: frozenset[str], role: str | None) -> frozenset[str]:
    return granted & allowed_scopes(role)
