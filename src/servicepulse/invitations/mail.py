"""The invitation and reminder e-mails: plain text plus an HTML alternative, in nl or en."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from servicepulse.surveys import fill

TEMPLATES = Path(__file__).parent / "templates" / "mail"
LOCAL_ZONE = ZoneInfo("Europe/Amsterdam")
MONTHS = {
    "nl": ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
           "november", "december"],
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"],
}

TEXTS = {
    "nl": {
        "subject.invitation": "Hoe was uw contact met {organisation}?",
        "subject.reminder": "Herinnering: hoe was uw contact met {organisation}?",
        "greeting": "Beste {name},",
        "greeting_anonymous": "Beste klant,",
        "intro.invitation": "U had onlangs contact met {organisation}. We horen graag hoe dat ging: "
                            "het invullen duurt minder dan een minuut.",
        "intro.reminder": "Een paar dagen geleden vroegen we hoe uw contact met {organisation} ging. "
                          "Heeft u een minuut? Uw antwoord helpt ons beter te worden.",
        "button": "Vul de korte vragenlijst in",
        "valid_until": "De link werkt tot en met {date}.",
        "thanks": "Hartelijk dank,",
        "signature": "{organisation}",
        "opt_out": "Wilt u geen vragenlijsten meer van ons ontvangen? Meld u hier af:",
    },
    "en": {
        "subject.invitation": "How was your contact with {organisation}?",
        "subject.reminder": "Reminder: how was your contact with {organisation}?",
        "greeting": "Dear {name},",
        "greeting_anonymous": "Dear customer,",
        "intro.invitation": "You were recently in touch with {organisation}. We would like to hear how it went: "
                            "it takes less than a minute.",
        "intro.reminder": "A few days ago we asked how your contact with {organisation} went. "
                          "Do you have a minute? Your answer helps us improve.",
        "button": "Answer the short survey",
        "valid_until": "The link works until {date}.",
        "thanks": "Thank you,",
        "signature": "{organisation}",
        "opt_out": "Prefer not to receive surveys from us? Unsubscribe here:",
    },
}

_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                   undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def local_date(moment: datetime, language: str) -> str:
    local = moment.astimezone(LOCAL_ZONE)
    month = MONTHS[language][local.month - 1]
    return f"{local.day} {month} {local.year}" if language == "nl" else f"{local.day} {month} {local.year}"


def opt_out_url(survey_url: str) -> str:
    return f"{survey_url}/opt-out"


def compose(kind: str, to: str, name: str | None, language: str, survey: dict, url: str, expires_at: datetime,
            organisation: str, sender: str | None = None) -> EmailMessage:
    """The e-mail for an invitation (`kind`='invitation') or its reminder ('reminder')."""
    language = language if language in TEXTS else "nl"
    texts = TEXTS[language]

    def t(key: str, **values) -> str:
        return texts[key].format(organisation=organisation, **values)

    title = (survey.get("title") or {}).get(language)
    subject = t(f"subject.{kind}")
    if title and kind == "invitation":
        subject = fill(title, organisation)
    context = {
        "lang": language,
        "subject": subject,
        "greeting": t("greeting", name=name) if name else t("greeting_anonymous"),
        "intro": t(f"intro.{kind}"),
        "button": t("button"),
        "url": url,
        "valid_until": t("valid_until", date=local_date(expires_at, language)),
        "thanks": t("thanks"),
        "signature": t("signature"),
        "opt_out": t("opt_out"),
        "opt_out_url": opt_out_url(url),
    }
    message = EmailMessage()
    message["Subject"] = subject
    message["To"] = formataddr((name or "", to))
    if sender:
        message["From"] = sender
    message["Message-ID"] = make_msgid(domain="servicepulse.invalid")
    # Mail clients show an unsubscribe button for this header (RFC 2369).
    message["List-Unsubscribe"] = f"<{context['opt_out_url']}>"
    message["Content-Language"] = language
    message.set_content(_env.get_template("message.txt").render(context))
    message.add_alternative(_env.get_template("message.html").render(context), subtype="html")
    return message
