"""One case told from the customer's side.

Every event in order, each marked with what it meant to the customer: they
tried to reach us (inbound; outside opening hours flagged), we told them
something (customer-facing), the case waited on them, it was handed from one
team to another, it was closed or reopened. Between customer-facing moments
of an open case, the stretches of silence ("dark periods") are listed with
their length, as are the promises made and whether they were kept. The
customer's answers on the case are told at their place in the story
(`AnswerLine`: the moments they graded, the headline scores, their comment,
redacted as everywhere a comment is shown).

The marks are the kernel's facts (`servicepulse.kernels.eventlog.case_facts`)
as they grow event by event (`step_marks`): the kernel computes the facts of
every prefix of the case's history, and an event is, say, a handoff when it
raised its prefix's handoff count. So the page never disagrees with the stored
facts, and a change of definition in the kernel shows on both.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from servicepulse.cases.history import load_events
from servicepulse.customers import response_ids_of
from servicepulse.kernels.eventlog import FactsConfig, OpeningHours, case_facts
from servicepulse.kernels.text import redact
from servicepulse.models import Answer, Case, Customer, Moment, Promise, Response, Verbatim
from servicepulse.responses import MOMENT_KEY_PREFIX
from servicepulse.verbatims import VerbatimSettings

DARK_MIN_HOURS = 24.0  # silences shorter than a day are not drawn
PREFIX_ROWS = 250_000  # events per kernel call: a case's prefixes hold events * (events + 1) / 2 of them
# what the kernel reads of an event (the rest would only be copied into every prefix)
_KERNEL_COLUMNS = ["activity", "timestamp", "team", "channel", "direction", "line", "customer_facing"]
_COUNTS = ["inbound_contacts", "after_hours_contacts", "handoffs", "front_to_back", "back_to_front", "reopenings"]


@dataclass
class Step:
    at: datetime
    activity: str
    channel: str | None
    direction: str | None
    team: str | None
    actor: str | None
    customer_facing: bool
    kinds: list[str] = field(default_factory=list)  # contact, after_hours, told, waiting, handoff, closed, reopened
    handoff_from: str | None = None
    line_change: str | None = None  # 'front_to_back' / 'back_to_front'


@dataclass
class DarkPeriod:
    start: datetime
    end: datetime
    hours: float
    ongoing: bool = False


@dataclass
class PromiseLine:
    kind: str
    made_at: datetime
    due_at: datetime
    status: str
    settled_at: datetime | None


@dataclass
class GradedMoment:
    key: str
    name_nl: str
    name_en: str
    value: float | None

    def name(self, language: str) -> str:
        return self.name_nl if language == "nl" else self.name_en

    def phrase(self, language: str) -> str:
        """The name inside a sentence: English names are capitalised titles ("The engineer's visit"), so
        lower-cased ("graded the engineer's visit a 4"); the Dutch sentence quotes the name as it is."""
        name = self.name(language)
        return name if language == "nl" or not name else name[0].lower() + name[1:]

    def article(self) -> str:
        """The English article before the grade: "an 8", "an 11", "an 18", else "a"."""
        text = str(int(self.value)) if self.value is not None else ""
        return "an" if text.startswith("8") or text in ("11", "18") else "a"


@dataclass
class AnswerLine:
    """One answer (a submitted response) on the case, at the moment it was given."""

    response_id: int
    at: datetime
    moment: GradedMoment | None  # the moment the survey was about, with the grade given to it (if any)
    graded: list[GradedMoment]  # every moment the answer graded, in journey order
    nps: int | None
    grade: int | None
    ces: int | None
    csat: int | None
    comment: str | None  # redacted
    channel: str | None
    customer_id: int | None
    language: str | None = None  # of the comment: the verbatim analysis's verdict, else the survey's language


@dataclass
class Timeline:
    case: Case
    steps: list[Step]
    dark_periods: list[DarkPeriod]
    promises: list[PromiseLine]
    start: datetime | None
    end: datetime | None
    answers: list[AnswerLine] = field(default_factory=list)

    def story(self) -> list[tuple[str, Step | AnswerLine | DarkPeriod]]:
        """Steps, answers and silences in time order, as ("step", Step) / ("answer", AnswerLine) /
        ("dark", DarkPeriod). An answer given at the same moment as an event comes after it (the customer
        answers about what happened); a silence follows the last event at the moment it started (once, also
        when several events share that moment)."""
        told: list[tuple[datetime, int, int, str, Step | AnswerLine | DarkPeriod]] = (
            [(s.at, 0, i, "step", s) for i, s in enumerate(self.steps)]
            + [(a.at, 2, i, "answer", a) for i, a in enumerate(self.answers)]
            + [(d.start, 1, i, "dark", d) for i, d in enumerate(self.dark_periods)])
        return [(kind, item) for _, _, _, kind, item in sorted(told, key=lambda x: x[:3])]

    def position(self, at: datetime) -> float:
        """Where a moment sits on the drawn time axis, 0-100."""
        if self.start is None or self.end is None or self.end <= self.start:
            return 0.0
        return max(0.0, min(100.0, (at - self.start) / (self.end - self.start) * 100.0))


def build(session: Session, case: Case, calendar: OpeningHours | None = None, config: FactsConfig | None = None,
          now: datetime | None = None) -> Timeline:
    events = load_events(session, [case.id])
    marks = step_marks(events, calendar, config)
    facing = events["customer_facing"].to_numpy(dtype=bool, na_value=False)
    steps = [Step(e.timestamp.to_pydatetime(), e.activity, _text(e.channel), _text(e.direction), _text(e.team),
                  _text(e.resource), bool(told), kinds, handoff_from, line_change)
             for e, told, (kinds, handoff_from, line_change) in zip(events.itertuples(index=False), facing, marks)]
    dark = _dark_periods(steps, case.closed_at is None, now)
    promises = [PromiseLine(p.kind, p.made_at, p.due_at, p.status, p.kept_at or p.broken_at)
                for p in session.scalars(select(Promise).where(Promise.case_id == case.id).order_by(Promise.made_at))]
    answers = answers_of(session, [case.id]).get(case.id, [])
    times = [s.at for s in steps] + [p.due_at for p in promises] + [d.end for d in dark] + [a.at for a in answers]
    return Timeline(case, steps, dark, promises, min(times) if times else None, max(times) if times else None,
                    answers)


def story_of(session: Session, case_id: int | None, now: datetime) -> Timeline | None:
    """The timeline of one case by id (None when there is none), counting an open case's silence up to `now`."""
    case = session.get(Case, case_id) if case_id is not None else None
    return None if case is None else build(session, case, now=now if case.closed_at is None else None)


