"""The one-click unsubscribe token of a digest mail: which subscription, which recipient, and an HMAC
over both with the installation's secret key, so that it works without logging in and cannot be guessed
or turned into another person's. It names no personal data (two numbers)."""

from __future__ import annotations

import base64
import hashlib
import hmac

PREFIX = "dg"  # tells a digest token apart from a survey token in the /s/ space


def _mac(secret: str, subscription_id: int, user_id: int) -> str:
    digest = hmac.new(secret.encode(), f"digest-unsubscribe:{subscription_id}:{user_id}".encode(),
                      hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def make_token(secret: str, subscription_id: int, user_id: int) -> str:
    return f"{PREFIX}.{subscription_id}.{user_id}.{_mac(secret, subscription_id, user_id)}"


def read_token(secret: str, token: str) -> tuple[int, int] | None:
    """(subscription id, user id) of a genuine token; None for anything else."""
    parts = (token or "").split(".")
    if len(parts) != 4 or parts[0] != PREFIX or not all(p.isascii() and p.isdigit() for p in parts[1:3]):
        return None
    if len(parts[1]) > 10 or len(parts[2]) > 10:
        return None
    subscription_id, user_id = int(parts[1]), int(parts[2])
    if not hmac.compare_digest(_mac(secret, subscription_id, user_id), parts[3]):
        return None
    return subscription_id, user_id
