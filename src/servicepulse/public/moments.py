"""Which moment questions the survey page leaves out: moments the invitation's case did not include.

A journey survey grades each moment of its journey (questions keyed
``moment_<moment key>``). A customer whose fault was fixed remotely never had
the engineer's visit, so the page does not ask about it. What a case included
is read the way the journey pages read it: the moment each of the case's events
was mapped to when it was stored (``case_events.moment_id``, set by the moment
rules at ingestion), together with what the current rules
(``journeys.load_rules`` / ``journeys.assign_moments``) make of its activities
(events stored before a rule existed).

Only what the events can tell is left out. Every question stays (each with
"not applicable") for an invitation without a case (anonymous links), a case
without a journey, and a case none of whose events is mapped to a moment; and a
moment stays asked when nothing can show it: no rule maps to it and no stored
event anywhere has it.
"""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from servicepulse.cases import load_events
from servicepulse.journeys import assign_moments, load_rules
from servicepulse.models import Case, CaseEvent, Journey, OrgUnit
from servicepulse.responses import MOMENT_KEY_PREFIX
from servicepulse.responses.form import is_moment_question
from servicepulse.surveys import SurveySpec


def questions_to_skip(session: Session, spec: SurveySpec, case_id: int | None) -> frozenset[str]:
    """The keys of ``spec``'s moment questions about moments the case did not include."""
    asked = {key[len(MOMENT_KEY_PREFIX):]: key for key, q in spec.questions.items() if is_moment_question(q)}
    if not asked or case_id is None:
        return frozenset()
    case = session.get(Case, case_id)
    journey = session.get(Journey, case.journey_id) if case is not None and case.journey_id is not None else None
    if journey is None or not case.events:
        return frozenset()
    rules = load_rules(session)
    had = {event.moment_id for event in case.events}
    if rules:
        history = load_events(session, [case.id])
        aliases = {}  # rules may name a team by its key
        for team_id in history["team_id"].dropna().unique():
            if (team := session.get(OrgUnit, int(team_id))) is not None:
                aliases[team.name] = team.key
        had |= set(assign_moments(history["activity"], history["channel"], history["team"], rules, aliases))
    had.discard(None)
    if not had:  # nothing in this case is mapped to a moment: the events cannot tell
        return frozenset()
    ruled = {rule.moment_id for rule in rules}
    skip = []
    for moment in journey.moments:
        if moment.key not in asked or moment.id in had:
            continue
        if moment.id in ruled or session.scalar(select(exists().where(CaseEvent.moment_id == moment.id))):
            skip.append(asked[moment.key])
    return frozenset(skip)
