"""`load_demo`: the demo organisation, generated and written in one transaction.

The data are generated in memory first (`generate.py`), then written in a
single transaction: the organisation, users, journeys, surveys and projects
through the ORM and the domain services, the big tables (customers, cases,
events, promises, responses, answers) in bulk with explicit ids
(`bulk.py`). Either the whole demo is there afterwards or nothing changed.

On SQLite, foreign-key checks are switched off for the load connection while
it writes (the generator's ids are consistent by construction, and the
checks double the insert time); `PRAGMA foreign_key_check` passes afterwards
(the tests check it). On PostgreSQL the id sequences are moved past the
explicit ids at the end.

With ``reset=True`` every row of every table is deleted first (not only the
demo's): the demo is meant for a database of its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from servicepulse.cases import facts_store
from servicepulse.demo import bulk, contacts, expectation_answers, recovery
from servicepulse.demo import invitations as demo_invitations
from servicepulse.demo.catalogue import (
    DEPARTMENTS,
    JOURNEYS,
    ORGANISATION_KEY,
    SHOWN_LOGINS,
    TEAMS,
)
from servicepulse.demo.generate import SIZES, DemoData, generate
from servicepulse.demo.organisation import (
    create_journeys,
    create_organisation,
    hash_demo_passwords,
)
from servicepulse.demo.projects import create_projects
from servicepulse.demo.surveys import create_journey_surveys
from servicepulse.errors import ServicepulseError, ValidationFailed
from servicepulse.models import (
    Answer,
    Base,
    Case,
    CaseEvent,
    Customer,
    Invitation,
    OrgUnit,
    Promise,
    Response,
)
from servicepulse.models.invitations import TextMessage

ProgressCallback = Callable[[str, int, int], None]


class DemoAlreadyLoaded(ServicepulseError):
    """The database already holds the demo organisation."""


class DemoConflict(ServicepulseError):
    """Other data in the database clash with the demo's (same keys or e-mail addresses)."""


@dataclass(frozen=True)
class DemoLoginInfo:
    role: str
    email: str
    password: str


@dataclass(frozen=True)
class DemoSummary:
    size: str
    seed: int
    first_day: date
    last_day: date
    departments: int
    teams: int
    users: int
    journeys: int
    moments: int
    customers: int
    cases: int
    events: int
    promises: int
    surveys: int
    responses: int
    answers: int
    projects: int
    seconds: float
    invitations: int = 0
    logins: tuple[DemoLoginInfo, ...] = field(default_factory=tuple)


def progress_callback(progress) -> ProgressCallback:
    """Accept a plain ``progress(stage, done, total)`` callable or a rich Progress."""
    if progress is None:
        return lambda stage, done, total: None
    if hasattr(progress, "add_task") and hasattr(progress, "update"):
        tasks: dict[str, object] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=max(total, 1))
            progress.update(tasks[stage], completed=done, total=max(total, 1))
        return update
    return progress


