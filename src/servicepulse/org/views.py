"""Administrator pages: users (create, change role, teams and language, deactivate, activate, reset the
password, unlock after failed logins) and API keys (create, shown once; revoke; their user, scopes and last
use), and the Administration page (/admin) that links every administrator screen. The same actions exist on
the command line (`servicepulse user ...`, `servicepulse apikey ...`) with the same rules: the service in
servicepulse/org/service.py checks them. Every change is recorded in the audit log (`record_audit`, actor
"user:<id>").

Who sees what: users and keys are for administrators only; the Administration page also for analysts, who
read survey definitions, trigger rules, the code frame and the moment rules there (read-only where they may
not change them). Personal data: a user's name and e-mail, shown to administrators only; a generated password
or a new key is shown once on the answering page (never in a URL, never logged) and stored hashed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from servicepulse.errors import NotFound, ValidationFailed
from servicepulse.http import params
from servicepulse.http.auth import CurrentUser, require_role
from servicepulse.http.deps import DbSession
from servicepulse.http.form_problems import FieldProblem, field_problems
from servicepulse.http.i18n import LANGUAGES, request_language
from servicepulse.http.params import MAX_ID
from servicepulse.http.templating import render
from servicepulse.http.throttle import ACCOUNT_POLICY
from servicepulse.models import ApiKey, OrgUnit, TeamMembership, User
from servicepulse.models.org import ROLES
from servicepulse.org import SCOPES, record_audit, service
from servicepulse.org.access import DEFAULT_SCOPES, ROLE_SCOPES, allowed_scopes, effective_scopes, parse_scopes

router = APIRouter(prefix="/admin", dependencies=[Depends(require_role("admin"))])
# The Administration page: administrators and analysts (who read survey definitions, rules and the code frame).
area_router = APIRouter(dependencies=[Depends(require_role("admin", "analyst"))])
MEMBERSHIPS = ("member", "lead")


@area_router.get("/admin")
def admin_area(request: Request, user: CurrentUser):
    return render(request, "org/admin.html", {"is_admin": user.role == "admin"})


def _user(session, user_id: int) -> User:
    user = session.get(User, user_id) if 1 <= user_id <= MAX_ID else None  # beyond the id column: none
    if user is None:
        raise NotFound(f"there is no user {user_id}")
    return user


def _teams(session) -> list[OrgUnit]:
    return list(session.scalars(select(OrgUnit).where(OrgUnit.kind == "team").order_by(OrgUnit.name)))


def _users_page(request: Request, session, me: User, *, notice: dict | None = None,
                new_password: str | None = None, status_code: int = 200):
    teams = dict(session.execute(select(OrgUnit.id, OrgUnit.name)).all())
    rows = [{"user": u, "teams": sorted((teams.get(m.team_id, "?"), m.is_lead) for m in u.memberships),
             "locked": (u.failed_logins or 0) >= ACCOUNT_POLICY.free, "me": u.id == me.id} for u in service.list_users(session)]
    return render(request, "org/users.html", {"rows": rows, "notice": notice, "new_password": new_password},
                  status_code=status_code)


DONE = ("deactivated", "activated", "unlocked", "updated")


@router.get("/users")
def users_page(request: Request, session: DbSession, me: CurrentUser, done: str | None = None,
               user: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None):
    notice = None
    if done in DONE and user is not None and (target := session.get(User, user)) is not None:
        notice = {"key": f"org.users.done.{done}", "email": target.email}
    return _users_page(request, session, me, notice=notice)


def _done(key: str, user: User) -> RedirectResponse:
    return RedirectResponse(f"/admin/users?done={key}&user={user.id}", status_code=303)


# --- creating a user, changing one's role, teams and language ------------------------------------------

def _user_form(request: Request, session, *, target: User | None, values: dict, problems: list[FieldProblem],
               status_code: int = 200):
    return render(request, "org/user_form.html", {
        "target": target, "values": values, "problems": problems, "roles": ROLES, "languages": LANGUAGES,
        "teams": _teams(session), "memberships": MEMBERSHIPS,
        "problem_fields": {p.field for p in problems}}, status_code=status_code)


def _values_of(user: User | None) -> dict:
    if user is None:
        return {"name": "", "email": "", "role": "agent", "language": "nl", "teams": {}}
    return {"name": user.name, "email": user.email, "role": user.role, "language": user.language,
            "teams": {m.team_id: "lead" if m.is_lead else "member" for m in user.memberships}}


def _read_teams(session, chosen: list[str], problems: list[tuple[str, str]]) -> dict[int, str]:
    """The form's team choices ("member:<id>", "lead:<id>", "" for none) as {team id: member|lead}."""
    teams = {t.id for t in _teams(session)}
    out: dict[int, str] = {}
    for value in chosen:
        if not value:
            continue
        kind, _, raw_id = value.partition(":")
        try:
            team_id = params.parse_int(raw_id, "team")
        except params.ParamError:
            team_id = None
        if kind not in MEMBERSHIPS or team_id not in teams:
            problems.append(("teams", f"'{params.shown(value)}' is not a team of this organisation"))
            continue
        out[team_id] = kind
    return out


