"""Form tokens of the public survey pages, in place of the dashboard's session CSRF token.

Respondents have no session: a session cookie that expired (12 h) or cookies
that are switched off must not cost them what they typed. So the hidden
``csrf_token`` field carries a token derived from the app secret and what the
form answers, checked on POST without any cookie:

* a personal link (/s/...): HMAC of the invitation id, its token hash and its
  survey version. Valid as long as the invitation; a new send (new hash) ends it.
* an anonymous response being changed (/a/.../r/...): HMAC of the response id
  and its survey version.
* a new anonymous response (/a/{survey}): the issue time plus an HMAC of it and
  the link and survey version, accepted for ANONYMOUS_MAX_AGE after issue.

A cross-site page that posts to one of these URLs cannot produce the token
without the secret, so a forged POST without it is still refused.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

ANONYMOUS_MAX_AGE = timedelta(days=3)  # a page left open over a weekend still submits
_CLOCK_SKEW = timedelta(minutes=5)


def _mac(secret: str, *parts: object) -> str:
    message = "|".join(str(p) for p in ("servicepulse-public-form", *parts))
    return hmac.new(secret.encode(), message.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def _same(sent: object, expected: str) -> bool:
    return isinstance(sent, str) and hmac.compare_digest(sent.encode("utf-8", "surrogatepass"), expected.encode())


def invitation_token(secret: str, purpose: str, invitation_id: int, token_hash: str, version_id: int) -> str:
    """`purpose` keeps the answer form's token from opening the opt-out form and vice versa."""
    return _mac(secret, "invitation", purpose, invitation_id, token_hash, version_id)


def check_invitation_token(sent: object, secret: str, purpose: str, invitation_id: int, token_hash: str,
                           version_id: int) -> bool:
    return _same(sent, invitation_token(secret, purpose, invitation_id, token_hash, version_id))


def response_token(secret: str, response_id: int, version_id: int) -> str:
    return _mac(secret, "anonymous-response", response_id, version_id)


def check_response_token(sent: object, secret: str, response_id: int, version_id: int) -> bool:
    return _same(sent, response_token(secret, response_id, version_id))


def anonymous_token(secret: str, link_id: int, version_id: int, now: datetime) -> str:
    issued = int(now.timestamp())
    return f"{issued}.{_mac(secret, 'anonymous', link_id, version_id, issued)}"


def check_anonymous_token(sent: object, secret: str, link_id: int, version_id: int, now: datetime) -> bool:
    if not isinstance(sent, str) or "." not in sent:
        return False
    issued_text, _, mac = sent.partition(".")
    if not issued_text.isdigit() or len(issued_text) > 12:
        return False
    issued = int(issued_text)
    age = now - datetime.fromtimestamp(issued, tz=now.tzinfo)
    if age > ANONYMOUS_MAX_AGE or age < -_CLOCK_SKEW:
        return False
    return _same(mac, _mac(secret, "anonymous", link_id, version_id, issued))
