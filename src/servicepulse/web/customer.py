"""The customer page (/customers/{customer_id}): one customer's story across the domains.

Their cases, each told as its timeline with the customer's answers at their place in it; their open promises
and signals; the follow-ups about them with contacts and gestures; the effort index of their cases; and a slot
for the predicted experience of each closed case (metrics.case_prediction). It composes several
domains, so it lives at the edge; each domain's part is a query in that domain
(`cases.customer_repository`, `expectations.customer_repository`, `followups.customer_repository`,
`cases.timeline`).

Who sees it: whoever may see the customer's cases and answers. Administrators and analysts read every team;
team leads and agents see a customer one of their teams worked for (a case their team worked on, an answer
routed to their team, or a follow-up of their team), and of that customer only what their teams may see; for
anyone else the customer does not exist (404). Personal fields are minimised: the name and the external id
identify the customer; e-mail and phone are shown only to the agents and team leads of a team with an open
follow-up about the customer, who need them to call back. An erased customer (art. 17) has no row left:
their page is a 404 that says so. The URL carries the internal id only, so no customer number lands in the
access log.

`/customers/answers/{response_id}` is the one link every answer on a page can carry (moment page, comment
browser, survey page): it sends the visitor to the customer page at that answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from servicepulse import metrics
from servicepulse.cases import can_see_case, customer_repository, timeline
from servicepulse.expectations import customer_repository as expectations_repository
from servicepulse.followups import customer_repository as followups_repository
from servicepulse.followups.budget import euros
from servicepulse.http import params
from servicepulse.http.auth import CurrentActor
from servicepulse.http.deps import DbSession
from servicepulse.http.errors import error_page
from servicepulse.http.templating import render
from servicepulse.models import Case, Customer, FollowUp, Journey, OrgUnit, Response, User
from servicepulse.models.cases import CaseFacts
from servicepulse.org import Actor

router = APIRouter(prefix="/customers")
CASE_VIEWERS = ("admin", "analyst", "teamlead")  # who may open the cases domain's case page (cases/views.py)
WORKERS = ("agent", "teamlead")  # who call customers back (followups/access.py)
BACK_LIMIT = 500


@dataclass
class CaseStory:
    case: Case
    journey: Journey | None
    facts: CaseFacts | None
    tl: timeline.Timeline


@dataclass
class CustomerView:
    customer: Customer
    stories: list[CaseStory]
    hidden_cases: int
    other_answers: list[timeline.AnswerLine]
    followups: list[FollowUp]
    gestures: dict[int, list] = field(default_factory=dict)
    promises: list = field(default_factory=list)
    signals: list = field(default_factory=list)
    show_contact: bool = False
    # Predicted experience (metrics.case_prediction): (case, prediction) per closed case the model could
    # predict; None when the model cannot be fitted (too few answers), shown as "not available".
    predicted: list | None = None

    @property
    def answers(self) -> int:
        return sum(len(s.tl.answers) for s in self.stories) + len(self.other_answers)

    @property
    def effort_index(self) -> float | None:
        """The mean effort index (0-100) of the customer's cases that have one."""
        values = [s.facts.effort_index for s in self.stories if s.facts and s.facts.effort_index is not None]
        return sum(values) / len(values) if values else None

    @property
    def open_followups(self) -> int:
        return sum(1 for f in self.followups if f.status != "closed")

    @property
    def open_signals(self) -> int:
        return sum(1 for s, _, _ in self.signals if s.resolved_at is None)


def safe_back(raw: str | None) -> str | None:
    """A path on this site to return to (the page the visitor came from), or None: never another site."""
    if not raw or len(raw) > BACK_LIMIT or not raw.startswith("/") or raw.startswith(("//", "/\\")):
        return None
    if any(ord(c) < 32 or c == "\\" for c in raw):
        return None
    return raw


