"""Public survey pages. Server-rendered, no JavaScript, one page per survey.

    GET  /s/{token}            the survey (saved answers filled in; changeable until expiry)
    POST /s/{token}            action=save keeps partial answers; action=submit checks and completes
    GET  /s/{token}/thanks     "Done" (the main action) and "Change your answers" (a link)
    GET  /s/{token}/done       the last page: nothing more to do
    GET  /s/{token}/opt-out    confirmation; POST does it (also after the link has expired)
    GET  /a/{survey}           anonymous link; POST starts a response (per-address limit)
    GET  /a/{survey}/r/{resume}[/thanks|/done]   that anonymous response, to finish or change

Language: ?lang= (the switch) > the invitation's > the browser's > the survey's first.
The 'why' prompt follows the score once the score is known (after a save or on
coming back); before that the default prompt shows. Respondents have no session:
forms carry a token bound to what they answer (public/form_token.py), checked
here on every POST, so an expired or refused cookie never loses an answer; a
POST without the right token gets a 403 page that leads back to the form.
This router is in PUBLIC_ROUTERS (no session CSRF dependency). Bad input: the
page again, 422, each message under its question and tied to it with aria-describedby,
and a summary at the top naming each question with a problem and linking to it.

Moment questions (a journey survey's grade per moment) offer "not applicable"
(responses/form.py stores it as no grade); those about moments the invitation's
case did not include are not asked (public/moments.py). Surveys of
``PROGRESS_FROM`` questions or more number them ("Vraag 3 van 9") and keep a count
of the answered ones in view (CSS only, as the page has no JavaScript: a visual aid hidden
from screen readers, which hear the numbers in each question).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from markupsafe import Markup, escape
from sqlalchemy import select
from starlette.datastructures import FormData

from servicepulse.http.csrf import CSRF_FIELD
from servicepulse.http.deps import DbSession
from servicepulse.http.i18n import parse_accept_language
from servicepulse.http.templating import render
from servicepulse.invitations import anonymous
from servicepulse.invitations import service as invitations
from servicepulse.invitations.mail import local_date
from servicepulse.models import Invitation, Journey, Response, SurveyVersion, utcnow
from servicepulse.public import form_token, groups, moments
from servicepulse.responses import form as service
from servicepulse.surveys.scales import CES_POINT_LABELS, SCALES, SCORE_TYPES, fill
from servicepulse.surveys.spec import SurveySpec, question_text

router = APIRouter()
LANGUAGES = ("nl", "en")
PROGRESS_FROM = 6  # from this many questions on, the page numbers them and counts the answered ones
SUMMARY_CHARS = 90  # a question's text in the error summary is cut after this many characters
NO_STORE = {"cache-control": "no-store", "x-robots-tag": "noindex"}


async def form_data(request: Request) -> FormData:
    return await request.form()


Form = Annotated[FormData, Depends(form_data)]


def clock() -> datetime:
    return utcnow()


# --- language and texts ---------------------------------------------------------------------------


def choose_language(request: Request, offered, preferred: str | None = None, form: FormData | None = None) -> str:
    offered = [lang for lang in offered if lang in LANGUAGES] or ["nl"]
    asked = request.query_params.get("lang") or (form.get("lang") if form is not None else None)
    for candidate in (asked, preferred, parse_accept_language(request.headers.get("accept-language"))):
        if candidate in offered:
            return candidate
    return offered[0]


def _secret(request: Request) -> str:
    return request.app.state.settings.resolved_secret_key()


def _hidden_token(value: str):
    """Stands in for the shared ``csrf_field()``, which would start a session (and set a cookie)."""
    return lambda: Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(value)}">')


def translator(request: Request, lang: str):
    catalogue = request.app.state.catalogue
    return lambda key, **values: catalogue.translate(key, lang, **values)


def _message_page(request: Request, lang: str, status: int, title_key: str, text_keys: list[str],
                  offered=LANGUAGES, actions: list[tuple[str, str]] | None = None, form_action: str | None = None,
                  token: str = "", links: list[tuple[str, str]] | None = None, **values):
    t = translator(request, lang)
    return render(request, "public/message.html", {
        "lang": lang, "t": t, "title": t(title_key, **values), "texts": [t(k, **values) for k in text_keys],
        "switch": _switch(request, offered, lang), "actions": actions or [], "links": links or [],
        "form_action": form_action,
        "confirm": t("public.optout.confirm") if form_action else None, "csrf_field": _hidden_token(token),
    }, status_code=status, headers=NO_STORE)


def _switch(request: Request, offered, lang: str) -> list[dict]:
    out = []
    for code in offered:
        if code in LANGUAGES:
            query = dict(request.query_params) | {"lang": code}
            query.pop("saved", None)
            out.append({"code": code, "href": f"{request.url.path}?{urlencode(query)}", "current": code == lang})
    return out


# --- the survey form ------------------------------------------------------------------------------


@dataclass
class Target:
    """What a form is answering: an invitation, or an anonymous submission."""

    spec: SurveySpec
    version: SurveyVersion
    path: str  # where the form posts and the page lives
    response: Response | None = None
    invitation: Invitation | None = None
    expires_at: datetime | None = None
    channel: str = "email"
    offered: tuple = field(default=LANGUAGES)
    form_token: str = ""  # goes into the form
    token_ok: Callable[[object], bool] = lambda sent: False  # checks what a POST brought back
    skip: frozenset = frozenset()  # question keys not asked: moments the case did not include
    moment_names: dict = field(default_factory=dict)  # moment key -> {language: name}: the groups' headings


def _questions(spec: SurveySpec, lang: str, organisation: str, answers: dict, problems, t,
               skip=frozenset()) -> list[dict]:
    by_key = {p.key: p for p in problems}
    asked = [key for key in spec.questions if key not in skip]
    numbered = len(asked) >= PROGRESS_FROM
    out = []
    for number, key in enumerate(asked, start=1):
        question = spec.questions[key]
        config = question.config
        problem = by_key.get(key)
        item = {
            "key": key, "type": question.type, "required": question.required,
            "text": question_text(config, lang, organisation, answers),
            "value": answers.get(key), "error": t(f"public.error.{problem.code}", **problem.values) if problem else None,
            "position": t("public.progress.position", number=number, total=len(asked)) if numbered else None,
            "number": number if numbered else None,
        }
        if question.type in SCORE_TYPES:
            item["not_applicable"] = service.is_moment_question(question)
            scale = SCALES[question.type]
            labels = CES_POINT_LABELS[lang] if question.type == "ces" else None
            item["points"] = [(v, labels[v - scale.low] if labels else None) for v in range(scale.low, scale.high + 1)]
            item["hint"] = t("public.scale_hint", low=scale.low, high=scale.high,
                             low_label=scale.low_label[lang], high_label=scale.high_label[lang])
            item["labelled"] = labels is not None
        elif question.type in ("single", "multi"):
            item["options"] = [(o["key"], o.get(lang) or o.get("nl") or o.get("en")) for o in config.get("options", [])]
            scale = groups.choice_scale(item["options"]) if question.type == "single" else None
            if scale is not None:  # s1 .. s10 with numbered labels: one row, like a grade (public/groups.py)
                item["choice_points"], low, high = scale
                if low and high:
                    item["hint"] = t("public.scale_hint", low=1, high=len(scale[0]), low_label=low, high_label=high)
            if question.type == "multi":
                item["value"] = answers.get(key) or []
        else:
            item["max_length"] = question.max_length
            item["value"] = answers.get(key) or ""
        out.append(item)
    return out


def _groups(questions: list[dict], by_key: dict, moment_names: dict, lang: str, t) -> list[dict]:
    """The questions under their subject's heading ("Onderwerp 3 van 8: Product"); one group without a heading
    when the survey has no subjects (public/groups.py)."""
    runs = groups.subject_groups([q["key"] for q in questions])
    if runs is None:
        return [{"heading": None, "questions": questions}]
    out = []
    for number, (subject, keys) in enumerate(runs, start=1):
        name = None
        if subject is not None and subject[0] == "dimension" and subject[1] in groups.DIMENSIONS:
            name = t("public.group." + subject[1])
        elif subject is not None and subject[0] == "moment":
            name = (moment_names.get(subject[1]) or {}).get(lang)
        where = t("public.group.position", number=number, total=len(runs))
        out.append({"heading": t("public.group.named", where=where, name=name) if name else where,
                    "id": f"group-{number}", "questions": [by_key[k] for k in keys]})
    return out


def _moment_names(session, spec: SurveySpec) -> dict:
    """{moment question key part: {language: name}} of the journey the survey is about (its ``moment``)."""
    if not any((groups.subject_of(k) or ("",))[0] == "moment" for k in spec.questions):
        return {}
    journey_key = str(spec.definition.get("moment") or "").split("/")[0]
    journey = session.scalar(select(Journey).where(Journey.key == journey_key)) if journey_key else None
    if journey is None:
        return {}
    return {m.key.lower().replace("-", "_"): {"nl": m.name_nl, "en": m.name_en} for m in journey.moments}


def _summary_name(question: dict, t) -> str:
    text = question["text"]
    if len(text) > SUMMARY_CHARS:
        text = text[:SUMMARY_CHARS].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    if question["number"] is not None:
        return t("public.errors.numbered", number=question["number"], question=text)
    return text


def _render_form(request: Request, target: Target, lang: str, answers: dict, problems=(), status: int = 200,
                 saved: bool = False):
    t = translator(request, lang)
    organisation = request.app.state.settings.organisation_name
    definition = target.spec.definition
    name = definition.get("name", "")
    if isinstance(name, dict):  # some definitions name the survey per language
        name = name.get(lang) or next(iter(name.values()), "")
    title = fill((definition.get("title") or {}).get(lang) or str(name), organisation)
    intro = (definition.get("intro") or {}).get(lang)
    until = local_date(target.expires_at, lang) if target.expires_at else None
    notice = None
    if saved:
        notice = t("public.saved", date=until) if until else t("public.saved_anonymous")
    elif target.response is not None and target.response.completed and until:
        notice = t("public.answered", date=until)
    questions = _questions(target.spec, lang, organisation, answers, problems, t, target.skip)
    by_key = {q["key"]: q for q in questions}
    return render(request, "public/survey.html", {
        "lang": lang, "t": t, "title": title, "intro": fill(intro, organisation) if intro else None,
        "questions": questions, "progress": len(questions) >= PROGRESS_FROM,
        "groups": _groups(questions, by_key, target.moment_names, lang, t),
        "problems": [{"key": p.key, "question": _summary_name(by_key[p.key], t), "message": by_key[p.key]["error"]}
                     for p in problems if p.key in by_key],
        "action": target.path, "switch": _switch(request, target.offered, lang), "notice": notice,
        "csrf_field": _hidden_token(target.form_token),
    }, status_code=status, headers=NO_STORE)


def _refused(request: Request, lang: str, back: str, offered=LANGUAGES):
    """A POST without this form's token: forged, or from a form too old to trust. Nothing is stored."""
    return _message_page(request, lang, 403, "public.refused.title", ["public.refused.text"], offered,
                         actions=[(f"{back}?{urlencode({'lang': lang})}", "public.refused.back")])


