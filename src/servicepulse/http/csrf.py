"""CSRF protection for every form post.

A random token lives in the (signed) session cookie and is repeated in a
hidden field ``csrf_token`` of each form (``{{ csrf_field() }}`` in a
template). ``csrf_protect`` is attached to every page router by the app
factory, so a new form is protected without anyone remembering to; it only
looks at unsafe methods. The session cookie is also SameSite=Lax, but the
token does not rely on browsers honouring that.
"""

from __future__ import annotations

import secrets

from fastapi import Request

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfRefused(Exception):
    """The form did not carry this session's token (expired session, or a forged request)."""


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def new_csrf_token(request: Request) -> str:
    request.session.pop("csrf", None)
    return csrf_token(request)


async def csrf_protect(request: Request) -> None:
    if request.method in _SAFE:
        return
    expected = request.session.get("csrf")
    form = await request.form()  # Starlette caches the parsed form for the endpoint
    sent = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)
    if not expected or not isinstance(sent, str) or not secrets.compare_digest(sent, expected):
        raise CsrfRefused()
