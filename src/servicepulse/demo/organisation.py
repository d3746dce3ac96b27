"""Writes the organisation (units, teams, demo users) and the journeys with their moments."""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy.orm import Session

from servicepulse.demo.catalogue import (
    CODEFRAME_DEPARTMENTS,
    DEPARTMENTS,
    JOURNEYS,
    ORGANISATION_KEY,
    ORGANISATION_NAME,
    TEAMS,
    USERS,
)
from servicepulse.kernels.text import load_default_codeframe
from servicepulse.models import Journey, Moment, OrgUnit, TeamMembership, User
from servicepulse.models.verbatims import VerbatimThemeOwner
from servicepulse.org.passwords import hash_password
from servicepulse.org.service import create_unit, create_user


@dataclass
class OrgIds:
    organisation: int
    departments: dict[str, int]
    teams: dict[str, int]
    users: int


def hash_demo_passwords() -> Future:
    """Start hashing the demo passwords in the background (argon2 costs
    0.1-0.7 s per hash and releases the GIL, so it runs while the data are
    generated). The result maps password -> hash."""
    passwords = sorted({u.password for u in USERS})
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="demo-hash")
    futures = {p: pool.submit(hash_password, p) for p in passwords}
    pool.shutdown(wait=False)
    done: Future = Future()

    def collect() -> None:
        try:
            done.set_result({p: f.result() for p, f in futures.items()})
        except Exception as exc:  # pragma: no cover - argon2 failing is not expected
            done.set_exception(exc)
    threading.Thread(target=collect, daemon=True).start()
    return done


def create_organisation(session: Session, password_hashes: dict[str, str] | None = None) -> OrgIds:
    """Units and teams, then the demo users with real argon2 hashes of the
    published demo passwords (`servicepulse.org.passwords.hash_password`, the
    hasher `create_user` uses; users sharing a password share its hash).
    Without ``password_hashes`` the users go through `create_user` itself."""
    org = create_unit(session, ORGANISATION_KEY, ORGANISATION_NAME, kind="organisation")
    departments: dict[str, OrgUnit] = {
        key: create_unit(session, key, name, kind="department", parent=org) for key, name in DEPARTMENTS
    }
    teams = {
        t.key: create_unit(session, t.key, t.name, kind="team", parent=departments[t.department], line=t.line)
        for t in TEAMS
    }
    for u in USERS:
        if password_hashes is None:
            create_user(session, u.email, u.name, u.password, u.role, teams=list(u.teams),
                        lead_of=list(u.lead_of), language=u.language)
            continue
        user = User(email=u.email, name=u.name, password_hash=password_hashes[u.password], role=u.role,
                    language=u.language)
        for key in u.teams:
            user.memberships.append(TeamMembership(team=teams[key], is_lead=False))
        for key in u.lead_of:
            user.memberships.append(TeamMembership(team=teams[key], is_lead=True))
        session.add(user)
    _own_themes(session, departments)
    session.flush()
    return OrgIds(org.id, {k: d.id for k, d in departments.items()}, {k: t.id for k, t in teams.items()}, len(USERS))


def _own_themes(session: Session, departments: dict[str, OrgUnit]) -> None:
    """Give each theme of the default code frame its demo department (the eye-opener report)."""

    session.flush()
    for theme in load_default_codeframe().themes:
        key = CODEFRAME_DEPARTMENTS.get(theme.department or "")
        if key is not None:
            session.add(VerbatimThemeOwner(theme=theme.key, department_id=departments[key].id))


@dataclass
class JourneyIds:
    journeys: dict[str, int]
    moments: dict[tuple[str, str], int]  # (journey key, moment key) -> id
    last_moment: dict[str, int]  # journey key -> id of its last moment


def create_journeys(session: Session, departments: dict[str, int]) -> JourneyIds:
    journeys, moments, last = {}, {}, {}
    for spec in JOURNEYS:
        journey = Journey(key=spec.key, name_nl=spec.name_nl, name_en=spec.name_en, description_nl=spec.description_nl,
                          description_en=spec.description_en)
        for position, m in enumerate(spec.moments, start=1):
            journey.moments.append(Moment(
                key=m.key, position=position, name_nl=m.name_nl, name_en=m.name_en, kind=m.kind,
                norm=7.0 if m.kind == "functional" else 9.0, department_id=departments[m.department],
                channel=m.channel,
            ))
        session.add(journey)
        session.flush()
        journeys[spec.key] = journey.id
        for m in journey.moments:
            moments[(spec.key, m.key)] = m.id
        last[spec.key] = journey.moments[-1].id
    return JourneyIds(journeys, moments, last)
