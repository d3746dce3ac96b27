"""Queries on analysed comments: filters, score aggregates per theme (in SQL), the theme indicator matrix."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, case, exists, func, literal, or_, select
from sqlalchemy.orm import Session

from servicepulse.analytics_store.reader import Reader, contains_text, raw_reader
from servicepulse.models import Answer, Case, Customer, Moment, Response, Verbatim, VerbatimMention

SENTIMENT_CUT = 0.05  # |sentiment| below this counts as neutral
NPS_GROUPS = ("detractor", "passive", "promoter")
SENTIMENTS = ("negative", "neutral", "positive")


@dataclass(frozen=True)
class VerbatimFilter:
    themes: tuple[str, ...] = ()        # leaf theme keys (a parent theme is passed as its leaves)
    sentiment: str | None = None        # negative / neutral / positive
    moment_id: int | None = None
    moment_themes: tuple[str, ...] = ()  # leaf themes about that moment (CodeFrame.about_moment)
    nps_group: str | None = None        # detractor / passive / promoter
    date_from: date | None = None
    date_to: date | None = None         # inclusive
    language: str | None = None
    extra: dict = field(default_factory=dict)
    team_ids: frozenset[int] | None = None  # an Actor's visible teams (None: all): the comments they may read
    search: str | None = None  # words the comment contains (A-Z in either case; no wildcards)
    # the analytics pages' filter bar: the response's journey, channel, team and the customer's segment
    journey_id: int | None = None
    channel: str | None = None
    team_id: int | None = None
    segment: str | None = None


def _day_start(d: date) -> datetime:
    return datetime.combine(d, time(0), tzinfo=UTC)


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def conditions(f: VerbatimFilter, dialect: str = "sqlite") -> list:
    """WHERE conditions on Verbatim joined with Response (``dialect`` spells the text search)."""
    out = [Response.completed.is_(True)]  # a comment counts once its answers are sent, not while saved
    if f.team_ids is not None:
        out.append(Response.team_id.in_(sorted(f.team_ids) or [-1]))
    if f.themes:
        out.append(exists().where(VerbatimMention.response_id == Verbatim.response_id,
                                  VerbatimMention.theme.in_(list(f.themes))))
    if f.sentiment == "negative":
        out.append(Verbatim.sentiment <= -SENTIMENT_CUT)
    elif f.sentiment == "positive":
        out.append(Verbatim.sentiment >= SENTIMENT_CUT)
    elif f.sentiment == "neutral":
        out.append(and_(Verbatim.sentiment > -SENTIMENT_CUT, Verbatim.sentiment < SENTIMENT_CUT))
    if f.moment_id is not None:
        out.append(graded_moment(f.moment_id, f.moment_themes))
    if f.nps_group == "detractor":
        out.append(Response.nps <= 6)
    elif f.nps_group == "passive":
        out.append(Response.nps.between(7, 8))
    elif f.nps_group == "promoter":
        out.append(Response.nps >= 9)
    if f.date_from is not None:
        out.append(Response.submitted_at >= _day_start(f.date_from))
    if f.date_to is not None:
        out.append(Response.submitted_at < _day_start(f.date_to + timedelta(days=1)))
    if f.language:
        out.append(Verbatim.language == f.language)
    if f.search:
        out.append(contains_text(Verbatim.text, f.search, dialect))
    if f.journey_id is not None:  # the response's journey: its moment's, else its case's (as the metric queries)
        out.append(or_(Response.moment_id.in_(select(Moment.id).where(Moment.journey_id == f.journey_id)),
                       and_(Response.moment_id.is_(None),
                            Response.case_id.in_(select(Case.id).where(Case.journey_id == f.journey_id)))))
    if f.channel is not None:
        out.append(Response.channel == f.channel)
    if f.team_id is not None:
        out.append(Response.team_id == f.team_id)
    if f.segment is not None:
        out.append(Response.customer_id.in_(select(Customer.id).where(Customer.segment == f.segment)))
    return out


def themes_about_moment(session: Session, codeframe, moment_id: int) -> tuple[str, ...]:
    """The code frame's themes about this moment (by its key; ``CodeFrame.about_moment``)."""
    key = session.scalar(select(Moment.key).where(Moment.id == moment_id))
    return tuple(codeframe.about_moment(key)) if key else ()