def _form_values(request: Request, name: str, email: str, role: str, language: str, team: list[str],
                 problems: list[tuple[str, str]]) -> dict:
    values = {"name": name, "email": email, "role": role, "language": language}
    for field, limit in (("name", 200), ("email", 254)):
        try:
            values[field] = params.clean_text(values[field], field, limit=limit) or ""
        except params.ParamError as exc:
            problems.append((field, exc.text(request)))
            values[field] = ""
    if not values["name"].strip():
        problems.append(("name", "Field required"))
    if role not in ROLES:
        problems.append(("role", f"role '{params.shown(role)}' is unknown"))
        values["role"] = "agent"
    if language not in LANGUAGES:
        problems.append(("language", "language must be nl or en"))
        values["language"] = "nl"
    return values


@router.get("/users/new")
def new_user_page(request: Request, session: DbSession):
    return _user_form(request, session, target=None, values=_values_of(None), problems=[])


@router.post("/users")
def create_user(request: Request, session: DbSession, me: CurrentUser, name: Annotated[str, Form()] = "",
                email: Annotated[str, Form()] = "", role: Annotated[str, Form()] = "agent",
                language: Annotated[str, Form()] = "nl", team: Annotated[list[str], Form()] = []):  # noqa: B006
    """A new user with a generated password, shown once on the answering page (as the reset does)."""
    problems: list[tuple[str, str]] = []
    values = _form_values(request, name, email, role, language, team, problems)
    values["teams"] = _read_teams(session, team, problems)
    if not problems:
        keys = {t.id: t.key for t in _teams(session)}
        password = service.generated_password()
        try:
            user = service.create_user(
                session, values["email"].strip(), values["name"].strip(), password, values["role"],
                teams=[keys[i] for i, kind in values["teams"].items() if kind == "member"],
                lead_of=[keys[i] for i, kind in values["teams"].items() if kind == "lead"],
                language=values["language"])
        except ValidationFailed as exc:
            session.rollback()
            problems += exc.problems
        else:
            record_audit(session, f"user:{me.id}", "user.create", {"user_id": user.id, "role": user.role})
            return _users_page(request, session, me, notice={"key": "org.users.done.created", "email": user.email},
                               new_password=password)
    return _user_form(request, session, target=None, values=values, problems=field_problems(request, problems),
                      status_code=422)


@router.get("/users/{user_id:int}/edit")
def edit_user_page(request: Request, session: DbSession, user_id: int):
    target = _user(session, user_id)
    return _user_form(request, session, target=target, values=_values_of(target), problems=[])