def _without_token(request: Request, form: FormData):
    """A POST with no token at all is refused before any lookup, whatever link it names."""
    if form.get(CSRF_FIELD):
        return None
    return _refused(request, choose_language(request, LANGUAGES, None, form), request.url.path)


def _post(request: Request, session, form: FormData, target: Target, lang: str, now: datetime,
          on_new_response=None):
    if not target.token_ok(form.get(CSRF_FIELD)):
        return _refused(request, lang, target.path, target.offered)
    clean, problems = service.parse_form(target.spec, form, target.skip)
    action = form.get("action")
    partial = action == "save"
    if problems and not (partial and service.only_required_missing(problems)):
        return _render_form(request, target, lang, _echo(target.spec, form, clean, target.skip), problems, status=422)
    is_new = target.response is None
    response = service.store(session, target.spec, clean, completed=not partial, now=now, language=lang,
                             channel=target.channel, response=target.response, invitation=target.invitation)
    path = target.path
    if is_new and on_new_response is not None:
        path = on_new_response(response)
    where = f"{path}?{urlencode({'lang': lang, 'saved': 1})}" if partial else f"{path}/thanks?{urlencode({'lang': lang})}"
    return RedirectResponse(where, status_code=303)


def _echo(spec: SurveySpec, form: FormData, clean: dict, skip=frozenset()) -> dict:
    """What the respondent typed, also the invalid bits, so nothing is lost when the page comes back."""
    echo = dict(clean)
    for key, question in spec.questions.items():
        if key in echo or key in skip:
            continue
        values = form.getlist(service.FIELD_PREFIX + key)
        if question.type == "multi":
            echo[key] = [v for v in values if isinstance(v, str)]
        elif values and isinstance(values[-1], str):
            value = values[-1]
            echo[key] = int(value) if question.type in SCORE_TYPES and value.strip().lstrip("-").isdigit() else value
    return echo


