"""The survey widget: an anonymous link's survey, compact, for a frame in another web site (docs/widget.md).

    GET  /w/{survey}                         the compact survey; POST starts a response (per-address limit)
    GET  /w/{survey}/r/{resume}[/thanks|/done]   that response, to finish or change

The same survey, questions, validation, form tokens, rate limit and response-writing path as the anonymous
link /a/{survey} (public/views.py, responses/form.py); only the page around the form differs: no header,
less space, and /static/widget.js, which tells the host page how tall the page is (so the frame fits it)
and passes Escape on to close a dialog. The page works without it, in a frame or on its own.

Framing: app.py gives /w/ pages frame-ancestors 'self' plus SERVICEPULSE_WIDGET_ORIGINS (and, without
origins, X-Frame-Options SAMEORIGIN), so a site that is not listed gets no widget. Respondents have no
session and the widget sets no cookie, so browsers that block third-party cookies change nothing.
The answers are anonymous responses with channel "web", like those of the link.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from markupsafe import Markup

from servicepulse.http.csrf import CSRF_FIELD
from servicepulse.http.deps import DbSession
from servicepulse.http.templating import base_context, render
from servicepulse.invitations import anonymous
from servicepulse.public import views as public
from servicepulse.public.views import LANGUAGES, NO_STORE, Form, Target, choose_language, translator
from servicepulse.responses import form as service
from servicepulse.surveys.scales import fill

router = APIRouter()
PREFIX = "/w"


def _body(request: Request, template: str, context: dict) -> Markup:
    """The content block of a public page (the same form markup as /a/...), without its page around it."""
    environment = request.app.state.templates.env
    page = environment.get_template(template)
    full = base_context(request) | context
    return Markup("".join(page.blocks["content"](page.new_context(full))))


def _page(request: Request, template: str, context: dict, status: int = 200):
    body = _body(request, template, context)
    return render(request, "public/widget.html", {**context, "body": body}, status_code=status, headers=NO_STORE)


def _message(request: Request, lang: str, status: int, title_key: str, text_keys: list[str], offered=LANGUAGES,
             actions=(), links=()):
    t = translator(request, lang)
    return _page(request, "public/message.html", {
        "lang": lang, "t": t, "title": t(title_key), "texts": [t(k) for k in text_keys],
        "switch": public._switch(request, offered, lang), "actions": list(actions), "links": list(links),
        "form_action": None, "confirm": None, "csrf_field": public._hidden_token(""),
    }, status)


def _form(request: Request, target: Target, lang: str, answers: dict, problems=(), status: int = 200,
          saved: bool = False):
    t = translator(request, lang)
    organisation = request.app.state.settings.organisation_name
    definition = target.spec.definition
    name = definition.get("name", "")
    if isinstance(name, dict):
        name = name.get(lang) or next(iter(name.values()), "")
    title = fill((definition.get("title") or {}).get(lang) or str(name), organisation)
    intro = (definition.get("intro") or {}).get(lang)
    questions = public._questions(target.spec, lang, organisation, answers, problems, t, target.skip)
    by_key = {q["key"]: q for q in questions}
    return _page(request, "public/survey.html", {
        "lang": lang, "t": t, "title": title, "intro": fill(intro, organisation) if intro else None,
        "questions": questions, "progress": False,  # the sticky counter would cover the frame's last line
        "problems": [{"key": p.key, "question": public._summary_name(by_key[p.key], t), "message": by_key[p.key]["error"]}
                     for p in problems if p.key in by_key],
        "action": target.path, "switch": public._switch(request, target.offered, lang),
        "notice": t("public.saved_anonymous") if saved else None,
        "csrf_field": public._hidden_token(target.form_token),
    }, status)


def _target(session, survey_key: str, secret: str, resume: str | None = None):
    target, found = public._anonymous_target(session, survey_key, secret, public.clock(), resume)
    if target is None:
        return None, found
    return replace(target, path=f"{PREFIX}/{survey_key}" + (f"/r/{resume}" if resume else "")), found


def _secret(request: Request) -> str:
    return request.app.state.settings.resolved_secret_key()


def _unknown(request: Request):
    return _message(request, choose_language(request, LANGUAGES), 404, "public.unknown.title",
                    ["public.unknown.anonymous"])


def _refused(request: Request, lang: str, back: str, offered=LANGUAGES):
    return _message(request, lang, 403, "public.refused.title", ["public.refused.text"], offered,
                    actions=[(f"{back}?{urlencode({'lang': lang})}", "public.refused.back")])


def _post(request: Request, session, form, target: Target, lang: str, on_new_response=None):
    """As public/views.py's: the same parse, the same store; a 422 comes back as the compact form."""
    if not target.token_ok(form.get(CSRF_FIELD)):
        return _refused(request, lang, target.path, target.offered)
    clean, problems = service.parse_form(target.spec, form, target.skip)
    partial = form.get("action") == "save"
    if problems and not (partial and service.only_required_missing(problems)):
        return _form(request, target, lang, public._echo(target.spec, form, clean, target.skip), problems, 422)
    is_new = target.response is None
    response = service.store(session, target.spec, clean, completed=not partial, now=public.clock(), language=lang,
                             channel=target.channel, response=target.response, invitation=None)
    path = on_new_response(response) if is_new and on_new_response is not None else target.path
    query = urlencode({"lang": lang, "saved": 1} if partial else {"lang": lang})
    return RedirectResponse(f"{path}?{query}" if partial else f"{path}/thanks?{query}", status_code=303)