def demo_loaded(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.scalar(select(OrgUnit.id).where(OrgUnit.key == ORGANISATION_KEY)) is not None


def _refuse() -> DemoAlreadyLoaded:
    return DemoAlreadyLoaded("the database already holds the demo organisation; use --reset to rebuild it")


def load_demo(engine: Engine, size: str = "small", seed: int = 2026, reset: bool = False,
              progress: ProgressCallback | None = None, end_date: date | None = None) -> DemoSummary:
    """Generate the Glasvezel Noord demo (`size`: tiny, small, medium, large) and write it.

    Raises DemoAlreadyLoaded when the demo is there already, unless ``reset``
    (which wipes every table first). ``progress`` is ``progress(stage, done,
    total)`` or a rich ``Progress`` (one task per stage). ``end_date``: the
    data end on the last day on or before it that keeps the stories' weekdays
    (None: the fixed 2026-10-31, as the tests expect).
    """
    if size not in SIZES:
        raise ValidationFailed(f"demo size {size!r} is unknown; choose one of {', '.join(SIZES)}",
                               [("size", f"one of {', '.join(SIZES)}")])
    started = time.perf_counter()
    report = progress_callback(progress)
    if not reset and demo_loaded(engine):
        raise _refuse()
    hashes = hash_demo_passwords()
    data = generate(size, seed, report, end_date=end_date)

    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        raw = conn.connection.driver_connection
        if sqlite:  # outside any transaction, or the pragma is ignored
            raw.execute("PRAGMA foreign_keys=OFF")
            raw.execute("PRAGMA cache_size=-131072")
        try:
            with conn.begin():
                if reset:
                    _wipe(conn)
                elif conn.scalar(select(OrgUnit.id).where(OrgUnit.key == ORGANISATION_KEY)) is not None:
                    raise _refuse()
                counts = _write(conn, data, hashes.result(), report, seed)
                counts = expectation_answers.add(conn, data, counts, seed)  # demo/expectation_answers.py
                _store_case_facts(conn, report)
        except (IntegrityError, ValidationFailed) as exc:
            # e.g. a user with a demo e-mail address created by hand; nothing was written
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            raise DemoConflict(
                f"the database holds data that clashes with the demo ({reason}); load the demo into an empty "
                "database, or use --reset to delete everything first"
            ) from None
        finally:
            if sqlite:
                raw.execute("PRAGMA foreign_keys=ON")
                raw.execute("PRAGMA cache_size=-2000")

    return DemoSummary(
        size=size, seed=seed, first_day=data.first_day, last_day=data.last_day, seconds=time.perf_counter() - started,
        logins=tuple(DemoLoginInfo(u.role, u.email, u.password) for u in SHOWN_LOGINS), **counts,
    )


def _store_case_facts(conn, report: ProgressCallback) -> None:
    """Fill ``case_facts`` the way the cases domain does on ingest, so the dashboard's case pages and the
    key-driver analysis read the same stored facts (in the load's own transaction)."""
    from sqlalchemy.orm import Session


    report("case facts", 0, 1)
    with Session(bind=conn) as session:
        facts_store.recompute_all(session)
        session.flush()
    report("case facts", 1, 1)


def _wipe(conn) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    if conn.dialect.name == "postgresql":
        conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
    else:
        for t in tables:
            conn.execute(text(f'DELETE FROM "{t}"'))


def _write(conn, data: DemoData, password_hashes: dict[str, str], report: ProgressCallback,
           seed: int) -> dict[str, int]:
    created_at = pd.Timestamp(data.first_day, tz="Europe/Amsterdam").tz_convert("UTC").to_pydatetime()
    report("organisation", 0, 1)
    session = Session(bind=conn)
    try:
        org = create_organisation(session, password_hashes)
        jids = create_journeys(session, org.departments)
        surveys = create_journey_surveys(session, created_at)
        n_projects = create_projects(session, jids.moments, created_at)
        recovery.create_root_causes(session, jids.journeys)
        recovery.create_budgets(session, org.teams, data.last_day)
        session.flush()
    finally:
        session.close()
    report("organisation", 1, 1)

    teams = org.teams
    # -- customers ---------------------------------------------------------
    c = data.customers
    cust_base = bulk.next_id(conn, Customer.__table__)
    cust_ids = cust_base + np.arange(len(c))
    _bulk(conn, Customer.__table__, "customers", report, {
        "id": cust_ids, "external_id": c["external_id"], "name": c["name"], "email": c["email"],
        "phone": c["phone"], "language": c["language"], "segment": c["segment"],
        "attributes": ["{}"] * len(c), "opted_out_at": c["opted_out_at"], "created_at": c["created_at"],
    })

    # -- cases ---------------------------------------------------------------
    k = data.cases
    case_base = bulk.next_id(conn, Case.__table__)
    case_id_of = pd.Series(case_base + np.arange(len(k)), index=k.index)
    first_channel = data.events.groupby("case")["channel"].first().reindex(k.index)
    _bulk(conn, Case.__table__, "cases", report, {
        "id": case_id_of.to_numpy(), "external_id": k["external_id"],
        "journey_id": k["journey"].map(jids.journeys).to_numpy(dtype=np.int64),
        "customer_id": cust_base + k["customer"].to_numpy(),
        "opened_at": k["opened_at"], "closed_at": k["closed_at"],
        "last_team_id": k["last_team"].map(teams),
        "attributes": [f'{{"first_channel": "{ch}"}}' for ch in first_channel.tolist()],
    })

    # -- events --------------------------------------------------------------
    e = data.events
    moment_key = list(zip(e["journey"].tolist(), e["moment"].tolist()))
    event_base = bulk.next_id(conn, CaseEvent.__table__)
    _bulk(conn, CaseEvent.__table__, "events", report, {
        "id": event_base + np.arange(len(e)), "case_id": case_id_of.reindex(e["case"]).to_numpy(),
        "occurred_at": e["occurred_at"], "seq": e["seq"].to_numpy(), "activity": e["activity"],
        "channel": e["channel"], "direction": e["direction"], "actor": e["actor"],
        "team_id": e["team"].map(teams), "line": e["line"], "customer_facing": e["customer_facing"].to_numpy(),
        "moment_id": [jids.moments.get(mk) for mk in moment_key],
        "attributes": contacts.event_attributes(e),  # handling times (demo/contacts.py)
        "ingested_at": e["occurred_at"],  # as if the events had streamed in live
    })

    # -- promises ------------------------------------------------------------
    p = data.promises
    promise_base = bulk.next_id(conn, Promise.__table__)
    _bulk(conn, Promise.__table__, "promises", report, {
        "id": promise_base + np.arange(len(p)), "case_id": case_id_of.reindex(p["case"]).to_numpy(),
        "kind": p["kind"], "made_at": p["made_at"], "due_at": p["due_at"], "window_start": p["window_start"],
        "status": p["status"], "kept_at": p["kept_at"], "broken_at": p["broken_at"],
        "made_by_team_id": p["team"].map(teams), "source": ["event"] * len(p),
    })

    # -- invitations and their text messages (demo/invitations.py) -----------------------------------------
    sent = demo_invitations.build(data, seed)
    i = sent.invitations
    version_of = {j: s.version_id for j, s in surveys.items()}
    inv_base = bulk.next_id(conn, Invitation.__table__)
    inv_ids = inv_base + np.arange(len(i))
    _bulk(conn, Invitation.__table__, "invitations", report, {
        "id": inv_ids, "token_hash": i["token_hash"],
        "survey_version_id": i["journey"].map(version_of).to_numpy(dtype=np.int64),
        "customer_id": cust_base + i["customer"].to_numpy(), "case_id": case_id_of.reindex(i["case"]).to_numpy(),
        "channel": i["channel"], "language": i["language"], "status": i["status"], "created_at": i["sent_at"],
        "scheduled_at": i["sent_at"], "sent_at": i["sent_at"], "reminder_sent_at": i["reminder_sent_at"],
        "expires_at": i["expires_at"], "responded_at": i["responded_at"],
    })
    x = sent.texts
    _bulk(conn, TextMessage.__table__, "text messages", report, {
        "id": bulk.next_id(conn, TextMessage.__table__) + np.arange(len(x)),
        "invitation_id": inv_ids[x["invitation"].to_numpy()], "channel": ["sms"] * len(x),
        "provider": [demo_invitations.PROVIDER] * len(x),
        "provider_message_id": [f"demo-{n:08d}" for n in range(1, len(x) + 1)], "purpose": x["purpose"],
        "recipient_hash": x["recipient_hash"], "parts": x["parts"].to_numpy(), "status": x["status"],
        "error_code": x["error_code"], "sent_at": x["at"], "status_at": x["status_at"],
    })

    # -- responses and answers ---------------------------------------------
    r = data.responses
    resp_base = bulk.next_id(conn, Response.__table__)
    resp_ids = resp_base + np.arange(len(r))
    journeys = r["journey"]
    _bulk(conn, Response.__table__, "responses", report, {
        "id": resp_ids, "external_id": r["external_id"],
        "survey_version_id": journeys.map({j: s.version_id for j, s in surveys.items()}).to_numpy(dtype=np.int64),
        "customer_id": cust_base + r["customer"].to_numpy(), "case_id": case_id_of.reindex(r["case"]).to_numpy(),
        "moment_id": journeys.map({j: s.moment_id for j, s in surveys.items()}).to_numpy(dtype=np.int64),
        "team_id": r["last_team"].map(teams), "channel": r["channel"], "language": r["language"],
        "submitted_at": r["submitted_at"], "created_at": r["submitted_at"], "completed": np.ones(len(r), bool),
        "nps": r["nps"].to_numpy(dtype=np.int64), "grade": r["grade"].to_numpy(dtype=np.int64),
        "ces": r["ces"].to_numpy(dtype=np.int64), "comment": r["comment"],
        "invitation_id": inv_ids[sent.response_invitation],
    })
    answers = _answers(data, resp_ids)
    answer_base = bulk.next_id(conn, Answer.__table__)
    answers["id"] = answer_base + np.arange(len(answers))
    _bulk(conn, Answer.__table__, "answers", report, {c: answers[c] for c in
                                                       ("id", "response_id", "question_key", "value_num",
                                                        "value_text", "value_json")})
    bulk.fix_sequences(conn, [Customer.__table__, Case.__table__, CaseEvent.__table__, Promise.__table__,
                              Invitation.__table__, TextMessage.__table__, Response.__table__, Answer.__table__])
    return {
        "departments": len(DEPARTMENTS), "teams": len(TEAMS), "users": org.users, "journeys": len(JOURNEYS),
        "moments": len(jids.moments), "customers": len(c), "cases": len(k), "events": len(e),
        "promises": len(p), "surveys": len(surveys), "responses": len(r), "answers": len(answers),
        "projects": n_projects, "invitations": len(i),
    }


def _bulk(conn, table, stage: str, report: ProgressCallback, columns: dict) -> None:
    n = len(next(iter(columns.values())))
    report(stage, 0, n)
    bulk.write(conn, table, columns, lambda done: report(stage, done, n))
    report(stage, n, n)


def _answers(data: DemoData, resp_ids: np.ndarray) -> pd.DataFrame:
    """One answer per question the respondent answered: the three headline
    scores, a grade per moment they went through, and the why (with the
    causes written into it in value_json)."""
    r = data.responses
    frames = []
    for key in ("nps", "grade", "ces"):
        frames.append(pd.DataFrame({"response_id": resp_ids, "question_key": key,
                                    "value_num": r[key].to_numpy(dtype=float)}))
    g = data.moment_grades
    frames.append(pd.DataFrame({"response_id": resp_ids[g["response"].to_numpy()],
                                "question_key": "moment_" + g["moment"],
                                "value_num": g["grade"].to_numpy(dtype=float)}))
    has = r["comment"].notna().to_numpy()
    why = pd.DataFrame({"response_id": resp_ids[has], "question_key": "why", "value_text": r["comment"][has].to_numpy()})
    why["value_json"] = [{"causes": [c for c, _ in causes], "sentiment": {c: s for c, s in causes}}
                         for causes in r["causes"][has]]
    frames.append(why)
    out = pd.concat(frames, ignore_index=True)
    out = out.sort_values(["response_id"], kind="stable").reset_index(drop=True)
    for col in ("value_num", "value_text", "value_json"):
        if col not in out:
            out[col] = None
    out["value_num"] = out["value_num"].astype(object).where(out["value_num"].notna(), None)
    out["value_text"] = out["value_text"].astype(object).where(out["value_text"].notna(), None)
    out["value_json"] = out["value_json"].astype(object).where(out["value_json"].notna(), None)
    return out