# --- personal invitations -------------------------------------------------------------------------


def _invitation_target(session, token: str, now: datetime, secret: str):
    """(target, None) or (None, (status, invitation or None)) for the 404/410 pages."""
    try:
        invitation = invitations.resolve(session, token, now)
    except invitations.LinkUnknown:
        return None, (404, None)
    except invitations.LinkExpired as gone:
        return None, (410, gone.invitation)
    version = session.get(SurveyVersion, invitation.survey_version_id)
    spec = service.spec_for_version(session, version)
    bound = (secret, "answer", invitation.id, invitation.token_hash, version.id)
    return Target(spec, version, f"/s/{token}", service.invitation_response(session, invitation), invitation,
                  invitation.expires_at, "email", spec.languages, form_token.invitation_token(*bound),
                  lambda sent: form_token.check_invitation_token(sent, *bound),
                  moments.questions_to_skip(session, spec, invitation.case_id),
                  _moment_names(session, spec)), None


def _closed_page(request: Request, session, status: int, invitation: Invitation | None):
    if invitation is None:
        lang = choose_language(request, LANGUAGES)
        return _message_page(request, lang, 404, "public.unknown.title", ["public.unknown.text"])
    version = session.get(SurveyVersion, invitation.survey_version_id)
    offered = version.definition.get("languages", LANGUAGES)
    lang = choose_language(request, offered, invitation.language)
    texts = ["public.gone.text"] + (["public.gone.answered"] if invitation.responded_at else [])
    return _message_page(request, lang, 410, "public.gone.title", texts, offered)