def customer_view(session: Session, actor: Actor, customer_id: int, now: datetime) -> CustomerView | None:
    """What `actor` may see of one customer; None when the customer does not exist or is not theirs to see."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        return None
    cases, hidden = customer_repository.customer_cases(session, customer_id, actor)
    case_ids = [c.id for c in cases]
    other = timeline.answers_outside_cases(session, customer_id, case_ids, actor.visible_team_ids())
    if not actor.reads_all and not cases and not other and not followups_repository.any_followup_of_teams(
            session, customer_id, actor.team_ids):
        return None  # another team's customer: as if they did not exist
    facts = customer_repository.facts_by_case(session, case_ids)
    journeys = customer_repository.journeys_by_id(session)
    stories = [CaseStory(c, journeys.get(c.journey_id), facts.get(c.id),
                         timeline.build(session, c, now=now if c.closed_at is None else None)) for c in cases]
    response_ids = [a.response_id for s in stories for a in s.tl.answers] + [a.response_id for a in other]
    followups = followups_repository.customer_followups(session, customer_id, case_ids, response_ids, actor)
    return CustomerView(
        customer, stories, hidden, other, followups,
        gestures=followups_repository.gestures_by_followup(session, [f.id for f in followups]),
        promises=expectations_repository.open_promises(session, case_ids),
        signals=expectations_repository.case_signals(session, case_ids),
        show_contact=actor.role in WORKERS and followups_repository.any_followup_of_teams(
            session, customer_id, actor.team_ids, open_only=True),
        predicted=_predictions(session, [s.case for s in stories if s.case.closed_at is not None]),
    )


def _predictions(session: Session, closed: list) -> list | None:
    """(case, prediction) for the closed cases the model predicts; None when there is no model."""
    if not closed:
        return []
    rows = [(case, metrics.case_prediction(session, case.id)) for case in closed]
    if all(p is None for _, p in rows) and not metrics.predicted_experience(session).ok:
        return None
    return [(case, p) for case, p in rows if p is not None]


def _names(session: Session, model) -> dict[int, str]:
    return dict(session.execute(select(model.id, model.name)).all())


def _gone(request: Request):
    return error_page(request, 404, "customer.gone")


@router.get("/{customer_id:int}")
def customer_page(request: Request, session: DbSession, actor: CurrentActor, customer_id: params.PathId,
                  back: Annotated[str | None, Query(max_length=2000)] = None):
    view = customer_view(session, actor, customer_id, datetime.now(UTC))
    if view is None:
        return _gone(request)
    here = f"/customers/{customer_id}"
    return render(request, "customer.html", {
        "v": view, "back": safe_back(back), "here": here, "teams": _names(session, OrgUnit),
        "users": _names(session, User), "euros": euros, "can_open_case": actor.role in CASE_VIEWERS,
        "case_names": {st.case.id: st.case.external_id for st in view.stories},
    })


@router.get("/answers/{response_id:int}")
def answer_customer(request: Request, session: DbSession, actor: CurrentActor, response_id: params.PathId,
                    back: Annotated[str | None, Query(max_length=2000)] = None):
    """From an answer anywhere to its customer's page, at that answer."""
    response = session.get(Response, response_id)
    if response is None or not _sees_answer(session, actor, response):
        return error_page(request, 404, "customer.answer_gone")
    customer_id = response.customer_id
    if customer_id is None and response.case_id is not None:
        customer_id = customer_repository.customer_of_case_ids(session, [response.case_id]).get(response.case_id)
    if customer_id is None:
        return error_page(request, 404, "customer.anonymous")
    target = f"/customers/{customer_id}"
    if safe_back(back):
        target += "?back=" + quote(back, safe="")
    return RedirectResponse(f"{target}#response-{response_id}", status_code=303)


def _sees_answer(session: Session, actor: Actor, response: Response) -> bool:
    """An answer routed to one of the actor's teams, or on a case they may see (the comment browser's and
    the case pages' rules together)."""
    if actor.sees_team(response.team_id):
        return True
    case = session.get(Case, response.case_id) if response.case_id is not None else None
    return case is not None and can_see_case(session, actor, case)
