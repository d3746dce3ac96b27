"""The administrator's pages of trigger rules (/admin/trigger-rules): which case event sends which survey,
after what delay, to what share of the customers, how often at most; list, create, edit, switch on and off.

A rule is validated and stored by `invitations.rules.upsert_rule`, the same as a rules file
(`servicepulse triggers load`) and PUT /api/v1/trigger-rules/{key}; its problems are shown per field in the
reader's language. Every change is audited ("trigger_rule.set", "trigger_rule.on", "trigger_rule.off").

Who sees it: administrators and analysts read (with each rule's decisions so far); administrators change.
It holds no personal data: a rule names a survey, a journey and an activity; the decisions are counted."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import func, select

from servicepulse.errors import NotFound, ValidationFailed
from servicepulse.http import params
from servicepulse.http.auth import CurrentUser, require_role
from servicepulse.http.deps import DbSession
from servicepulse.http.form_problems import FieldProblem, field_problems
from servicepulse.http.i18n import request_language
from servicepulse.http.templating import render
from servicepulse.invitations import rules
from servicepulse.models import Journey, Survey
from servicepulse.models.invitations import DECISION_REASONS, TriggerDecision, TriggerRule
from servicepulse.org import record_audit

router = APIRouter(prefix="/admin/trigger-rules", dependencies=[Depends(require_role("admin", "analyst"))])
Admin = Depends(require_role("admin"))
FIELDS = ("key", "survey", "journey", "activity", "delay", "sample_percent", "throttle_days", "require_closed",
          "max_event_age_hours", "expires_days", "reminder_after_days", "active")
DONE = ("created", "saved", "on", "off")


def delay_text(minutes: int) -> str:
    """Minutes as the rules file writes them: 1d, 2h, 90m (read back by `rules.parse_delay`)."""
    for unit, size in (("d", 1440), ("h", 60)):
        if minutes and minutes % size == 0:
            return f"{minutes // size}{unit}"
    return f"{minutes}m"


def delay_parts(minutes: int) -> tuple[int, str]:
    """(number, unit) to say the delay in words: (2, "hours"), (1, "days"), (0, "minutes")."""
    for unit, size in (("days", 1440), ("hours", 60)):
        if minutes and minutes % size == 0:
            return minutes // size, unit
    return minutes, "minutes"


def _decisions(session) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = {}
    for rule_id, reason, n in session.execute(select(TriggerDecision.rule_id, TriggerDecision.reason, func.count())
                                              .group_by(TriggerDecision.rule_id, TriggerDecision.reason)):
        counts.setdefault(rule_id, dict.fromkeys(DECISION_REASONS, 0))[reason] = int(n)
    return counts


@router.get("")
def rules_page(request: Request, session: DbSession, user: CurrentUser, done: str = "",
               rule: Annotated[str, Query(max_length=80)] = ""):
    names = dict(session.execute(select(Survey.key, Survey.name)).all())
    journeys = {key: (nl, en) for key, nl, en in session.execute(select(Journey.key, Journey.name_nl, Journey.name_en))}
    decisions = _decisions(session)
    rows = [{"rule": r, "survey_name": names.get(r.survey_key, r.survey_key), "delay": delay_parts(r.delay_minutes),
             "journey": journeys.get(r.journey_key),
             "decisions": decisions.get(r.id, {}), "total": sum(decisions.get(r.id, {}).values())}
            for r in rules.list_rules(session)]
    notice = done if done in DONE and rule and any(r.key == rule for r in rules.list_rules(session)) else ""
    return render(request, "invitations/trigger_rules.html", {
        "rows": rows, "may_edit": user.role == "admin", "notice": notice, "notice_rule": rule,
        "reasons": DECISION_REASONS})


def _plain(key: str) -> bool:
    """A rule key worth looking up: some text without control characters (PostgreSQL refuses NUL)."""
    try:
        return bool(params.clean_text(key, "rule", limit=80))
    except params.ParamError:
        return False


def _choices(session) -> dict:
    return {"surveys": session.execute(select(Survey.key, Survey.name).order_by(Survey.name)).all(),
            "journeys": session.execute(select(Journey.key, Journey.name_nl, Journey.name_en).order_by(Journey.id)).all()}


def _form(request: Request, session, *, values: dict, editing: str | None, problems: list[FieldProblem],
          status_code: int = 200):
    return render(request, "invitations/trigger_rule_form.html", {
        "values": values, "editing": editing, "problems": problems, "problem_fields": {p.field for p in problems},
        "fields": FIELDS,
        **_choices(session)}, status_code=status_code)


NEW_RULE = {"key": "", "survey": "", "journey": "", "activity": "", "delay": "0m", "sample_percent": "100",
            "throttle_days": "30", "require_closed": False, "max_event_age_hours": "72", "expires_days": "14",
            "reminder_after_days": "3", "active": True}


def _number(value: float) -> str:
    return f"{value:g}"


@router.get("/new", dependencies=[Admin])
def new_rule_page(request: Request, session: DbSession):
    return _form(request, session, values=dict(NEW_RULE), editing=None, problems=[])


@router.get("/edit", dependencies=[Admin])
def edit_rule_page(request: Request, session: DbSession, rule: Annotated[str, Query(max_length=80)] = ""):
    row = session.scalar(select(TriggerRule).where(TriggerRule.key == rule)) if _plain(rule) else None
    if row is None:
        raise NotFound(f"trigger rule {params.shown(rule)!r} does not exist")
    survey = session.get(Survey, row.survey_id)
    journey = session.get(Journey, row.journey_id) if row.journey_id else None
    values = {"key": row.key, "survey": survey.key if survey else "", "journey": journey.key if journey else "",
              "activity": row.activity, "delay": delay_text(row.delay_minutes),
              "sample_percent": _number(row.sample_percent), "throttle_days": str(row.throttle_days),
              "require_closed": row.require_closed, "max_event_age_hours": str(row.max_event_age_hours),
              "expires_days": str(row.expires_days),
              "reminder_after_days": "" if row.reminder_after_days is None else str(row.reminder_after_days),
              "active": row.active}
    return _form(request, session, values=values, editing=row.key, problems=[])


@router.post("", dependencies=[Admin])
def save_rule(request: Request, session: DbSession, me: CurrentUser, editing: Annotated[str, Form()] = "",
              key: Annotated[str, Form()] = "", survey: Annotated[str, Form()] = "",
              journey: Annotated[str, Form()] = "", activity: Annotated[str, Form()] = "",
              delay: Annotated[str, Form()] = "0", sample_percent: Annotated[str, Form()] = "100",
              throttle_days: Annotated[str, Form()] = "30", require_closed: Annotated[str, Form()] = "",
              max_event_age_hours: Annotated[str, Form()] = "72", expires_days: Annotated[str, Form()] = "14",
              reminder_after_days: Annotated[str, Form()] = "", active: Annotated[str, Form()] = ""):
    """Create a rule (its key must be new) or save the one being edited (its key stays)."""
    texts = {"editing": editing, "key": editing or key, "survey": survey, "journey": journey, "activity": activity,
             "delay": delay, "sample_percent": sample_percent, "throttle_days": throttle_days,
             "max_event_age_hours": max_event_age_hours, "expires_days": expires_days,
             "reminder_after_days": reminder_after_days}
    problems: list[tuple[str, str]] = []
    for field, raw in list(texts.items()):
        try:
            texts[field] = (params.clean_text(raw, field, limit=200) or "").strip()
        except params.ParamError as exc:
            problems.append((field, exc.text(request)))
            texts[field] = ""
    values = {**texts, "require_closed": bool(require_closed), "active": bool(active)}
    editing = texts.pop("editing")
    existing = session.scalar(select(TriggerRule.id).where(TriggerRule.key == values["key"])) if values["key"] else None
    if editing and existing is None:
        raise NotFound(f"trigger rule {params.shown(editing)!r} does not exist")
    if not editing and existing is not None:
        problems.append(("key", "rule:exists"))
    if not problems:
        raw = {"key": values["key"], "survey": values["survey"], "journey": values["journey"] or None,
               "activity": values["activity"], "delay": values["delay"] or "0",
               "sample_percent": values["sample_percent"].replace(",", ".") or "100",
               "throttle_days": values["throttle_days"] or "0", "require_closed": values["require_closed"],
               "max_event_age_hours": values["max_event_age_hours"] or "72",
               "expires_days": values["expires_days"] or "14",
               "reminder_after_days": values["reminder_after_days"] or None, "active": values["active"]}
        try:
            rules.upsert_rule(session, raw)
        except ValidationFailed as exc:
            session.rollback()
            problems += [(str(where).removeprefix("rule/").split("/")[0] or "rule", message)
                         for where, message in exc.problems]
        else:
            record_audit(session, f"user:{me.id}", "trigger_rule.set", {"rule": values["key"]})
            done = "saved" if editing else "created"
            return RedirectResponse(f"/admin/trigger-rules?done={done}&rule={values['key']}", status_code=303)
    return _form(request, session, values=values, editing=editing or None, problems=_texts(request, problems),
                 status_code=422)


def _texts(request: Request, problems: list[tuple[str, str]]) -> list[FieldProblem]:
    exists = request.app.state.catalogue.translate("admin.rules.exists", request_language(request))
    out = []
    for field, message in problems:
        out += [FieldProblem(field, exists)] if message == "rule:exists" else field_problems(request, [(field, message)])
    return out


@router.post("/toggle", dependencies=[Admin])
def toggle_rule(session: DbSession, me: CurrentUser, rule: Annotated[str, Form()] = "",
                active: Annotated[str, Form()] = ""):
    """Switch a rule on (active=1) or off (anything else): an off rule invites nobody; its decisions stay."""
    if not _plain(rule) or session.scalar(select(TriggerRule.id).where(TriggerRule.key == rule)) is None:
        raise NotFound(f"trigger rule {params.shown(rule)!r} does not exist")
    on = active == "1"
    rules.set_active(session, rule, on)
    session.flush()
    record_audit(session, f"user:{me.id}", "trigger_rule.on" if on else "trigger_rule.off", {"rule": rule})
    return RedirectResponse(f"/admin/trigger-rules?done={'on' if on else 'off'}&rule={rule}", status_code=303)
