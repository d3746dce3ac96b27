"""Dashboard pages for verbatims: themes with trend and impact, the comment browser, the code frame,
theme discovery, and the department report (page and PDF)."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from servicepulse.errors import ValidationFailed
from servicepulse.http import params
from servicepulse.http.auth import require_role
from servicepulse.http.deps import DbSession
from servicepulse.http.errors import error_page
from servicepulse.http.filter_bar import filter_context
from servicepulse.http.i18n import request_language
from servicepulse.http.templating import base_context, render
from servicepulse.kernels.text import CodeFrameError, Theme, ThemeProposal, ThemeTerms, adopt_proposal, discover_themes
from servicepulse.models import Moment, OrgUnit, User
from servicepulse.org import Actor, record_audit
from servicepulse.verbatims import repository
from servicepulse.verbatims.analysis import count_pending
from servicepulse.verbatims.codeframes import (
    current_codeframe,
    departments,
    parse_codeframe,
    save_codeframe,
    set_theme_owner,
    theme_owners,
)
from servicepulse.verbatims.highlight import highlight
from servicepulse.verbatims.impact import leaf_groups, theme_impact
from servicepulse.verbatims.jobs import enqueue_analysis
from servicepulse.verbatims.report import department_list, department_report, report_pdf
from servicepulse.verbatims.repository import NPS_GROUPS, SENTIMENTS, VerbatimFilter

router = APIRouter()

Viewer = Annotated[User, Depends(require_role("admin", "analyst", "teamlead"))]
Editor = Annotated[User, Depends(require_role("admin", "analyst"))]
PAGE_SIZE = 50
BROWSER_CHARS = 2000  # a 10,000-character comment is cut on the list (with an ellipsis)
LANGUAGE_CHOICES = ("nl", "en", "other", "unknown")


def _checked(request: Request, problems: list, parse, raw: str, field: str, **kwargs):
    """A bounded value (servicepulse.http.params), or None with (field, message) added to ``problems``."""
    try:
        return parse(raw, field, **kwargs)
    except params.ParamError as exc:
        problems.append((field, exc.text(request)))
        return None


def _filter(request: Request, codeframe, problems: list, session=None) -> tuple[VerbatimFilter, dict]:
    q = request.query_params
    raw = {k: q.get(k, "") for k in ("theme", "sentiment", "moment", "nps", "from", "to", "language")}
    themes: tuple[str, ...] = ()
    if raw["theme"]:
        if raw["theme"] in codeframe.keys:
            themes = tuple(leaf_groups(codeframe)[raw["theme"]])
        else:
            problems.append(("theme", params.shown(raw["theme"])))
    moment = _checked(request, problems, params.parse_int, raw["moment"], "moment")
    for key, allowed in (("sentiment", SENTIMENTS), ("nps", NPS_GROUPS), ("language", LANGUAGE_CHOICES)):
        if raw[key] and raw[key] not in allowed:
            problems.append((key, params.shown(raw[key])))
            raw[key] = ""
    date_from = _checked(request, problems, params.parse_date, raw["from"], "from")
    date_to = _checked(request, problems, params.parse_date, raw["to"], "to")  # inclusive
    try:
        params.check_range(date_from, date_to, end_inclusive=True)
    except params.ParamError as exc:
        problems.append(("to", exc.text(request)))
        date_from = date_to = None
    for key in ("moment", "from", "to"):  # a refused value is not offered again in the form
        if any(field == key for field, _ in problems):
            raw[key] = ""
    about = ()
    if moment is not None and session is not None:  # comments whose themes are about the moment count for it too
        about = repository.themes_about_moment(session, codeframe, moment)
    f = VerbatimFilter(themes=themes, sentiment=raw["sentiment"] or None, moment_id=moment, moment_themes=about,
                       nps_group=raw["nps"] or None, date_from=date_from, date_to=date_to,
                       language=raw["language"] or None)
    return f, raw


def _theme_choices(codeframe, lang: str) -> list[tuple[str, str]]:
    return [(t.key, ("— " if t.parent else "") + t.label(lang)) for t in codeframe.themes]


@router.get("/verbatims")
def overview(request: Request, user: Viewer, session: DbSession):
    lang = request_language(request)
    codeframe, _ = current_codeframe(session)
    problems: list = []
    f, raw = _filter(request, codeframe, problems)
    f = VerbatimFilter(date_from=f.date_from, date_to=f.date_to)
    impacts, totals = theme_impact(session, codeframe, f, min_n=request.app.state.settings.min_n, language=lang)
    owners = theme_owners(session, codeframe)
    return render(request, "verbatims/overview.html", {
        "impacts": impacts, "totals": totals, "owners": owners, "raw": raw, "problems": problems,
        "pending": repository_pending(session),
    })


def repository_pending(session) -> int:

    return count_pending(session)


BAR_OFFERED = ("journey", "channel", "team", "segment")  # the filter bar's fields; period and language are the page's own


def _bar_and_search(request: Request, problems: list) -> tuple[dict, dict]:
    """The filter bar's journey, channel, team and segment, and the text search (``q``), bounded as everywhere."""
    q = request.query_params
    values = {
        "journey_id": _checked(request, problems, params.parse_int, q.get("journey", ""), "journey"),
        "channel": _checked(request, problems, params.clean_text, q.get("channel", ""), "channel"),
        "team_id": _checked(request, problems, params.parse_int, q.get("team", ""), "team"),
        "segment": _checked(request, problems, params.clean_text, q.get("segment", ""), "segment"),
        "search": _checked(request, problems, params.clean_text, q.get("q", ""), "q", limit=200),
    }
    kept = {k: q.get(k, "") for k in ("journey", "channel", "team", "segment", "q")}
    for key, name in (("journey_id", "journey"), ("channel", "channel"), ("team_id", "team"), ("segment", "segment"),
                      ("search", "q")):
        if values[key] is None:
            kept[name] = ""  # a refused value is not kept
    return values, kept


