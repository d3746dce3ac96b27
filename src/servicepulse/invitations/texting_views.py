"""The delivery page of text messages (/text-messages): SMS and WhatsApp invitations and reminders per day,
channel and provider, by delivery status (queued, sent, delivered, read, failed, stopped by the customer),
with the providers' failure reasons.

Who sees it: administrators and analysts. It shows counts only: the table holds no phone number (an HMAC of
it), and no row names a customer. An erasure removes the customer's messages, so they leave these counts."""

from __future__ import annotations

from math import ceil
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request

from servicepulse.http import params
from servicepulse.http.auth import require_role
from servicepulse.http.deps import DbSession
from servicepulse.http.errors import error_page
from servicepulse.http.i18n import request_language
from servicepulse.http.templating import render
from servicepulse.invitations.texting_repository import STATUSES, delivery

router = APIRouter(prefix="/text-messages", dependencies=[Depends(require_role("admin", "analyst"))])
CHANNELS = ("sms", "whatsapp")
PAGE_SIZE = 30  # rows (a day, a channel, a provider) per page


@router.get("")
def delivery_page(request: Request, session: DbSession, channel: str = "", page: str = "1"):
    try:
        number = params.parse_page(page)
    except params.ParamError as exc:
        return params.refused_page(request, exc)
    if channel and channel not in CHANNELS:
        lang = request_language(request)
        return error_page(request, 400, detail=request.app.state.catalogue.translate(
            "text_messages.bad_channel", lang, value=params.shown(channel), choices=", ".join(CHANNELS)))
    rows, reasons = delivery(session, request.app.state.settings.zone(), channel or None)
    totals = {status: sum(r.counts[status] for r in rows) for status in STATUSES}
    pages = max(1, ceil(len(rows) / PAGE_SIZE))
    number = min(number, pages)
    return render(request, "invitations/text_messages.html", {
        "rows": rows[(number - 1) * PAGE_SIZE:number * PAGE_SIZE], "reasons": reasons, "totals": totals,
        "total": sum(totals.values()), "reached": totals["delivered"] + totals["read"], "statuses": STATUSES,
        "channels": CHANNELS, "channel": channel, "page": number, "pages": pages, "row_count": len(rows),
        "query": urlencode({"channel": channel}) if channel else "",
        "known_reasons": {key for key in request.app.state.catalogue.messages if key.startswith("text_messages.reason.")},
    })
