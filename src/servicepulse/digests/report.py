"""What a digest says, and the mail that says it.

`digest_content` gathers one period's figures for one scope (the organisation or a team) from the metrics
domain, the same functions the /metrics pages use (`metrics.overview` for the headline and the change
against the previous period, `metrics.moment_view` for the moments against their norm), and adds the CES
change with the same kernel comparison (Welch's t-test on the summary statistics). `digest_message` renders
it in the recipient's language as a plain-text and an HTML part (templates digests/mail.txt and
digests/mail.html, every text from http/i18n/digests.yaml), attaches the monthly PDF report when the
recipient may see it, and sets the RFC 8058 one-click unsubscribe headers.

No customer data: figures, moment names and team names only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy.orm import Session

from servicepulse.digests.periods import Period, last_complete
from servicepulse.http.i18n import load_catalogue
from servicepulse.http.templating import format_day, format_month, format_number, template_environment
from servicepulse.kernels.statistics import compare_means_from_stats, format_p
from servicepulse.metrics import MetricFilter, journeys, moment_view, monthly_report_pdf, overview

ALPHA = 0.05  # as the metrics pages: a change is significant at p < 0.05


@dataclass(frozen=True)
class Figure:
    key: str  # nps, grade, ces
    value: float | None  # None: too few answers
    low: float | None
    high: float | None
    n: int
    previous: float | None
    difference: float | None
    p_value: float | None
    digits: int

    @property
    def significant(self) -> bool | None:
        return None if self.p_value is None else self.p_value < ALPHA


@dataclass(frozen=True)
class OffNorm:
    journey: str
    moment: str
    score: float
    norm: float
    n: int
    certain: bool | None  # the interval lies wholly below the norm


@dataclass
class DigestContent:
    period: Period
    previous: Period
    team_id: int | None  # None: the whole organisation
    team: str | None
    responses: int
    figures: list[Figure]
    off_norm: list[OffNorm] = field(default_factory=list)
    min_n: int = 30


def _figure(key: str, result, previous, comparison, digits: int) -> Figure:
    value = getattr(result, "score", None) if key == "nps" else result.mean
    before = None
    if previous is not None:
        before = getattr(previous, "score", None) if key == "nps" else previous.mean
    difference = p_value = None
    if comparison is not None and comparison.p_value is not None:
        difference, p_value = comparison.difference, comparison.p_value
    return Figure(key, value, result.low, result.high, result.n, before, difference, p_value, digits)


def digest_content(session: Session, period: Period, team_id: int | None, team_name: str | None, *,
                   language: str, min_n: int, today: date) -> DigestContent:
    f = MetricFilter(date_from=period.start, date_to=period.end, team_id=team_id)
    view = overview(session, f, period="week" if period.frequency == "weekly" else "month", min_n=min_n,
                    language=language, today=today)
    now, before, change = view.headline, view.previous, view.change
    ces_change = None
    if before is not None and now.ces.mean is not None and before.ces.mean is not None:
        ces_change = compare_means_from_stats(before.ces.mean, before.ces.sd, before.ces.n, now.ces.mean,
                                              now.ces.sd, now.ces.n, min_n=min_n)
    figures = [
        _figure("nps", now.nps, before.nps if before else None, change.nps if change else None, 0),
        _figure("grade", now.grade, before.grade if before else None, change.grade if change else None, 1),
        _figure("ces", now.ces, before.ces if before else None, ces_change, 1),
    ]
    off = []
    for journey in journeys(session):
        mv = moment_view(session, journey.id, f, min_n=min_n, language=language)
        for row in mv.moments:
            if row.score.mean is not None and not row.score.too_few and row.score.mean < row.norm:
                off.append(OffNorm(mv.journey_name, row.name, row.score.mean, row.norm, row.n, row.status.certain))
    off.sort(key=lambda o: o.score - o.norm)
    return DigestContent(period, period.previous(), team_id, team_name, now.responses, figures, off, min_n)


def pdf_month(period: Period) -> str:
    """The month whose report a digest carries: its own month, or for a week the newest complete month."""
    if period.frequency == "monthly":
        return period.key
    return last_complete("monthly", period.end).key


def _translator(language: str):
    catalogue = load_catalogue()
    return catalogue, (lambda key, **values: catalogue.translate(key, language, **values))


def render_parts(content: DigestContent, *, language: str, organisation: str, recipient: str, link: str,
                 unsubscribe_url: str, manage_url: str, pdf_name: str | None) -> tuple[str, str, str]:
    """(subject, text, html) of the digest in ``language``."""
    catalogue, t = _translator(language)

    def day(value: date) -> str:
        return format_day(value, language, catalogue)

    def span(p: Period) -> str:
        if p.frequency == "monthly":
            return format_month(p.key, language, catalogue)
        return t("digests.mail.week_span", start=day(p.start), end=day(p.last_day))

    def number(value, digits=1) -> str:
        return format_number(value, language, digits)

    def signed(value, digits=1) -> str:
        text = number(value, digits)
        return text if value is None or text.startswith("-") or text in ("0", "0,0", "0.0") else "+" + text

    def p_text(p) -> str:
        text = format_p(p, language)
        return text if text.startswith("<") else "= " + text

    def keep(text: str) -> str:
        """For the HTML part: no line break inside "(p = 0,03)" or "(1-10)" on a phone."""
        return text.replace("(p ", "(p\u00a0").replace("= ", "=\u00a0").replace("-", "\u2011")

    kind = "weekly" if content.period.frequency == "weekly" else "monthly"
    scope = content.team or t("digests.scope.organisation")
    subject = t(f"digests.mail.subject.{kind}", organisation=organisation, period=span(content.period), scope=scope)
    context = {
        "t": t, "lang": language, "content": content, "organisation": organisation, "recipient": recipient,
        "scope": scope, "kind": kind, "subject": subject, "period_text": span(content.period),
        "previous_text": span(content.previous), "number": number, "signed": signed, "p_text": p_text, "keep": keep,
        "link": link, "unsubscribe_url": unsubscribe_url, "manage_url": manage_url, "pdf_name": pdf_name,
        "pdf_month": format_month(pdf_month(content.period), language, catalogue) if pdf_name else None,
    }
    environment = template_environment()
    text = environment.get_template("digests/mail.txt").render(**context)
    html = environment.get_template("digests/mail.html").render(**context)
    return subject, text, html


def digest_message(session: Session, content: DigestContent, *, to: str, language: str, organisation: str,
                   recipient: str, base_url: str, unsubscribe_url: str, with_pdf: bool, sender: str,
                   min_n: int) -> EmailMessage:
    base = base_url.rstrip("/")
    p = content.period  # the /metrics page of the same period and scope (its "to" is exclusive, as here)
    query = f"month={p.key}" if p.frequency == "monthly" else f"from={p.start}&to={p.end}&period=week"
    link = f"{base}/metrics?{query}" + (f"&team={content.team_id}" if content.team_id is not None else "")
    if not with_pdf:  # agents do not see the /metrics pages (nor the monthly report): their team's home page
        link = f"{base}/"
    month = pdf_month(content.period)
    pdf_name = f"servicepulse-{month}.pdf" if with_pdf else None
    subject, text, html = render_parts(content, language=language, organisation=organisation, recipient=recipient,
                                       link=link, unsubscribe_url=unsubscribe_url, manage_url=f"{base}/digests",
                                       pdf_name=pdf_name)
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to a report
    message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"  # RFC 8058
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    if with_pdf:
        pdf = monthly_report_pdf(session, month, language=language, min_n=min_n, organisation=organisation)
        message.add_attachment(pdf, maintype="application", subtype="pdf", filename=pdf_name)
    return message