@router.post("/users/{user_id:int}/edit")
def edit_user(request: Request, session: DbSession, me: CurrentUser, user_id: int,
              role: Annotated[str, Form()] = "", language: Annotated[str, Form()] = "",
              team: Annotated[list[str], Form()] = []):  # noqa: B006
    """Change a user's role, teams and language. The role and teams bound their API keys too (within the key
    cache's seconds); an administrator cannot take the administrator role from themselves."""
    target = _user(session, user_id)
    problems: list[tuple[str, str]] = []
    values = _form_values(request, target.name, target.email, role, language, team, problems)
    values["teams"] = _read_teams(session, team, problems)
    if target.id == me.id and values["role"] != "admin":
        problems.append(("role", "not_yourself"))
    if problems:
        return _user_form(request, session, target=target, values=values,
                          problems=_own_role_problem(request, field_problems(request, problems)), status_code=422)
    before = {"role": target.role, "teams": sorted(m.team_id for m in target.memberships)}
    target.role, target.language = values["role"], values["language"]
    wanted = dict(values["teams"])
    for membership in list(target.memberships):
        kind = wanted.pop(membership.team_id, None)
        if kind is None:
            target.memberships.remove(membership)
        else:
            membership.is_lead = kind == "lead"
    for team_id, kind in wanted.items():
        target.memberships.append(TeamMembership(team_id=team_id, is_lead=kind == "lead"))
    session.flush()
    record_audit(session, f"user:{me.id}", "user.update", {
        "user_id": target.id, "role": target.role, "role_before": before["role"],
        "teams": sorted(m.team_id for m in target.memberships), "teams_before": before["teams"]})
    return _done("updated", target)


def _own_role_problem(request: Request, problems: list[FieldProblem]) -> list[FieldProblem]:
    text = request.app.state.catalogue.translate("org.users.own_role", request_language(request))
    return [FieldProblem(p.field, text) if p.text == "not_yourself" else p for p in problems]


# --- deactivate, activate, unlock, reset --------------------------------------------------------------

@router.post("/users/{user_id:int}/deactivate")
def deactivate(request: Request, user_id: int, session: DbSession, me: CurrentUser):
    user = _user(session, user_id)
    if user.id == me.id:  # an administrator cannot lock themselves out
        return _users_page(request, session, me, notice={"key": "org.users.not_yourself", "email": me.email},
                           status_code=409)
    service.set_active(session, user, False)
    record_audit(session, f"user:{me.id}", "user.deactivate", {"user_id": user.id})
    return _done("deactivated", user)


@router.post("/users/{user_id:int}/activate")
def activate(user_id: int, session: DbSession, me: CurrentUser):
    user = service.set_active(session, _user(session, user_id), True)
    record_audit(session, f"user:{me.id}", "user.activate", {"user_id": user.id})
    return _done("activated", user)


@router.post("/users/{user_id:int}/unlock")
def unlock(user_id: int, session: DbSession, me: CurrentUser):
    user = service.unlock(session, _user(session, user_id))
    record_audit(session, f"user:{me.id}", "user.unlock", {"user_id": user.id})
    return _done("unlocked", user)


@router.post("/users/{user_id:int}/reset-password")
def reset_password(request: Request, user_id: int, session: DbSession, me: CurrentUser):
    """A generated password, shown once on the page that answers (not in a URL); the user's sessions end."""
    user = _user(session, user_id)
    password = service.generated_password()
    service.set_password(session, user, password)
    record_audit(session, f"user:{me.id}", "user.password_reset", {"user_id": user.id})
    return _users_page(request, session, me, notice={"key": "org.users.done.password_reset", "email": user.email},
                       new_password=password)


# --- API keys: list, create (shown once), revoke -------------------------------------------------------

def _keys_page(request: Request, session, *, new_key: dict | None = None, problems: list[FieldProblem] | None = None,
               values: dict | None = None, notice: str | None = None, status_code: int = 200):
    users = {u.id: u for u in session.scalars(select(User))}
    rows = []
    for key in service.list_api_keys(session):
        user = users.get(key.created_by_id) if key.created_by_id else None
        granted = parse_scopes(key.scopes)
        usable = effective_scopes(granted, user.role if user else None)
        rows.append({"key": key, "user": user, "granted": sorted(granted), "unusable": sorted(granted - usable)})
    active = sorted((u for u in users.values() if u.active), key=lambda u: u.email)
    roles_of = {scope: [role for role in ROLES if scope in ROLE_SCOPES[role]] for scope in SCOPES}
    return render(request, "org/api_keys.html", {
        "rows": rows, "role_scopes": ROLE_SCOPES, "scopes": list(SCOPES), "roles_of": roles_of,
        "users": active, "new_key": new_key, "problems": problems or [], "notice": notice,
        "values": values or {"name": "", "user": None, "scopes": list(DEFAULT_SCOPES)}}, status_code=status_code)


