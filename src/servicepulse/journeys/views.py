"""Dashboard pages of journey analytics: the journeys, one journey's moments,
variants and directly-follows graph (an SVG image), and the moment rules
editor: one rule at a time as a form, their order, each moment's kind and norm, and the whole rules file
(YAML: text, upload, download) for power users; the same validation for all (repository.replace_rules)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from servicepulse.errors import ValidationFailed
from servicepulse.http import params
from servicepulse.http.auth import CurrentUser, require_role
from servicepulse.http.deps import DbSession
from servicepulse.http.errors import error_page
from servicepulse.http.filter_bar import filter_context, parse_filter
from servicepulse.http.form_problems import problem_text
from servicepulse.http.i18n import request_language
from servicepulse.http.templating import base_context, display_label, render
from servicepulse.journeys import analytics, repository
from servicepulse.journeys.dfg import MAX_ARCS, dfg_svg
from servicepulse.journeys.process_repository import ProcessFilter
from servicepulse.models import Journey, Moment
from servicepulse.models.journeys import DEFAULT_NORMS, MOMENT_KINDS
from servicepulse.org import record_audit

VIEWERS = ("admin", "analyst", "teamlead")
EDITORS = ("admin", "analyst")
router = APIRouter(prefix="/journeys", dependencies=[Depends(require_role(*VIEWERS))])


def _journey(session, key: str) -> Journey | None:
    return session.scalar(select(Journey).where(Journey.key == key))


@router.get("")
def journeys_page(request: Request, session: DbSession):
    return render(request, "journeys/list.html", {"journeys": analytics.journeys_summary(session)})


def _rules_page(request: Request, session, text: str, problems: list[tuple[str, str]], saved: int | None,
                status_code: int = 200, saved_moments: bool = False):
    moments = _moment_choices(session)
    names = {m["ref"]: m for m in moments}
    rules = [{"n": n, **item, "about": names.get(item["moment"])}
             for n, item in enumerate(repository.list_rules(session), start=1)]
    user = getattr(request.state, "user", None)
    return render(request, "journeys/rules.html", {
        "text": text, "problems": [(w, problem_text(request, m)) for w, m in problems], "saved": saved,
        "saved_moments": saved_moments, "moments": moments, "rules": rules, "kinds": MOMENT_KINDS,
        "may_edit": getattr(user, "role", None) in EDITORS}, status_code=status_code)


@router.get("/rules")
def rules_page(request: Request, session: DbSession, saved: str = "", saved_moments: str = ""):
    count = int(saved) if saved.isascii() and saved.isdigit() and len(saved) < 7 else None
    return _rules_page(request, session, repository.rules_yaml(session), [], count, saved_moments=saved_moments == "1")


@router.post("/rules", dependencies=[Depends(require_role(*EDITORS))])
def rules_save(request: Request, session: DbSession, user: CurrentUser, rules: str = Form("")):
    try:
        try:
            parsed = repository.parse_rules_yaml(rules)
        except RecursionError:  # '[' * 100000: deeper than the YAML parser goes
            raise ValidationFailed("the rules are nested too deeply", [("rules", "nested too deeply to read")]) from None
        n = repository.replace_rules(session, parsed)
        record_audit(session, f"user:{user.id}", "moment_rules.replace", {"rules": n})
    except ValidationFailed as exc:
        session.rollback()
        return _rules_page(request, session, rules, exc.problems, None, status_code=422)
    return _rules_page(request, session, repository.rules_yaml(session), [], n)


# --- the moment rules as forms: one rule at a time, their order, each moment's kind and norm; the YAML
# (text, upload and download) stays for power users. Every change goes through repository.replace_rules. ---

RULE_FIELDS = ("moment", "activity", "pattern", "channel", "team")


def _moment_choices(session) -> list[dict]:
    rows = session.execute(select(Moment, Journey.key, Journey.name_nl, Journey.name_en)
                           .join(Journey, Journey.id == Moment.journey_id).order_by(Journey.id, Moment.position)).all()
    return [{"id": m.id, "ref": f"{jk}/{m.key}", "name_nl": m.name_nl, "name_en": m.name_en, "kind": m.kind,
             "norm": m.norm, "journey_nl": jnl, "journey_en": jen} for m, jk, jnl, jen in rows]


def _rule_form(request: Request, session, *, n: int | None, values: dict, problems: list, status_code: int = 200):
    return render(request, "journeys/rule_form.html", {
        "n": n, "values": values, "problems": problems, "problem_fields": {f for f, _ in problems},
        "moments": _moment_choices(session), "fields": RULE_FIELDS}, status_code=status_code)


def _position(raw: str, count: int) -> int | None:
    """A rule's place (1 .. count) from a form or query value; None when it is not one."""
    try:
        n = params.parse_int(raw, "n")
    except params.ParamError:
        return None
    return n if n is not None and n <= count else None