@router.get(PREFIX + "/{survey_key}")
def widget_page(request: Request, survey_key: str, session: DbSession):
    target, _ = _target(session, survey_key, _secret(request))
    if target is None:
        return _unknown(request)
    return _form(request, target, choose_language(request, target.offered), {})


@router.post(PREFIX + "/{survey_key}")
def widget_submit(request: Request, survey_key: str, session: DbSession, form: Form):
    if not form.get(CSRF_FIELD):
        return _refused(request, choose_language(request, LANGUAGES, None, form), request.url.path)
    target, found = _target(session, survey_key, _secret(request))
    if target is None:
        return _unknown(request)
    lang = choose_language(request, target.offered, None, form)
    secret, now = _secret(request), public.clock()
    address = request.client.host if request.client else "unknown"
    if not anonymous.address_allowance(session, found.link, secret, address, now):
        return _message(request, lang, 429, "public.ratelimit.title", ["public.ratelimit.text"], target.offered)

    def remember(response) -> str:
        resume = anonymous.start_anonymous(session, found.link, secret, address, response, now)
        return f"{PREFIX}/{survey_key}/r/{resume}"

    return _post(request, session, form, target, lang, on_new_response=remember)


@router.get(PREFIX + "/{survey_key}/r/{resume}")
def widget_resume(request: Request, survey_key: str, resume: str, session: DbSession, saved: int = 0):
    target, _ = _target(session, survey_key, _secret(request), resume)
    if target is None:
        return _unknown(request)
    lang = choose_language(request, target.offered, target.response.language)
    return _form(request, target, lang, service.saved_answers(session, target.response), saved=bool(saved))


@router.post(PREFIX + "/{survey_key}/r/{resume}")
def widget_resume_submit(request: Request, survey_key: str, resume: str, session: DbSession, form: Form):
    if not form.get(CSRF_FIELD):
        return _refused(request, choose_language(request, LANGUAGES, None, form), request.url.path)
    target, _ = _target(session, survey_key, _secret(request), resume)
    if target is None:
        return _unknown(request)
    return _post(request, session, form, target, choose_language(request, target.offered, target.response.language,
                                                                   form))


@router.get(PREFIX + "/{survey_key}/r/{resume}/thanks")
def widget_thanks(request: Request, survey_key: str, resume: str, session: DbSession):
    target, _ = _target(session, survey_key, _secret(request), resume)
    if target is None:
        return _unknown(request)
    lang = choose_language(request, target.offered, target.response.language)
    query = urlencode({"lang": lang})
    return _message(request, lang, 200, "public.thanks.title", ["public.thanks.text"], target.offered,
                    actions=[(f"{target.path}/done?{query}", "public.thanks.done")],
                    links=[(f"{target.path}?{query}", "public.thanks.change")])


@router.get(PREFIX + "/{survey_key}/r/{resume}/done")
def widget_done(request: Request, survey_key: str, resume: str, session: DbSession):
    target, _ = _target(session, survey_key, _secret(request), resume)
    if target is None:
        return _unknown(request)
    lang = choose_language(request, target.offered, target.response.language)
    return _message(request, lang, 200, "public.done.title", ["widget.done.text"], target.offered)
