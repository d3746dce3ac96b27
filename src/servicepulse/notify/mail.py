"""Sending e-mail over SMTP. Small on purpose: compose the message elsewhere, hand it here.

Connection and protocol problems become MailNotSent with a sentence a person
understands; callers (jobs) decide whether to retry.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

from servicepulse.errors import ServicepulseError
from servicepulse.jobs.registry import PermanentFailure, RetryLater


class MailNotSent(ServicepulseError):
    """The SMTP server could not be reached or refused the message."""

    def __init__(self, message: str, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent  # a refused recipient will not be accepted on a retry either


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    timeout: float = 15.0

    @classmethod
    def from_settings(cls, settings) -> SmtpConfig:
        return cls(settings.smtp_host, settings.smtp_port, settings.smtp_sender)


def send_message(message: EmailMessage, config: SmtpConfig) -> None:
    """Deliver `message` (From is set to the configured sender when missing)."""
    if "From" not in message:
        message["From"] = config.sender
    try:
        with smtplib.SMTP(config.host, config.port, timeout=config.timeout) as smtp:
            smtp.ehlo_or_helo_if_needed()
            if smtp.has_extn("starttls") and config.host not in ("127.0.0.1", "localhost", "::1"):
                smtp.starttls()
                smtp.ehlo()
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        refused = ", ".join(exc.recipients)
        raise MailNotSent(f"the mail server refused the recipient {refused}", permanent=True) from None
    except smtplib.SMTPResponseException as exc:
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        raise MailNotSent(f"the mail server at {config.host}:{config.port} refused the message: "
                          f"{exc.smtp_code} {text}", permanent=500 <= exc.smtp_code < 600) from None
    except (TimeoutError, OSError, smtplib.SMTPException) as exc:
        raise MailNotSent(f"cannot send e-mail through {config.host}:{config.port}: {exc}") from None


def send_or_retry(message: EmailMessage, config: SmtpConfig) -> None:
    """Send from a job handler: a refused recipient fails the job for good, anything else retries later."""

    try:
        send_message(message, config)
    except MailNotSent as exc:
        if exc.permanent:
            raise PermanentFailure(str(exc)) from None
        raise RetryLater(str(exc)) from None