@router.get("/rules/rule", dependencies=[Depends(require_role(*EDITORS))])
def rule_page(request: Request, session: DbSession, n: str = ""):
    items = repository.list_rules(session)
    if not n:
        return _rule_form(request, session, n=None, values={"active": True}, problems=[])
    position = _position(n, len(items))
    if position is None:
        return error_page(request, 404)
    return _rule_form(request, session, n=position, values={"active": True, **items[position - 1]}, problems=[])


def _replace(request: Request, session, user, items: list[dict], what: str):
    """Store `items` through the one validation (repository.replace_rules); the problems, or None when stored."""
    try:
        n = repository.replace_rules(session, items)
    except ValidationFailed as exc:
        session.rollback()
        return exc.problems
    record_audit(session, f"user:{user.id}", "moment_rules.replace", {"rules": n, "change": what})
    return None


@router.post("/rules/rule", dependencies=[Depends(require_role(*EDITORS))])
def rule_save(request: Request, session: DbSession, user: CurrentUser, n: str = Form(""), moment: str = Form(""),
              activity: str = Form(""), pattern: str = Form(""), channel: str = Form(""), team: str = Form(""),
              active: str = Form("")):
    """Add a rule (at the end) or change rule `n`."""
    items = repository.list_rules(session)
    position = _position(n, len(items)) if n else None
    if n and position is None:
        return error_page(request, 404)
    values: dict = {"active": bool(active)}
    problems: list[tuple[str, str]] = []
    for field, raw in zip(RULE_FIELDS, (moment, activity, pattern, channel, team)):
        try:
            text = params.clean_text(raw, field, limit=repository.LIMITS.get(field, 200))
        except params.ParamError as exc:
            problems.append((field, exc.text(request)))
            text = None
        if text:
            values[field] = text
    if not problems:
        item = {k: v for k, v in values.items() if k != "active" or not v}
        changed = [*items[:position - 1], item, *items[position:]] if position else [*items, item]
        found = _replace(request, session, user, changed, "rule changed" if position else "rule added")
        if found is None:
            return RedirectResponse(f"/journeys/rules?saved={len(changed)}", status_code=303)
        where = position or len(changed)
        for place, message in found:
            rule, _, field = str(place).partition(".")
            if rule == f"rule {where}":
                problems.append((field or "activity", message))
    return _rule_form(request, session, n=position, values=values,
                      problems=[(f, problem_text(request, m)) for f, m in problems], status_code=422)


@router.post("/rules/rule/remove", dependencies=[Depends(require_role(*EDITORS))])
def rule_remove(request: Request, session: DbSession, user: CurrentUser, n: str = Form("")):
    items = repository.list_rules(session)
    position = _position(n, len(items))
    if position is None:
        return error_page(request, 404)
    _replace(request, session, user, [*items[:position - 1], *items[position:]], "rule removed")
    return RedirectResponse(f"/journeys/rules?saved={len(items) - 1}", status_code=303)


@router.post("/rules/rule/move", dependencies=[Depends(require_role(*EDITORS))])
def rule_move(request: Request, session: DbSession, user: CurrentUser, n: str = Form(""), to: str = Form("")):
    """Move rule `n` one place up or down: the first rule that matches counts, so the order matters."""
    items = repository.list_rules(session)
    position = _position(n, len(items))
    if position is None or to not in ("up", "down"):
        return error_page(request, 404)
    other = position - 1 if to == "up" else position + 1
    if 1 <= other <= len(items):
        items[position - 1], items[other - 1] = items[other - 1], items[position - 1]
        _replace(request, session, user, items, "rule moved")
    return RedirectResponse(f"/journeys/rules?saved={len(items)}", status_code=303)


