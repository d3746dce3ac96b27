"""Sending e-mail over SMTP. Small on purpose: compose the message elsewhere, hand it here.

Transport security is a setting (SERVICEPULSE_SMTP_SECURITY), never a guess:

- ``starttls`` (the default): the server must offer STARTTLS and present a certificate that
  verifies for its host name (the system's CAs, or SERVICEPULSE_SMTP_CA_FILE); a server without
  STARTTLS gets no mail rather than mail in plain text.
- ``smtps``: TLS from the first byte (implicit TLS, usually port 465), verified the same way.
- ``none``: plain SMTP, only for a relay on the same machine or a test server, and only when asked for.

With a username, the client logs in (AUTH) after TLS is up. The password never appears in an
error message, a repr or a log line.

Connection and protocol problems become MailNotSent with a sentence a person understands; callers
(jobs) decide whether to retry.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage

from servicepulse.errors import ServicepulseError
from servicepulse.jobs.registry import PermanentFailure, RetryLater
from servicepulse.settings import SMTP_SECURITY


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
    security: str = "starttls"  # one of settings.SMTP_SECURITY
    username: str = ""
    password: str = field(default="", repr=False)
    ca_file: str = ""  # PEM file of CAs to trust instead of the system's

    def __post_init__(self):
        if self.security not in SMTP_SECURITY:
            raise ValueError(f"SMTP security must be one of {', '.join(SMTP_SECURITY)}, not {self.security!r}")

    @classmethod
    def from_settings(cls, settings) -> SmtpConfig:
        return cls(settings.smtp_host, settings.smtp_port, settings.smtp_sender, security=settings.smtp_security,
                   username=settings.smtp_username, password=settings.smtp_password.get_secret_value(),
                   ca_file=settings.smtp_ca_file)


def tls_context(config: SmtpConfig) -> ssl.SSLContext:
    """Certificate and host name verified; the configured CA file replaces the system's CAs."""
    return ssl.create_default_context(cafile=config.ca_file or None)


def _connect(config: SmtpConfig, context: ssl.SSLContext | None) -> smtplib.SMTP:
    if config.security == "smtps":
        return smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout, context=context)
    return smtplib.SMTP(config.host, config.port, timeout=config.timeout)


def _send(message: EmailMessage, config: SmtpConfig, context: ssl.SSLContext | None) -> None:
    where = f"{config.host}:{config.port}"
    with _connect(config, context) as smtp:
        smtp.ehlo_or_helo_if_needed()
        if config.security == "starttls":
            if not smtp.has_extn("starttls"):
                raise MailNotSent(f"the mail server at {where} does not offer STARTTLS, so no mail was sent "
                                  "(it would have gone in plain text); set SERVICEPULSE_SMTP_SECURITY=smtps for "
                                  "a server that speaks TLS from the start, or none only for a relay on this machine")
            smtp.starttls(context=context)
            smtp.ehlo()
        if config.username:
            try:
                smtp.login(config.username, config.password)
            except smtplib.SMTPAuthenticationError:
                raise
            except smtplib.SMTPException as exc:  # no AUTH offered, no mechanism in common, ...
                raise MailNotSent(f"cannot log in to the mail server at {where} as {config.username!r}: "
                                  f"{_hide(exc, config)}") from None
        smtp.send_message(message)


def send_message(message: EmailMessage, config: SmtpConfig) -> None:
    """Deliver `message` (From is set to the configured sender when missing)."""
    if "From" not in message:
        message["From"] = config.sender
    where = f"{config.host}:{config.port}"
    try:
        context = None if config.security == "none" else tls_context(config)
    except (OSError, ssl.SSLError) as exc:
        raise MailNotSent(f"cannot read SERVICEPULSE_SMTP_CA_FILE {config.ca_file!r}: {_hide(exc, config)}") from None
    try:
        _send(message, config, context)
    except smtplib.SMTPRecipientsRefused as exc:
        refused = ", ".join(exc.recipients)
        raise MailNotSent(f"the mail server refused the recipient {refused}", permanent=True) from None
    except smtplib.SMTPAuthenticationError as exc:
        raise MailNotSent(f"the mail server at {where} refused the login of {config.username!r} "
                          f"(check SERVICEPULSE_SMTP_USERNAME and SERVICEPULSE_SMTP_PASSWORD): "
                          f"{exc.smtp_code} {_hide(_reply(exc), config)}") from None
    except smtplib.SMTPResponseException as exc:
        raise MailNotSent(f"the mail server at {where} refused the message: "
                          f"{exc.smtp_code} {_hide(_reply(exc), config)}", permanent=500 <= exc.smtp_code < 600) from None
    except ssl.SSLCertVerificationError as exc:
        raise MailNotSent(f"the certificate of the mail server at {where} cannot be verified "
                          f"({exc.verify_message}), so no mail was sent; if the server's CA is your own, "
                          "name its PEM file in SERVICEPULSE_SMTP_CA_FILE") from None
    except (TimeoutError, OSError, smtplib.SMTPException) as exc:
        raise MailNotSent(f"cannot send e-mail through {where}: {_hide(exc, config)}") from None


def _reply(exc: smtplib.SMTPResponseException) -> str:
    error = exc.smtp_error
    return error.decode(errors="replace") if isinstance(error, bytes) else str(error)


def _hide(text: object, config: SmtpConfig) -> str:
    """The text without the password, should a server or library ever echo it."""
    text = str(text)
    return text.replace(config.password, "********") if config.password else text


def send_or_retry(message: EmailMessage, config: SmtpConfig) -> None:
    """Send from a job handler: a refused recipient fails the job for good, anything else retries later."""

    try:
        send_message(message, config)
    except MailNotSent as exc:
        if exc.permanent:
            raise PermanentFailure(str(exc)) from None
        raise RetryLater(str(exc)) from None