@router.get("/api-keys")
def api_keys_page(request: Request, session: DbSession, done: str = ""):
    return _keys_page(request, session, notice="revoked" if done == "revoked" else None)


def _key_problems(exc: ValidationFailed, role: str | None, scopes: list[str]) -> list[tuple[str, str]]:
    """The service's refusals (`create_api_key`: field and a short code) as form problems."""
    out = []
    for field, code in exc.problems:
        if code == "beyond the role":
            beyond = ", ".join(s for s in scopes if s not in allowed_scopes(role))
            out.append((field, f"key:beyond|{beyond}|{role}"))
        elif code in ("required", "duplicate", "unknown"):
            out.append((field, f"key:{field}_{code}"))
        else:
            out.append((field, str(exc)))
    return out


def _key_texts(request: Request, problems: list[tuple[str, str]]) -> list[FieldProblem]:
    t, language = request.app.state.catalogue.translate, request_language(request)
    out = []
    for field, message in problems:
        if message.startswith("key:beyond|"):
            _, beyond, role = message.split("|")
            out.append(FieldProblem(field, t("org.keys.problem.beyond", language, scopes=beyond,
                                             role=t(f"web.role.{role}", language))))
        elif message.startswith("key:"):
            out.append(FieldProblem(field, t(f"org.keys.problem.{message[4:]}", language)))
        else:
            out.extend(field_problems(request, [(field, message)]))
    return out


@router.post("/api-keys")
def create_api_key(request: Request, session: DbSession, me: CurrentUser, name: Annotated[str, Form()] = "",
                   user: Annotated[str, Form()] = "", scope: Annotated[list[str], Form()] = []):  # noqa: B006
    """A key acting for `user` with the chosen scopes (what the user's role allows: the service refuses more).
    The key is shown once, on this answer; only its hash is stored."""
    problems: list[tuple[str, str]] = []
    try:
        name = (params.clean_text(name, "name", limit=100) or "").strip()
    except params.ParamError as exc:
        problems.append(("name", exc.text(request)))
        name = ""
    acting = None
    try:
        user_id = params.parse_int(user, "user")
    except params.ParamError as exc:
        problems.append(("user", exc.text(request)))
        user_id = None
    if user_id is not None:
        acting = session.get(User, user_id)
    if acting is None or not acting.active:
        problems.append(("user", "key:user_required"))
    scopes = [s for s in dict.fromkeys(scope) if s]
    values = {"name": name, "user": acting.id if acting else None, "scopes": scopes}
    if not problems:
        try:
            new = service.create_api_key(session, name, created_by=acting, scopes=scopes or None)  # none: the defaults
        except ValidationFailed as exc:
            session.rollback()
            problems = _key_problems(exc, acting.role, scopes)
        else:
            made = service.find_api_key(session, name)
            granted = sorted(service.key_scopes(made))
            record_audit(session, f"user:{me.id}", "apikey.create", {"key_id": made.id, "user_id": acting.id,
                                                                      "scopes": granted})
            return _keys_page(request, session, new_key={"name": new.name, "key": new.key, "email": acting.email,
                                                         "scopes": granted})
    return _keys_page(request, session, problems=_key_texts(request, problems), values=values, status_code=422)


@router.post("/api-keys/{key_id:int}/revoke")
def revoke_api_key(key_id: int, session: DbSession, me: CurrentUser):
    """Revoke a key; running servers refuse it within the key cache's seconds."""
    key = session.get(ApiKey, key_id) if 1 <= key_id <= MAX_ID else None
    if key is None:
        raise NotFound(f"there is no API key {key_id}")
    service.revoke_api_key(session, key.name)
    record_audit(session, f"user:{me.id}", "apikey.revoke", {"key_id": key.id})
    return RedirectResponse("/admin/api-keys?done=revoked", status_code=303)