@router.post("/rules/moments", dependencies=[Depends(require_role(*EDITORS))])
def moments_save(request: Request, session: DbSession, user: CurrentUser,
                 moment: list[str] = Form([]), kind: list[str] = Form([]), norm: list[str] = Form([])):  # noqa: B008
    """Each moment's kind (functional: a 7 meets expectations; emotional, a moment of truth: a 9) and norm."""
    if not (len(moment) == len(kind) == len(norm)):
        return error_page(request, 400)
    changes, problems = [], []
    for raw_id, raw_kind, raw_norm in zip(moment, kind, norm):
        try:
            moment_id = params.parse_int(raw_id, "moment")
            value = params.parse_number(raw_norm, "norm", low=1, high=10)
        except params.ParamError as exc:
            problems.append(("norm", exc.text(request)))
            continue
        row = session.get(Moment, moment_id) if moment_id is not None else None
        if row is None or raw_kind not in MOMENT_KINDS:
            return error_page(request, 404 if row is None else 400)
        changes.append((row, raw_kind, value if value is not None else DEFAULT_NORMS[raw_kind]))
    if problems:
        return _rules_page(request, session, repository.rules_yaml(session), problems, None, status_code=422)
    changed = [(row.id, kind_, norm_) for row, kind_, norm_ in changes if (row.kind, row.norm) != (kind_, norm_)]
    for row, kind_, norm_ in changes:
        row.kind, row.norm = kind_, norm_
    session.flush()
    record_audit(session, f"user:{user.id}", "moments.kind_norm", {"changed": [list(c) for c in changed]})
    return RedirectResponse("/journeys/rules?saved_moments=1", status_code=303)


@router.get("/rules.yaml")
def rules_file(session: DbSession):
    return Response(repository.rules_yaml(session), media_type="application/x-yaml",
                    headers={"Content-Disposition": 'attachment; filename="moment-rules.yaml"'})


@router.post("/rules/upload", dependencies=[Depends(require_role(*EDITORS))])
def rules_upload(request: Request, session: DbSession, user: CurrentUser,
                 file: UploadFile | None = File(None)):  # noqa: B008
    """The rules file uploaded as a whole, as the text box saves it."""
    data = file.file.read(2_000_000) if file is not None else b""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return _rules_page(request, session, "", [("rules", "the file is not UTF-8 text")], None, status_code=422)
    return rules_save(request, session, user, text)


# The analytics pages' filter bar: the period (cases opened in it), the team that last worked the case and the
# customer's segment. A case has no one channel or answer language: those filters are not offered here.
OFFERED = ("team", "segment")
NOT_HERE = ("journey", "channel", "language")


def _process_filter(request: Request, journey: Journey) -> tuple[ProcessFilter, list[str]]:
    f, _, problems = parse_filter(request, base_context(request)["t"], journey_id=journey.id)
    return ProcessFilter(journey.id, f.date_from, f.date_to, f.team_id, f.segment), problems


@router.get("/{key}")
def journey_page(request: Request, session: DbSession, key: params.PathKey):
    journey = _journey(session, key)
    if journey is None:
        return error_page(request, 404)
    f, problems = _process_filter(request, journey)
    view = analytics.journey_view(session, journey, f)
    return render(request, "journeys/journey.html", {
        "view": view, "max_arcs": MAX_ARCS, "problems": problems, "offered": OFFERED,
        **filter_context(request, session, f"/journeys/{journey.key}", fixed=NOT_HERE)})


@router.get("/{key}/dfg.svg")
def journey_dfg(request: Request, session: DbSession, key: params.PathKey):
    journey = _journey(session, key)
    if journey is None:
        return error_page(request, 404)
    view = analytics.journey_view(session, journey, _process_filter(request, journey)[0])
    language = request_language(request)
    title = request.app.state.catalogue.translate("journeys.dfg_alt", language)
    def name(activity: str) -> str:  # the activity's display name in the reader's language
        return display_label(request, "labels.activity", activity, language)
    svg = dfg_svg([(name(a), name(b), count, hours) for a, b, count, hours in view.dfg],
                  {name(a): n for a, n in view.activities.items()}, language,
                  starts={name(a): n for a, n in view.starts.items()}, title=title)
    return Response(svg, media_type="image/svg+xml",
                    headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
                             "Cache-Control": "private, max-age=300"})
