"""Survey tokens never reach a log: redaction of token paths and the server's logging configuration.

A public survey link (/s/<token>) and an anonymous response's resume link
(/a/<survey key>/r/<token>) each let whoever holds them read and change a
respondent's answers, so a log line must not carry them. `redact_path` puts a
fixed mark in their place; `RedactTokens` applies it to every log record it
sees (uvicorn's access log, whose path is one of the record's arguments, and
any other message or traceback); `server_log_config` is the logging set-up of
`servicepulse serve`, with that filter on every handler and on the access
logger. The anonymous link's survey key stays: it is published, not secret.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

TOKEN_MARK = "[token]"

# A path segment "s" or an anonymous response's "r" ends where the next segment, the query or the
# line ends; "%2F" covers a path quoted into a query parameter (?next=%2Fs%2F...).
_SLASH = r"(?:/|%2[fF])"
_SEGMENT = r"(?:(?!%2[fF])[^/?#&\s\"'<>])+"
_TOKEN_PATHS = (
    re.compile(rf"({_SLASH}s{_SLASH}){_SEGMENT}"),
    re.compile(rf"({_SLASH}[aw]{_SLASH}{_SEGMENT}{_SLASH}r{_SLASH}){_SEGMENT}"),  # /w/: the survey widget
)

# SMS providers' callbacks carry the customer's phone number in the query string (MessageBird's delivery
# reports: ?recipient=...): personal data, so the whole query of /api/v1/messaging/ goes.
_MESSAGING_QUERY = re.compile(r"(/api/v1/messaging/[^?\s\"]*\?)[^\s\"]*")
QUERY_MARK = "[query]"

ACCESS_FORMAT = '%(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s'
SERVICEPULSE_FORMAT = "%(levelname)s:     %(name)s: %(message)s"


def redact_path(text: str) -> str:
    """`text` with every survey token in a token path replaced by TOKEN_MARK, and the query of an SMS
    provider's callback (/api/v1/messaging/...) by QUERY_MARK."""
    for pattern in _TOKEN_PATHS:
        text = pattern.sub(rf"\g<1>{TOKEN_MARK}", text)
    return _MESSAGING_QUERY.sub(rf"\g<1>{QUERY_MARK}", text)


def _redacted_arg(value: Any) -> Any:
    if isinstance(value, (int, float)):  # keeps %d and %f working
        return value
    text = str(value)
    redacted = redact_path(text)
    return value if redacted == text else redacted


class RedactTokens(logging.Filter):
    """Rewrites a record so that no survey token survives formatting; never drops a record.

    Arguments are redacted one by one rather than merged into the message, so
    uvicorn's AccessFormatter still finds its five (client, method, path,
    version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_path(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redacted_arg(arg) for arg in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {key: _redacted_arg(arg) for key, arg in record.args.items()}
        if record.exc_info and not record.exc_text:
            # Formatted here, because an exception's message may quote the path (formatters reuse exc_text).
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_path(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_path(record.stack_info)
        return True


def server_log_config(level: str = "INFO") -> dict[str, Any]:
    """uvicorn's own logging set-up (same formats and streams) plus ours on the root logger, all redacted."""
    redact = ["redact_tokens"]
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact_tokens": {"()": RedactTokens}},
        "formatters": {
            "default": {"()": "uvicorn.logging.DefaultFormatter", "fmt": "%(levelprefix)s %(message)s",
                        "use_colors": None},
            "access": {"()": "uvicorn.logging.AccessFormatter", "fmt": ACCESS_FORMAT},
            "servicepulse": {"format": SERVICEPULSE_FORMAT},
        },
        "handlers": {
            "default": {"formatter": "default", "class": "logging.StreamHandler", "stream": "ext://sys.stderr",
                        "filters": redact},
            "access": {"formatter": "access", "class": "logging.StreamHandler", "stream": "ext://sys.stdout",
                       "filters": redact},
            # Our own warnings and errors (e.g. a failed page, logged with its traceback) next to uvicorn's log.
            "servicepulse": {"formatter": "servicepulse", "class": "logging.StreamHandler",
                             "stream": "ext://sys.stderr", "filters": redact},
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            # On the logger as well as its handler, so any handler added later (a test's) gets redacted records.
            "uvicorn.access": {"handlers": ["access"], "level": level, "propagate": False, "filters": redact},
        },
        "root": {"handlers": ["servicepulse"], "level": level},
    }