@router.get("/s/{token}")
def invitation_page(request: Request, token: str, session: DbSession, saved: int = 0):
    target, closed = _invitation_target(session, token, clock(), _secret(request))
    if target is None:
        return _closed_page(request, session, *closed)
    lang = choose_language(request, target.offered, target.invitation.language)
    return _render_form(request, target, lang, service.saved_answers(session, target.response), saved=bool(saved))


@router.post("/s/{token}")
def invitation_submit(request: Request, token: str, session: DbSession, form: Form):
    if (refused := _without_token(request, form)) is not None:
        return refused
    now = clock()
    target, closed = _invitation_target(session, token, now, _secret(request))
    if target is None:
        return _closed_page(request, session, *closed)
    lang = choose_language(request, target.offered, target.invitation.language, form)
    return _post(request, session, form, target, lang, now)


@router.get("/s/{token}/thanks")
def invitation_thanks(request: Request, token: str, session: DbSession):
    target, closed = _invitation_target(session, token, clock(), _secret(request))
    if target is None:
        return _closed_page(request, session, *closed)
    lang = choose_language(request, target.offered, target.invitation.language)
    until = local_date(target.expires_at, lang)
    return _thanks_page(request, lang, target, f"/s/{token}", ["public.thanks.text", "public.thanks.until"], date=until)


@router.get("/s/{token}/done")
def invitation_done(request: Request, token: str, session: DbSession):
    target, closed = _invitation_target(session, token, clock(), _secret(request))
    if target is None:
        return _closed_page(request, session, *closed)
    return _done_page(request, choose_language(request, target.offered, target.invitation.language), target)


def _thanks_page(request: Request, lang: str, target: Target, path: str, text_keys: list[str], **values):
    """'Done' is the main action; changing the answers is there, as a link, for who needs it."""
    query = urlencode({"lang": lang})
    return _message_page(request, lang, 200, "public.thanks.title", text_keys, target.offered,
                         actions=[(f"{path}/done?{query}", "public.thanks.done")],
                         links=[(f"{path}?{query}", "public.thanks.change")], **values)


def _done_page(request: Request, lang: str, target: Target):
    return _message_page(request, lang, 200, "public.done.title", ["public.done.text"], target.offered)


def _optout_invitation(session, token: str) -> Invitation | None:
    invitation = invitations.find_by_token(session, token)
    return invitation


def _optout_token(request: Request, invitation: Invitation) -> tuple:
    return (_secret(request), "opt-out", invitation.id, invitation.token_hash, invitation.survey_version_id)


@router.get("/s/{token}/opt-out")
def opt_out_page(request: Request, token: str, session: DbSession):
    invitation = _optout_invitation(session, token)
    if invitation is None:
        return _closed_page(request, session, 404, None)
    lang = choose_language(request, LANGUAGES, invitation.language)
    organisation = request.app.state.settings.organisation_name
    return _message_page(request, lang, 200, "public.optout.title", ["public.optout.text"],
                         form_action=f"/s/{token}/opt-out", token=form_token.invitation_token(
                             *_optout_token(request, invitation)), organisation=organisation)


@router.post("/s/{token}/opt-out")
def opt_out(request: Request, token: str, session: DbSession, form: Form):
    if (refused := _without_token(request, form)) is not None:
        return refused
    invitation = _optout_invitation(session, token)
    if invitation is None:
        return _closed_page(request, session, 404, None)
    lang = choose_language(request, LANGUAGES, invitation.language, form)
    if not form_token.check_invitation_token(form.get(CSRF_FIELD), *_optout_token(request, invitation)):
        return _refused(request, lang, f"/s/{token}/opt-out")
    invitations.opt_out(session, invitation, clock())
    organisation = request.app.state.settings.organisation_name
    return _message_page(request, lang, 200, "public.optout.done.title", ["public.optout.done.text"],
                         organisation=organisation)