def answers_of(session: Session, case_ids: list[int]) -> dict[int, list[AnswerLine]]:
    """The completed responses on these cases (case id -> answers in time order), with the moments each graded.

    Comments are shown redacted whatever the stored text holds (the demo loader and old imports wrote them
    outside the redacting write path): the verbatim analysis's redacted text where there is one, else the
    comment redacted here with the customer patterns and the customer's own name."""
    if not case_ids:
        return {}
    responses = session.scalars(select(Response).where(Response.case_id.in_(case_ids), Response.completed.is_(True))
                                .order_by(Response.submitted_at, Response.id)).all()
    out: dict[int, list[AnswerLine]] = {}
    for line, r in zip(_answer_lines(session, responses), responses):
        out.setdefault(r.case_id, []).append(line)
    return out


def answers_outside_cases(session: Session, customer_id: int, case_ids: list[int],
                          team_ids: frozenset[int] | None) -> list[AnswerLine]:
    """The customer's completed responses that are not on one of ``case_ids`` (answers without a case, e.g. a
    relationship survey), newest first; ``team_ids`` (an actor's visible teams, None = all) limits them to
    answers routed to those teams."""
    stmt = select(Response).where(Response.id.in_(response_ids_of(customer_id)), Response.completed.is_(True))
    if case_ids:
        stmt = stmt.where(or_(Response.case_id.is_(None), Response.case_id.not_in(case_ids)))
    if team_ids is not None:
        stmt = stmt.where(Response.team_id.in_(sorted(team_ids) or [-1]))
    responses = session.scalars(stmt.order_by(Response.submitted_at.desc(), Response.id.desc())).all()
    return _answer_lines(session, responses)