@router.get("/verbatims/comments")
def comments(request: Request, user: Viewer, session: DbSession,
             page: Annotated[int, Query(ge=1, le=params.MAX_PAGE)] = 1):
    lang = request_language(request)
    codeframe, _ = current_codeframe(session)
    problems: list = []
    f, raw = _filter(request, codeframe, problems, session)
    bar, kept = _bar_and_search(request, problems)
    # the comments themselves: the teams' own (access.py), within the bar's team when one is chosen
    f = replace(f, team_ids=Actor.of(user).visible_team_ids(), **bar)
    page = max(1, page)
    rows, total = repository.browse(session, f, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    spans = repository.mentions_for(session, [r["response_id"] for r in rows])
    labels = {t.key: t.label(lang) for t in codeframe.themes}
    for r in rows:
        found = spans[r["response_id"]]
        r["html"] = highlight(r["text"], [(s, e, th) for s, e, th, _ in found], max_chars=BROWSER_CHARS)
        r["themes"] = [labels.get(th, th) for th in dict.fromkeys(th for _, _, th, _ in found)]
    name = Moment.name_nl if lang == "nl" else Moment.name_en
    moments = session.execute(select(Moment.id, name).order_by(name)).all()
    bar_context = filter_context(request, session, "/verbatims/comments")
    query = urlencode({k: v for k, v in {**raw, **kept}.items() if v})  # kept by the page links
    return render(request, "verbatims/comments.html", {
        **bar_context, "offered": BAR_OFFERED, "search": kept["q"],
        "rows": rows, "total": total, "page": page, "pages": max(1, -(-total // PAGE_SIZE)), "raw": raw,
        "problems": problems, "theme_choices": _theme_choices(codeframe, lang), "moments": moments,
        "sentiments": SENTIMENTS, "nps_groups": NPS_GROUPS, "language_choices": LANGUAGE_CHOICES, "query": query,
    })


@router.get("/verbatims/departments")
def department_index(request: Request, user: Viewer, session: DbSession):
    lang = request_language(request)
    codeframe, _ = current_codeframe(session)
    labels = {t.key: t.label(lang) for t in codeframe.themes}
    return render(request, "verbatims/departments.html", {
        "departments": [(d, [labels[k] for k in keys]) for d, keys in department_list(session)]})


def _report_context(request: Request, session, key: str, pdf: bool = False) -> dict:
    lang = request_language(request)
    codeframe, _ = current_codeframe(session)
    problems: list = []
    f, raw = _filter(request, codeframe, problems)
    f = VerbatimFilter(date_from=f.date_from, date_to=f.date_to)
    report = department_report(session, key, f, min_n=request.app.state.settings.min_n, language=lang)
    query = urlencode({k: raw[k] for k in ("from", "to") if raw[k]})
    # later domains' sections (registry.DEPARTMENT_SECTIONS: the contacts and effort the department causes)
    sections = [section(request, session, report.department, f.date_from, f.date_to, pdf)
                for section in getattr(request.app.state, "department_sections", ())]
    return {"report": report, "raw": raw, "problems": problems, "query": query, "sections": sections}


@router.get("/verbatims/departments/{key}.pdf")
def department_pdf(request: Request, key: params.PathKey, user: Viewer, session: DbSession):
    context = base_context(request)
    context.update(_report_context(request, session, key, pdf=True))
    context["pdf"] = True
    html = request.app.state.templates.env.get_template("verbatims/department_pdf.html").render(context)
    filename = f"department-report-{key}.pdf".replace('"', "")
    return Response(report_pdf(html), media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/verbatims/departments/{key}")
def department_page(request: Request, key: params.PathKey, user: Viewer, session: DbSession):
    return render(request, "verbatims/department.html", {**_report_context(request, session, key), "pdf": False})


@router.get("/verbatims/codeframe")
def codeframe_page(request: Request, user: Editor, session: DbSession, saved: str = ""):
    lang = request_language(request)
    codeframe, version = current_codeframe(session)
    owners = theme_owners(session, codeframe)
    return render(request, "verbatims/codeframe.html", {
        "yaml_text": codeframe.to_yaml(), "version": version, "problems": [], "saved": saved,
        "themes": [(t.key, t.label(lang), owners.get(t.key)) for t in codeframe.themes],
        "departments": departments(session), "theme_rows": _theme_rows(codeframe, owners, lang),
    })


def _theme_rows(codeframe, owners: dict, lang: str) -> list[dict]:
    """The code frame's themes for the form's table: label, parent, keywords per language, owner."""
    return [{"key": t.key, "label": t.label(lang), "parent": t.parent, "depth": len(codeframe.ancestors(t.key)),
             "keywords": {lg: len(t.terms[lg].keywords) if lg in t.terms else 0 for lg in ("nl", "en")},
             "owner": owners.get(t.key), "children": bool(codeframe.children(t.key))} for t in codeframe.themes]


@router.get("/verbatims/codeframe.yaml")
def codeframe_file(request: Request, user: Editor, session: DbSession):
    codeframe, _ = current_codeframe(session)
    return Response(codeframe.to_yaml(), media_type="application/x-yaml",
                    headers={"Content-Disposition": 'attachment; filename="codeframe.yaml"'})


@router.post("/verbatims/codeframe")
def codeframe_save(request: Request, user: Editor, session: DbSession,
                   yaml_text: Annotated[str, Form()] = "", file: Annotated[UploadFile | None, File()] = None):
    lang = request_language(request)
    text = yaml_text
    if file is not None and file.filename:
        try:
            text = file.file.read(2_000_000).decode("utf-8")
        except UnicodeDecodeError:
            text = None
    try:
        if text is None:
            raise ValidationFailed("the file is not UTF-8 text", [("codeframe", "the file is not UTF-8 text")])
        try:
            codeframe = parse_codeframe(text)
        except RecursionError:  # '[' * 100000: deeper than the YAML parser goes
            raise ValidationFailed("nested too deeply", [("codeframe", "the code frame is nested too deeply to read")]) \
                from None
    except ValidationFailed as exc:
        current, version = current_codeframe(session)
        owners = theme_owners(session, current)
        return render(request, "verbatims/codeframe.html", {
            "yaml_text": text or "", "version": version, "problems": [m for _, m in exc.problems], "saved": "",
            "themes": [(t.key, t.label(lang), owners.get(t.key)) for t in current.themes],
            "departments": departments(session), "theme_rows": _theme_rows(current, owners, lang)}, status_code=422)
    save_codeframe(session, codeframe, user.id, note="edited on the dashboard")
    enqueue_analysis(session, reanalyse=True)
    return RedirectResponse("/verbatims/codeframe?saved=1", status_code=303)


# --- the code frame as a form: add, change or remove one theme (the YAML above stays for power users) ----

THEME_KEY = re.compile(r"[a-z][a-z0-9_]{0,63}")  # as the code frame requires (kernels/text/codeframe.py)
THEME_LIMITS = {"label_nl": 120, "label_en": 120, "keywords_nl": 4000, "keywords_en": 4000}


def _theme_values(theme=None, owner=None) -> dict:
    if theme is None:
        return {"key": "", "label_nl": "", "label_en": "", "parent": "", "department": "",
                "keywords_nl": "", "keywords_en": ""}
    words = {lang: "\n".join(theme.terms[lang].keywords) if lang in theme.terms else "" for lang in ("nl", "en")}
    return {"key": theme.key, "label_nl": theme.labels.get("nl", ""), "label_en": theme.labels.get("en", ""),
            "parent": theme.parent or "", "department": owner.key if owner else "",
            "keywords_nl": words["nl"], "keywords_en": words["en"]}


def _theme_form(request: Request, session, codeframe, *, editing: str | None, values: dict, problems: list,
                status_code: int = 200):
    lang = request_language(request)
    theme = codeframe.theme(editing) if editing else None
    kept = {lang_: {k: len(getattr(terms, k)) for k in ("lemmas", "patterns") if getattr(terms, k)}
            for lang_, terms in (theme.terms.items() if theme else ())}
    return render(request, "verbatims/codeframe_theme.html", {
        "editing": editing, "values": values, "problems": problems, "problem_fields": {f for f, _ in problems},
        "parents": [(t.key, t.label(lang)) for t in codeframe.themes if t.key != editing],
        "departments": departments(session), "kept": {k: v for k, v in kept.items() if v},
        "moments": list(theme.moments) if theme else [],
        "children": codeframe.children(editing) if editing else []}, status_code=status_code)


@router.get("/verbatims/codeframe/theme")
def codeframe_theme_page(request: Request, user: Editor, session: DbSession,
                         key: Annotated[str, Query(max_length=64)] = ""):
    """The form of one theme (`key`), or of a new one (no key)."""
    codeframe, _ = current_codeframe(session)
    if key and key not in codeframe.keys:
        return error_page(request, 404)
    theme = codeframe.theme(key) if key else None
    owner = _own_owner(session, codeframe, key) if key else None
    return _theme_form(request, session, codeframe, editing=key or None, values=_theme_values(theme, owner),
                       problems=[])


def _own_owner(session, codeframe, key: str):
    """The department owning the theme itself, or None when it takes its parent's (ownership is inherited)."""
    owners = theme_owners(session, codeframe)
    owner, parent = owners.get(key), codeframe.theme(key).parent
    inherited = owner is not None and parent is not None and owners.get(parent) is owner
    return None if inherited and not codeframe.theme(key).department else owner


def _keywords(text: str) -> tuple[str, ...]:
    """One keyword or phrase per line (a comma also separates), without repeats."""
    words = (w.strip() for line in text.splitlines() for w in line.split(","))
    return tuple(dict.fromkeys(w for w in words if w))


@router.post("/verbatims/codeframe/theme")
def codeframe_theme_save(request: Request, user: Editor, session: DbSession, editing: Annotated[str, Form()] = "",
                         key: Annotated[str, Form()] = "", label_nl: Annotated[str, Form()] = "",
                         label_en: Annotated[str, Form()] = "", parent: Annotated[str, Form()] = "",
                         department: Annotated[str, Form()] = "", keywords_nl: Annotated[str, Form()] = "",
                         keywords_en: Annotated[str, Form()] = ""):
    """Add a theme or change one: its labels, parent, owning department and keywords per language; its lemmas,
    patterns, moments and description stay as they are (edit those in the YAML). Saved as a new version of the
    code frame, in the same format; every comment is analysed again."""
    t, lang = request.app.state.catalogue.translate, request_language(request)
    codeframe, _ = current_codeframe(session)
    values = {"key": editing or key, "label_nl": label_nl, "label_en": label_en, "parent": parent,
              "department": department, "keywords_nl": keywords_nl, "keywords_en": keywords_en}
    problems: list[tuple[str, str]] = []
    for field in values:
        try:
            values[field] = (params.clean_text(values[field], field, limit=THEME_LIMITS.get(field, 80),
                                               multiline=field.startswith("keywords")) or "").strip()
        except params.ParamError as exc:
            problems.append((field, exc.text(request)))
            values[field] = ""
    editing = editing if editing in codeframe.keys else ""
    theme_key = values["key"]
    if not editing and theme_key in codeframe.keys:
        problems.append(("key", t("admin.theme.key_exists", lang)))
    elif not editing and not THEME_KEY.fullmatch(theme_key):
        problems.append(("key", t("admin.theme.key_form", lang)))
    for field in ("label_nl", "label_en"):
        if not values[field] and not any(f == field for f, _ in problems):
            problems.append((field, t("admin.problem.required", lang)))
    if values["parent"] and (values["parent"] not in codeframe.keys or values["parent"] == theme_key):
        problems.append(("parent", t("admin.theme.parent_unknown", lang)))
    units = {u.key: u for u in departments(session)}
    if values["department"] and values["department"] not in units:
        problems.append(("department", t("admin.theme.department_unknown", lang)))
    if not problems:
        old = codeframe.theme(editing) if editing else None
        terms = dict(old.terms) if old else {}
        for language_ in ("nl", "en"):
            kept = terms.get(language_, ThemeTerms())
            terms[language_] = ThemeTerms(keywords=_keywords(values[f"keywords_{language_}"]), lemmas=kept.lemmas,
                                          patterns=kept.patterns)
        theme = Theme(key=theme_key, labels={"nl": values["label_nl"], "en": values["label_en"]},
                      parent=values["parent"] or None, department=values["department"] or None,
                      description=old.description if old else "",
                      terms={k: v for k, v in terms.items() if not v.is_empty()}, moments=old.moments if old else ())
        themes = tuple(theme if x.key == theme_key else x for x in codeframe.themes)
        try:
            new = replace(codeframe, themes=themes if editing else themes + (theme,))
        except CodeFrameError as exc:  # a parent chain that loops back
            problems += [("parent", message) for message in exc.problems]
        else:
            save_codeframe(session, new, user.id, note=f"theme {theme_key} {'changed' if editing else 'added'}")
            set_theme_owner(session, theme_key, None)  # the form's department is the owner from now on
            record_audit(session, f"user:{user.id}", "codeframe.theme_set", {"theme": theme_key})
            enqueue_analysis(session, reanalyse=True)
            return RedirectResponse(f"/verbatims/codeframe?saved=theme&theme={theme_key}", status_code=303)
    return _theme_form(request, session, codeframe, editing=editing or None, values=values, problems=problems,
                       status_code=422)


@router.post("/verbatims/codeframe/theme/remove")
def codeframe_theme_remove(request: Request, user: Editor, session: DbSession, key: Annotated[str, Form()] = ""):
    """Remove a theme without sub-themes (move or remove those first); comments lose its mentions at the
    next analysis."""
    codeframe, _ = current_codeframe(session)
    if key not in codeframe.keys:
        return error_page(request, 404)
    lang = request_language(request)
    if codeframe.children(key) or len(codeframe.themes) == 1:
        text = request.app.state.catalogue.translate(
            "admin.theme.has_children" if codeframe.children(key) else "admin.theme.last", lang)
        return _theme_form(request, session, codeframe, editing=key,
                           values=_theme_values(codeframe.theme(key), _own_owner(session, codeframe, key)),
                           problems=[("key", text)], status_code=409)
    new = replace(codeframe, themes=tuple(x for x in codeframe.themes if x.key != key))
    save_codeframe(session, new, user.id, note=f"theme {key} removed")
    set_theme_owner(session, key, None)
    record_audit(session, f"user:{user.id}", "codeframe.theme_remove", {"theme": key})
    enqueue_analysis(session, reanalyse=True)
    return RedirectResponse(f"/verbatims/codeframe?saved=removed&theme={key}", status_code=303)


@router.post("/verbatims/owners")
def owners_save(request: Request, user: Editor, session: DbSession,
                theme: Annotated[list[str], Form()] = [], owner: Annotated[list[str], Form()] = []):  # noqa: B006
    """Pairs of (theme, department id or empty) from the owners table."""
    if len(theme) != len(owner):
        raise ValidationFailed("every theme needs an owner field (empty for none)", [("owner", "missing")])
    codeframe, _ = current_codeframe(session)
    try:
        owners = [params.parse_int(value, "owner") for value in owner]
    except params.ParamError as exc:
        return params.refused_page(request, exc)
    for key, value in zip(theme, owners):
        if key not in codeframe.keys:
            raise ValidationFailed(f"theme {params.shown(key)!r} is not in the code frame", [("theme", key)])
        set_theme_owner(session, key, value)
    return RedirectResponse("/verbatims/codeframe?saved=owners", status_code=303)


@router.get("/verbatims/discovery")
def discovery(request: Request, user: Editor, session: DbSession):
    codeframe, _ = current_codeframe(session)
    rows = repository.uncovered_comments(session)
    proposals = discover_themes([t for _, t, _ in rows], [lg for _, _, lg in rows], codeframe) if rows else []
    return render(request, "verbatims/discovery.html", {
        "proposals": proposals, "uncovered": len(rows), "departments": departments(session),
        "existing": set(codeframe.keys)})


@router.post("/verbatims/discovery/adopt")
def discovery_adopt(request: Request, user: Editor, session: DbSession,
                    key: Annotated[str, Form()], terms: Annotated[str, Form()],
                    languages: Annotated[str, Form()] = "", label_nl: Annotated[str, Form()] = "",
                    label_en: Annotated[str, Form()] = "", department: Annotated[str, Form()] = ""):
    codeframe, _ = current_codeframe(session)
    try:  # texts that end up in the code frame: no control characters (PostgreSQL refuses NUL)
        terms = params.clean_text(terms, "terms", limit=4000) or ""
        languages = params.clean_text(languages, "languages") or ""
        label_nl = params.clean_text(label_nl, "label_nl", limit=120) or ""
        label_en = params.clean_text(label_en, "label_en", limit=120) or ""
        unit_id = params.parse_int(department, "department")
    except params.ParamError as exc:
        return params.refused_page(request, exc)
    top = tuple(t for t in terms.split("|") if t.strip())[:20]
    if not top:
        raise ValidationFailed("the proposal has no terms", [("terms", "empty")])
    if key in codeframe.keys:
        raise ValidationFailed(f"theme {key!r} is in the code frame already", [("key", "exists")])
    proposal = ThemeProposal(key=key, top_terms=top, term_weights=tuple(1.0 for _ in top), size=0,
                             languages=tuple(lg for lg in languages.split("|") if lg), example_indices=(), examples=())
    labels = None
    if label_nl.strip() or label_en.strip():
        labels = {"nl": (label_nl or label_en).strip()[:120], "en": (label_en or label_nl).strip()[:120]}
    try:
        new = adopt_proposal(codeframe, proposal, labels=labels)
    except ValueError as exc:  # CodeFrameError: e.g. a key that is not a valid theme key
        raise ValidationFailed(f"the proposal can not be adopted: {exc}", [("key", str(exc))]) from None
    save_codeframe(session, new, user.id, note=f"adopted discovered theme {key}")
    if unit_id is not None:
        unit = session.get(OrgUnit, unit_id)
        if unit is None:
            raise ValidationFailed(f"department {department!r} does not exist", [("department", "unknown")])
        set_theme_owner(session, key, unit.id)
    enqueue_analysis(session, reanalyse=True)
    return RedirectResponse("/verbatims/codeframe?saved=adopted", status_code=303)
