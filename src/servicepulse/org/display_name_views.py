"""The display-names page (/admin/display-names): every activity, channel, department and case fact the data
holds, with its Dutch and English name on screen. Administrators edit them (per kind, or all at once by CSV
upload); analysts read them and download the CSV. Every change is written to the audit log (counts only: the
names are the organisation's own words, never a customer's).

What a page shows for a key is decided in one place, ``http.templating.display_label``: the name stored here,
else the shipped name, else the key as stored; so a change here shows on every page at once."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from servicepulse.errors import ValidationFailed
from servicepulse.http.auth import CurrentUser, require_role
from servicepulse.http.deps import DbSession
from servicepulse.http.i18n import request_language
from servicepulse.http.templating import SHIPPED_PREFIXES, render
from servicepulse.models import User
from servicepulse.org import record_audit
from servicepulse.org.display_names import (
    KINDS,
    MAX_NAME,
    keys_in_use,
    load_display_names,
    parse_csv,
    set_display_names,
    to_csv,
)

PATH = "/admin/display-names"
router = APIRouter()
MAX_UPLOAD = 1_000_000  # bytes: thousands of rows of names
DONE = ("saved", "uploaded")


def _shipped(request: Request, kind: str, key: str, fallback: str | None, language: str) -> str:
    """The name a key has without a display name: the shipped catalogue's, else the data's own, else the key."""
    catalogue = request.app.state.catalogue
    prefix = f"labels.{kind}"
    for shipped in SHIPPED_PREFIXES.get(prefix, (prefix,)):
        if f"{shipped}.{key}" in catalogue.messages:
            return catalogue.translate(f"{shipped}.{key}", language)
    return fallback or key


def _page(request: Request, session, *, done: str | None = None, problems: list[tuple[str, str]] | None = None,
          status_code: int = 200):
    names = load_display_names(session).names
    sections = []
    for kind, items in keys_in_use(session).items():
        rows = [{"key": k.key, "uses": k.uses, "stored": names.get((kind, k.key)),
                 "shipped": {lang: _shipped(request, kind, k.key, k.fallback, lang) for lang in ("nl", "en")}}
                for k in items]
        sections.append({"kind": kind, "rows": rows})
    return render(request, "org/display_names.html", {
        "sections": sections, "done": done if done in DONE else None, "problems": problems or [],
        "max_name": MAX_NAME, "path": PATH}, status_code=status_code)


def _problem_lines(request: Request, exc: ValidationFailed, keys: list[str] | None = None) -> list[tuple[str, str]]:
    """(where, what) in the reader's language: a row by its key where known, else by its number."""
    t = request.app.state.catalogue.translate
    language = request_language(request)
    lines = []
    for where, reason in exc.problems:
        row, _, column = str(where).partition(".")
        if row.isdigit() and keys is not None and 0 < int(row) <= len(keys):
            place = keys[int(row) - 1]
        elif row.isdigit():  # a CSV row: its line in the file, under the header line
            place = t("display_names.line", language, n=int(row) + 1)
        else:
            place = t("display_names.file", language)
        column_name = t(f"display_names.column.{column}", language) if column in ("kind", "key", "nl", "en") else ""
        lines.append((f"{place}{' · ' + column_name if column_name else ''}",
                      t(f"display_names.problem.{reason}", language, n=MAX_NAME)))
    return lines


@router.get(PATH, dependencies=[Depends(require_role("admin", "analyst"))])
def display_names_page(request: Request, session: DbSession, done: str | None = None):
    return _page(request, session, done=done)


@router.get(PATH + ".csv", dependencies=[Depends(require_role("admin", "analyst"))])
def display_names_csv(request: Request, session: DbSession):
    language = request_language(request)
    return Response(to_csv(session, language), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="display-names.csv"'})


@router.post(PATH, dependencies=[Depends(require_role("admin"))])
def save_display_names(request: Request, session: DbSession, me: CurrentUser,
                       kind: Annotated[str, Form()] = "",
                       key: Annotated[list[str], Form()] = [],  # noqa: B006
                       nl: Annotated[list[str], Form()] = [],  # noqa: B006
                       en: Annotated[list[str], Form()] = []):  # noqa: B006
    """One kind's names from its form: parallel lists of key, Dutch and English name (both empty: the shipped
    name again)."""
    if kind not in KINDS or not (len(key) == len(nl) == len(en)):
        exc = ValidationFailed("the form is incomplete", [("form", "form")])
        return _page(request, session, problems=_problem_lines(request, exc), status_code=400)
    rows = [{"kind": kind, "key": k, "nl": n, "en": e} for k, n, e in zip(key, nl, en, strict=True)]
    return _store(request, session, me, rows, "saved", keys=key)


@router.post(PATH + "/upload", dependencies=[Depends(require_role("admin"))])
def upload_display_names(request: Request, session: DbSession, me: CurrentUser,
                         file: Annotated[UploadFile | None, File()] = None):
    """A CSV as the download gives it (kind, key, nl, en; comma or semicolon), all rows or none."""
    try:
        raw = file.file.read(MAX_UPLOAD + 1) if file is not None and file.filename else b""
        if not raw:
            raise ValidationFailed("no file", [("file", "no_file")])
        if len(raw) > MAX_UPLOAD:
            raise ValidationFailed("file too large", [("file", "too_large")])
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationFailed("not UTF-8", [("file", "encoding")]) from None
        rows = parse_csv(text)
    except ValidationFailed as exc:
        return _page(request, session, problems=_problem_lines(request, exc), status_code=422)
    return _store(request, session, me, rows, "uploaded")


def _store(request: Request, session, me: User, rows: list[dict], done: str, keys: list[str] | None = None):
    try:
        stored, removed = set_display_names(session, rows)
    except ValidationFailed as exc:
        session.rollback()
        return _page(request, session, problems=_problem_lines(request, exc, keys), status_code=422)
    kinds = sorted({str(r.get("kind")) for r in rows})
    record_audit(session, f"user:{me.id}", "display_names.save" if done == "saved" else "display_names.upload",
                 {"kinds": kinds, "stored": stored, "removed": removed})
    return RedirectResponse(f"{PATH}?done={done}", status_code=303)