# --- anonymous links ------------------------------------------------------------------------------


def _anonymous_target(session, survey_key: str, secret: str, now: datetime, resume: str | None = None):
    found = anonymous.anonymous_survey(session, survey_key)
    if found is None:
        return None, None
    response = None
    if resume is not None:
        response = anonymous.anonymous_response(session, found.link, resume)
        if response is None:
            return None, found
    version = session.get(SurveyVersion, response.survey_version_id) if response else found.version
    spec = service.spec_for_version(session, version)
    path = f"/a/{survey_key}" + (f"/r/{resume}" if resume else "")
    if response is None:  # a new response: nothing to bind to yet, so a signed, time-limited token
        bound = (secret, found.link.id, version.id)
        issued = form_token.anonymous_token(*bound, now)
        check = lambda sent: form_token.check_anonymous_token(sent, *bound, now)  # noqa: E731
    else:
        bound = (secret, response.id, version.id)
        issued = form_token.response_token(*bound)
        check = lambda sent: form_token.check_response_token(sent, *bound)  # noqa: E731
    return Target(spec, version, path, response, None, None, "web", spec.languages, issued, check,
                  moment_names=_moment_names(session, spec)), found


def _unknown(request: Request):
    return _message_page(request, choose_language(request, LANGUAGES), 404, "public.unknown.title",
                         ["public.unknown.anonymous"])


@router.get("/a/{survey_key}")
def anonymous_page(request: Request, survey_key: str, session: DbSession):
    target, _ = _anonymous_target(session, survey_key, _secret(request), clock())
    if target is None:
        return _unknown(request)
    return _render_form(request, target, choose_language(request, target.offered), {})


@router.post("/a/{survey_key}")
def anonymous_submit(request: Request, survey_key: str, session: DbSession, form: Form):
    if (refused := _without_token(request, form)) is not None:
        return refused
    now = clock()
    target, found = _anonymous_target(session, survey_key, _secret(request), now)
    if target is None:
        return _unknown(request)
    lang = choose_language(request, target.offered, None, form)
    secret = request.app.state.settings.resolved_secret_key()
    address = request.client.host if request.client else "unknown"
    if not anonymous.address_allowance(session, found.link, secret, address, now):
        return _message_page(request, lang, 429, "public.ratelimit.title", ["public.ratelimit.text"], target.offered)

    def remember(response: Response) -> str:
        resume = anonymous.start_anonymous(session, found.link, secret, address, response, now)
        return f"/a/{survey_key}/r/{resume}"

    return _post(request, session, form, target, lang, now, on_new_response=remember)


@router.get("/a/{survey_key}/r/{resume}")
def anonymous_resume(request: Request, survey_key: str, resume: str, session: DbSession, saved: int = 0):
    target, _ = _anonymous_target(session, survey_key, _secret(request), clock(), resume)
    if target is None:
        return _unknown(request)
    lang = choose_language(request, target.offered, target.response.language)
    return _render_form(request, target, lang, service.saved_answers(session, target.response), saved=bool(saved))


@router.post("/a/{survey_key}/r/{resume}")
def anonymous_resume_submit(request: Request, survey_key: str, resume: str, session: DbSession, form: Form):
    if (refused := _without_token(request, form)) is not None:
        return refused
    target, _ = _anonymous_target(session, survey_key, _secret(request), clock(), resume)
    if target is None:
        return _unknown(request)
    lang = choose_language(request, target.offered, target.response.language, form)
    return _post(request, session, form, target, lang, clock())


@router.get("/a/{survey_key}/r/{resume}/thanks")
def anonymous_thanks(request: Request, survey_key: str, resume: str, session: DbSession):
    target, _ = _anonymous_target(session, survey_key, _secret(request), clock(), resume)
    if target is None:
        return _unknown(request)
    lang = choose_language(request, target.offered, target.response.language)
    return _thanks_page(request, lang, target, f"/a/{survey_key}/r/{resume}", ["public.thanks.text"])


@router.get("/a/{survey_key}/r/{resume}/done")
def anonymous_done(request: Request, survey_key: str, resume: str, session: DbSession):
    target, _ = _anonymous_target(session, survey_key, _secret(request), clock(), resume)
    if target is None:
        return _unknown(request)
    return _done_page(request, choose_language(request, target.offered, target.response.language), target)
