"""A limit on the size of a request body, enforced before the application reads it.

`RequestSizeLimit` is pure ASGI middleware: a request that declares a larger
Content-Length is answered 413 without reading a byte of its body; a body
without one (chunked) is counted as it streams in, and refused the moment it
passes the limit, so no more of it is read or kept. The answer is
problem+json under /api/v1 and a short page in the visitor's language
elsewhere; it closes the connection, so the server does not drain the rest.
"""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from servicepulse.http.i18n import request_language
from servicepulse.http.problems import api_language, problem
from servicepulse.http.templating import format_number, render_error

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
STATUS = 413
_CLOSE = {"connection": "close"}


def declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:  # the server refuses these itself; not ours to judge
                return None
    return None


def readable_size(size: int, language: str) -> str:
    """Bytes as people read them: '16 MB', '2,5 MB' (Dutch notation in Dutch), '900 kB'."""
    if size >= 1_000_000:
        megabytes = size / 1_000_000
        return format_number(megabytes, language, 0 if megabytes == int(megabytes) else 1) + " MB"
    return format_number(max(size / 1000, 0.1), language, 0 if size % 1000 == 0 else 1) + " kB"


class RequestSizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            return await self._refuse(scope, send)

        received = 0
        started = False
        refused = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    if not started and not refused:
                        refused = True
                        await self._refuse(scope, send)
                    # Stops the application reading on; whatever it answers instead is dropped below.
                    raise HTTPException(STATUS)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not refused:  # after the 413, the application's trouble with its cut-off body is expected
                raise

    def _response(self, scope: Scope) -> Response:
        if scope["path"] == API_PREFIX or scope["path"].startswith(API_PREFIX + "/"):
            return problem(STATUS, f"the request body is larger than the limit of {self.max_bytes} bytes",
                           title="Content Too Large", headers=_CLOSE,
                           errors=[{"location": "body", "field": "/",
                                    "message": f"at most {self.max_bytes} bytes"}],
                           language=api_language(Request(scope)))
        request = Request(scope)
        try:
            language = request_language(request)
            limit = request.app.state.catalogue.translate("limits.too_large.limit", language,
                                                         size=readable_size(self.max_bytes, language))
            return render_error(request, {
                "status": STATUS, "title_key": "limits.too_large.title", "text_key": "limits.too_large.text",
                "detail": limit, "problems": [],
            }, status_code=STATUS, headers=_CLOSE)
        except Exception:  # the refusal itself must never fail
            log.exception("rendering the 413 page failed")
            return PlainTextResponse(f"Error {STATUS}", status_code=STATUS, headers=_CLOSE)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        await self._response(scope)(scope, _nothing_to_receive, send)


async def _nothing_to_receive() -> Message:
    return {"type": "http.disconnect"}