def _answer_lines(session: Session, responses) -> list[AnswerLine]:
    """One AnswerLine per response, in the order given."""
    if not responses:
        return []
    moments = {m.id: m for m in session.scalars(select(Moment))}
    by_key = {(m.journey_id, m.key): m for m in moments.values()}
    case_ids = sorted({r.case_id for r in responses if r.case_id is not None})
    journey_of = dict(session.execute(select(Case.id, Case.journey_id).where(Case.id.in_(case_ids))).all()
                      ) if case_ids else {}
    grades: dict[int, list[tuple[str, float]]] = {}
    for rid, key, value in session.execute(
            select(Answer.response_id, Answer.question_key, Answer.value_num)
            .where(Answer.response_id.in_([r.id for r in responses]),
                   Answer.question_key.startswith(MOMENT_KEY_PREFIX, autoescape=True),
                   Answer.value_num.is_not(None))):
        grades.setdefault(rid, []).append((key.removeprefix(MOMENT_KEY_PREFIX), float(value)))
    patterns = VerbatimSettings().customer_patterns
    ids = [r.id for r in responses]
    # the verbatim analysis's text is redacted with the customer's own name too; without one, redact here
    analysed = {rid: (text, language) for rid, text, language in session.execute(
        select(Verbatim.response_id, Verbatim.text, Verbatim.language).where(Verbatim.response_id.in_(ids)))}
    customer_ids = sorted({r.customer_id for r in responses if r.customer_id is not None})
    names = dict(session.execute(select(Customer.id, Customer.name).where(Customer.id.in_(customer_ids))).all()
                 ) if customer_ids else {}
    out: list[AnswerLine] = []
    for r in responses:
        journey = journey_of.get(r.case_id)
        graded = []
        for key, value in grades.get(r.id, []):
            # a moment key is unique within its journey: the case's journey, else any journey holding it
            m = by_key.get((journey, key)) or next((m for (_, k), m in by_key.items() if k == key), None)
            if m is not None:
                graded.append((m.position, m.id, GradedMoment(m.key, m.name_nl, m.name_en, value)))
        graded.sort(key=lambda g: g[:2])
        about = moments.get(r.moment_id) if r.moment_id is not None else None
        moment = None
        if about is not None:
            value = next((g.value for _, mid, g in graded if mid == about.id), None)
            moment = GradedMoment(about.key, about.name_nl, about.name_en,
                                  value if value is not None else (float(r.grade) if r.grade is not None else None))
        name = names.get(r.customer_id)
        text, language = analysed.get(r.id, (None, None))
        comment = (text or redact(r.comment, patterns, [name] if name else None).text) if r.comment else None
        language = language if language in ("nl", "en") else r.language
        out.append(AnswerLine(r.id, r.submitted_at, moment, [g for _, _, g in graded], r.nps, r.grade, r.ces,
                              r.csat, comment or None, r.channel, r.customer_id, language))
    return out


def step_marks(events: pd.DataFrame, calendar: OpeningHours | None = None, config: FactsConfig | None = None
               ) -> list[tuple[list[str], str | None, str | None]]:
    """Per event of one case (``events`` as `load_events` returns them, in order): its kinds,
    the team it was handed from, and its line change - read off the kernel's facts.

    An event is a contact, after hours, a handoff, a line change or a reopening when it
    raised that count of the facts of its prefix; it closes the case when its prefix is
    closed. Whether it leaves the case waiting on the customer is the kernel's verdict on
    the event alone, given time after it (``as_of`` a day after the last event).
    """
    n = len(events)
    if n == 0:
        return []
    config = replace(config or FactsConfig(), as_of=events["timestamp"].max() + pd.Timedelta(days=1))
    # plain arrays of what the kernel reads: the prefixes copy them O(events^2) times
    columns = {c: events[c].array if c == "timestamp" else events[c].to_numpy(dtype=object) for c in _KERNEL_COLUMNS}
    # event i alone is the case -(i + 1); the prefix of length k is the case k
    alone = pd.DataFrame({"case_id": -np.arange(1, n + 1), **columns, "file_order": np.arange(n)})
    parts = []
    for block, (first, last) in enumerate(_prefix_blocks(n)):
        frames = [_prefixes(columns, first, last)] + ([alone] if block == 0 else [])
        parts.append(case_facts(pd.concat(frames, ignore_index=True), calendar, config))
    facts = pd.concat(parts)
    waiting = facts["waiting_on_customer_hours"].reindex([str(-i) for i in range(1, n + 1)]).to_numpy() > 0
    facts = facts.reindex([str(k) for k in range(1, n + 1)])
    grew = dict(zip(_COUNTS, (facts[_COUNTS].diff().fillna(facts[_COUNTS]).to_numpy() > 0).T))
    closed = facts["closed"].to_numpy(dtype=bool)
    facing = events["customer_facing"].to_numpy(dtype=bool, na_value=False)
    previous_team = events["team"].ffill().shift(1).to_numpy(dtype=object)
    marks = []
    for i in range(n):
        kinds = ["contact"] if grew["inbound_contacts"][i] else []
        kinds += ["after_hours"] if grew["after_hours_contacts"][i] else []
        kinds += ["told"] if facing[i] else []
        kinds += ["waiting"] if waiting[i] else []
        kinds += ["handoff"] if grew["handoffs"][i] else []
        kinds += ["reopened"] if grew["reopenings"][i] else []
        kinds += ["closed"] if closed[i] else []
        line = "front_to_back" if grew["front_to_back"][i] else "back_to_front" if grew["back_to_front"][i] else None
        marks.append((kinds, _text(previous_team[i]) if grew["handoffs"][i] else None, line))
    return marks


