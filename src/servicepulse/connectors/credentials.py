"""Shared-secret checks for helpdesks that sign nothing (Freshdesk, TOPdesk).

Freshdesk's "Trigger webhook" action can send credentials with the call ("Requires authentication": a user
name and password, or an API key, sent as HTTP Basic; support.freshdesk.com/support/solutions/articles/
132589-using-webhooks-in-automation-rules); TOPdesk's HTTP request action sends the headers the
administrator sets (docs.topdesk.com, Action Management). Either way the call carries our secret: as the
Basic user name or password, or as ``Authorization: Bearer <secret>``.
"""

from __future__ import annotations

import base64
import binascii
import hmac


def carries_secret(authorization: str | None, secret: str) -> bool:
    if not authorization or not secret:
        return False
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if scheme.casefold() == "bearer":
        return hmac.compare_digest(value.encode(), secret.encode())
    if scheme.casefold() != "basic":
        return False
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    user, _, password = decoded.partition(":")
    # both compared, always: the time taken does not tell which part matched
    by_user = hmac.compare_digest(user.encode(), secret.encode())
    by_password = hmac.compare_digest(password.encode(), secret.encode())
    return by_user or by_password