def graded_moment(moment_id: int, themes: Sequence[str] = ()):
    """The response is about this moment: it graded it (an answer ``moment_<key>`` within the journey of its
    case, as the metric queries match grades), it was sent for it (``responses.moment_id``), or its comment
    mentions one of ``themes`` (the themes about the moment) within that journey. A journey-end answer that
    grades several moments is about each of them."""
    mg = select(Moment.key, Moment.journey_id).where(Moment.id == moment_id).subquery("graded_moment")
    same_journey = or_(Response.case_id.is_(None),
                       exists().where(Case.id == Response.case_id,
                                      or_(Case.journey_id.is_(None), Case.journey_id == mg.c.journey_id)))
    graded = exists().where(Answer.response_id == Response.id, Answer.value_num.is_not(None),
                            Answer.question_key == literal("moment_") + mg.c.key, same_journey)
    if not themes:
        return or_(Response.moment_id == moment_id, graded)
    mentioned = and_(same_journey, exists().where(VerbatimMention.response_id == Response.id,
                                                  VerbatimMention.theme.in_(list(themes))))
    return or_(Response.moment_id == moment_id, graded, mentioned)


def _score_columns():
    """Counts and sums from which NPS and the mean/sd of grade and CES follow (portable SQL)."""
    one = literal(1)
    return [
        func.count().label("n"),
        func.sum(case((Response.nps <= 6, one), else_=0)).label("detractors"),
        func.sum(case((Response.nps.between(7, 8), one), else_=0)).label("passives"),
        func.sum(case((Response.nps >= 9, one), else_=0)).label("promoters"),
        func.count(Response.grade).label("grade_n"),
        func.sum(Response.grade).label("grade_sum"),
        func.sum(Response.grade * Response.grade).label("grade_sq"),
        func.count(Response.ces).label("ces_n"),
        func.sum(Response.ces).label("ces_sum"),
        func.sum(Response.ces * Response.ces).label("ces_sq"),
        func.sum(case((Verbatim.sentiment <= -SENTIMENT_CUT, one), else_=0)).label("negative"),
    ]


def score_totals(session: Session, f: VerbatimFilter) -> dict:
    """Aggregates over every analysed comment matching `f`."""
    q = select(*_score_columns()).select_from(Verbatim).join(Response, Response.id == Verbatim.response_id)
    row = session.execute(q.where(*conditions(f, _dialect(session)))).mappings().one()
    return {k: int(v or 0) for k, v in row.items()}


def score_totals_by_theme(session: Session, f: VerbatimFilter, groups: dict[str, Sequence[str]]) -> dict[str, dict]:
    """Aggregates over the comments mentioning each group of leaf themes (group key -> leaf keys);
    a comment counts once per group however often it mentions it."""
    out = {}
    base = conditions(VerbatimFilter(**{**f.__dict__, "themes": ()}), _dialect(session))
    for key, leaves in groups.items():
        if not leaves:
            continue
        has = exists().where(VerbatimMention.response_id == Verbatim.response_id,
                             VerbatimMention.theme.in_(list(leaves)))
        q = (select(*_score_columns()).select_from(Verbatim).join(Response, Response.id == Verbatim.response_id)
             .where(has, *base))
        out[key] = {k: int(v or 0) for k, v in session.execute(q).mappings().one().items()}
    return out


def monthly_counts(session: Session, f: VerbatimFilter, groups: dict[str, Sequence[str]]) -> tuple[dict, dict]:
    """(totals per (year, month), {group: {(year, month): comments mentioning it}})."""
    y = func.extract("year", Response.submitted_at)
    m = func.extract("month", Response.submitted_at)
    base = conditions(VerbatimFilter(**{**f.__dict__, "themes": ()}), _dialect(session))
    q = (select(y, m, func.count()).select_from(Verbatim).join(Response, Response.id == Verbatim.response_id)
         .where(*base).group_by(y, m))
    totals = {(int(a), int(b)): int(c) for a, b, c in session.execute(q)}
    per: dict[str, dict] = {}
    for key, leaves in groups.items():
        has = exists().where(VerbatimMention.response_id == Verbatim.response_id,
                             VerbatimMention.theme.in_(list(leaves)))
        q = (select(y, m, func.count()).select_from(Verbatim).join(Response, Response.id == Verbatim.response_id)
             .where(has, *base).group_by(y, m))
        per[key] = {(int(a), int(b)): int(c) for a, b, c in session.execute(q)}
    return totals, per


BROWSE_COLUMNS = ("response_id", "text", "language", "sentiment", "submitted_at", "nps", "grade", "ces", "moment_id")


def browse(session: Session | Reader, f: VerbatimFilter, limit: int = 50, offset: int = 0):
    """(rows, total): comments matching `f`, newest first, each with its response's scores (the comment
    browser and its search: read from the analytics store when there is one)."""
    reader = raw_reader(session)
    q = (select(Verbatim.response_id, Verbatim.text, Verbatim.language, Verbatim.sentiment, Response.submitted_at,
                Response.nps, Response.grade, Response.ces, Response.moment_id)
         .join(Response, Response.id == Verbatim.response_id).where(*conditions(f, reader.dialect)))
    total = reader.scalar(select(func.count()).select_from(q.subquery()))
    rows = reader.rows(q.order_by(Response.submitted_at.desc(), Verbatim.response_id.desc()).limit(limit).offset(offset))
    return [dict(zip(BROWSE_COLUMNS, r)) for r in rows], int(total or 0)