def _prefix_blocks(n: int) -> list[tuple[int, int]]:
    """Prefix lengths [first, last] per kernel call, at most PREFIX_ROWS events each (at least one prefix)."""
    blocks, first = [], 1
    while first <= n:
        last, rows = first, first
        while last < n and rows + last + 1 <= PREFIX_ROWS:
            last += 1
            rows += last
        blocks.append((first, last))
        first = last + 1
    return blocks


def _prefixes(columns: dict[str, np.ndarray], first: int, last: int) -> pd.DataFrame:
    """The prefixes of lengths first..last as cases of their own, named by their length."""
    lengths = np.arange(first, last + 1)
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    positions = np.arange(lengths.sum()) - starts  # 0..k-1 for the prefix of length k
    return pd.DataFrame({"case_id": np.repeat(lengths, lengths), **{c: v[positions] for c, v in columns.items()},
                         # the events keep their stored order (which breaks timestamp ties) in every prefix
                         "file_order": np.arange(len(positions), dtype=np.int64)})


def _text(value) -> str | None:
    """A nullable text value of the frame (missing is NaN there) as the page wants it."""
    return None if pd.isna(value) else str(value)


def _dark_periods(steps: list[Step], still_open: bool, now: datetime | None) -> list[DarkPeriod]:
    """Open stretches without a customer-facing event, as the kernel measures them:
    a stretch starts at the first event, a customer-facing event or a reopening and
    runs until the next such boundary; time while closed does not count."""
    out: list[DarkPeriod] = []
    start: datetime | None = None
    closed = False
    for i, s in enumerate(steps):
        boundary = i == 0 or s.customer_facing or "reopened" in s.kinds
        if boundary:
            if start is not None and not closed:
                _add(out, start, s.at)
            start = s.at
        elif "closed" in s.kinds and start is not None and not closed:
            _add(out, start, s.at)
            start = None
        closed = "closed" in s.kinds
        if closed:
            start = None
    if start is not None and not closed and still_open and now is not None:
        _add(out, start, now, ongoing=True)
    return out


def _add(out: list[DarkPeriod], start: datetime, end: datetime, ongoing: bool = False) -> None:
    hours = (end - start).total_seconds() / 3600.0
    if hours >= DARK_MIN_HOURS:
        out.append(DarkPeriod(start, end, hours, ongoing))


def as_json(t: Timeline) -> dict:
    """The timeline for the API (scope read:cases): the answers are left out, they need read:responses."""
    iso = lambda d: d.isoformat() if d else None  # noqa: E731
    return {
        "case": t.case.external_id,
        "steps": [{"at": iso(s.at), "activity": s.activity, "channel": s.channel, "direction": s.direction,
                   "team": s.team, "actor": s.actor, "customer_facing": s.customer_facing, "kinds": s.kinds,
                   "handoff_from": s.handoff_from, "line_change": s.line_change} for s in t.steps],
        "dark_periods": [{"start": iso(d.start), "end": iso(d.end), "hours": round(d.hours, 2), "ongoing": d.ongoing}
                         for d in t.dark_periods],
        "promises": [{"kind": p.kind, "made_at": iso(p.made_at), "due_at": iso(p.due_at), "status": p.status,
                      "settled_at": iso(p.settled_at)} for p in t.promises],
    }