def mentions_for(session: Session | Reader, response_ids: Iterable[int]) -> dict[int, list]:
    ids = list(response_ids)
    out: dict[int, list] = {i: [] for i in ids}
    if not ids:
        return out
    q = (select(VerbatimMention.response_id, VerbatimMention.start, VerbatimMention.end, VerbatimMention.theme,
                VerbatimMention.sentiment)
         .where(VerbatimMention.response_id.in_(ids)).order_by(VerbatimMention.response_id, VerbatimMention.start))
    for rid, s, e, th, sent in raw_reader(session).rows(q):
        out[rid].append((s, e, th, sent))
    return out


def example_comments(session: Session, f: VerbatimFilter, leaves: Sequence[str], n: int = 3,
                     tone: str = "negative") -> list[dict]:
    """The most negative (or, ``tone="positive"``, the most positive) comments mentioning one of `leaves`, by the
    sentiment of the mention's clause."""
    if tone not in ("negative", "positive"):
        raise ValueError(f"unknown tone {tone!r}")
    worst = func.min(VerbatimMention.sentiment) if tone == "negative" else -func.max(VerbatimMention.sentiment)
    q = (select(VerbatimMention.response_id, worst.label("worst"))
         .join(Verbatim, Verbatim.response_id == VerbatimMention.response_id)
         .join(Response, Response.id == Verbatim.response_id)
         .where(VerbatimMention.theme.in_(list(leaves)), *conditions(VerbatimFilter(**{**f.__dict__, "themes": ()}), _dialect(session)))
         .group_by(VerbatimMention.response_id).order_by(worst, VerbatimMention.response_id).limit(n))
    ids = [r[0] for r in session.execute(q)]
    if not ids:
        return []
    rows = {r["response_id"]: dict(r) for r in session.execute(
        select(Verbatim.response_id, Verbatim.text, Verbatim.language, Verbatim.sentiment, Response.nps,
               Response.ces, Response.submitted_at).join(Response, Response.id == Verbatim.response_id)
        .where(Verbatim.response_id.in_(ids))).mappings()}
    return [rows[i] for i in ids if i in rows]


def uncovered_comments(session: Session, limit: int = 3000) -> list[tuple[int, str, str]]:
    """Recent comments no theme covers: (response_id, redacted text, language), for theme discovery."""
    q = (select(Verbatim.response_id, Verbatim.text, Verbatim.language)
         .where(~exists().where(VerbatimMention.response_id == Verbatim.response_id))
         .order_by(Verbatim.response_id.desc()).limit(limit))
    return [tuple(r) for r in session.execute(q)]


def theme_matrix(session: Session, response_ids: Sequence[int] | None = None, themes: Sequence[str] | None = None,
                 codeframe=None):
    """A DataFrame indexed by response_id (every analysed comment, or those of `response_ids`),
    one 0/1 column per theme: 1 when the comment mentions the theme (parent themes roll up their
    children when `codeframe` is given). For the key-driver analysis: themes as drivers."""
    import pandas as pd

    vq = select(Verbatim.response_id)
    mq = select(VerbatimMention.response_id, VerbatimMention.theme).distinct()
    if response_ids is not None:
        ids = [int(i) for i in response_ids]
        vq = vq.where(Verbatim.response_id.in_(ids))
        mq = mq.where(VerbatimMention.response_id.in_(ids))
    index = pd.Index(sorted(session.scalars(vq)), name="response_id")
    pairs = pd.DataFrame(session.execute(mq).all(), columns=["response_id", "theme"])
    if codeframe is not None and not pairs.empty:
        known = set(codeframe.keys)
        extra = [(r, a) for r, t in pairs.itertuples(index=False) if t in known for a in codeframe.ancestors(t)]
        if extra:
            pairs = pd.concat([pairs, pd.DataFrame(extra, columns=["response_id", "theme"])]).drop_duplicates()
    cols = list(themes) if themes is not None else (
        list(codeframe.keys) if codeframe is not None else sorted(pairs["theme"].unique()))
    if pairs.empty:
        return pd.DataFrame(0, index=index, columns=cols, dtype="int8")
    pairs = pairs[pairs["theme"].isin(cols)]
    m = pd.crosstab(pairs["response_id"], pairs["theme"]).clip(upper=1)
    return m.reindex(index=index, columns=cols, fill_value=0).astype("int8")
