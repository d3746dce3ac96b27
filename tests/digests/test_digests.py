"""Digest mails end to end: the job worker sends them to a real SMTP server once per subscription, recipient and
period; the MIME is parsed (plain text, HTML, the PDF opened by pdftotext); the figures are checked against a
computation by hand from the answers written and against the /metrics page of the same period; the one-click
unsubscribe link works once, without logging in, and stops later sends; what a digest shows is cut to the
recipient's role and teams."""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta
from email.message import EmailMessage

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from servicepulse.db.session import UnitOfWork
from servicepulse.digests import service
from servicepulse.digests.jobs import SCHEDULE_JOB
from servicepulse.errors import ValidationFailed
from servicepulse.jobs.queue import enqueue, run_pending
from servicepulse.kernels.statistics import compare_nps, format_p
from servicepulse.models import Job, User
from servicepulse.models.digests import DigestSend, DigestSubscription
from servicepulse.settings import get_settings

from ..web.test_dutch_complete import untranslated
from .conftest import BASE, CURRENT_WEEK, MONTHLY_NOW, OCTOBER, PREVIOUS_WEEK, SUBSCRIBED_AT, WEEKLY_NOW, login

ZONE = get_settings().zone()


def subscribe(engine, who_id: int, frequency: str, team_id: int | None = None) -> int:
    with UnitOfWork(engine) as s:
        row = service.subscribe(s, s.get(User, who_id), frequency, team_id, SUBSCRIBED_AT)
        return row.id


def run_schedule(engine, now) -> None:
    """What the worker does: the hourly schedule job, then the send jobs it queued."""
    with UnitOfWork(engine) as s:
        enqueue(s, SCHEDULE_JOB, {}, run_at=now, dedupe_key=f"test-schedule:{now.isoformat()}")
    for _ in range(3):
        if run_pending(engine, now=now, limit=50).claimed == 0:
            break


def parts(message: EmailMessage) -> tuple[str, str, bytes | None]:
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    pdfs = [p for p in message.iter_attachments() if p.get_content_type() == "application/pdf"]
    return text, html, pdfs[0].get_content() if pdfs else None


def nps_of(rows) -> float:
    scores = [r[2] for r in rows]
    return 100 * (sum(s >= 9 for s in scores) - sum(s <= 6 for s in scores)) / len(scores)


def mean(values) -> float:
    return sum(values) / len(values)


def nl(value: float, digits: int) -> str:
    return f"{value:.{digits}f}".replace(".", ",")


def figure_row(html: str, key: str) -> str:
    match = re.search(rf'<tr data-measure="{key}">(.*?)</tr>', html, re.S)
    assert match, f"no {key} row in the HTML part"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match[1])).strip()


def test_a_monthly_digest_reaches_the_inbox_once_with_figures_of_the_metrics_page(engine, world, smtp, app, tmp_path):
    admin = subscribe(engine, world.users["admin"], "monthly")  # Dutch, the whole organisation
    run_schedule(engine, MONTHLY_NOW - timedelta(hours=2, minutes=1))  # 05:59 in Amsterdam: not yet
    assert smtp.inbox.messages == []
    run_schedule(engine, MONTHLY_NOW)
    run_schedule(engine, MONTHLY_NOW + timedelta(hours=1))  # the job runs again: nothing new goes out
    (mail,) = smtp.inbox.wait_for(1)
    assert len(smtp.inbox.wait_for(2, timeout=1)) == 1
    with UnitOfWork(engine, readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(DigestSend)) == 1
        assert s.scalar(select(func.count()).select_from(Job).where(Job.kind == "digests.send")) == 1

    assert mail["To"] == "admin@example.org" and mail["From"] == "feedback@glasvezelnoord.example"
    assert mail["Subject"] == "Glasvezel Noord: maandoverzicht november 2026 (de hele organisatie)"
    assert mail.get_content_type() == "multipart/mixed"
    unsubscribe_url = re.fullmatch(r"<(.+)>", mail["List-Unsubscribe"])[1]
    assert unsubscribe_url.startswith(f"{BASE}/s/dg.{admin}.") and unsubscribe_url.endswith("/unsubscribe")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html, pdf = parts(mail)

    # November (both weeks, both teams) against October, computed by hand from the answers written
    november = PREVIOUS_WEEK + CURRENT_WEEK
    nps_now, nps_before = nps_of(november), nps_of(OCTOBER)
    grade_now, ces_now = mean([r[3] for r in november]), mean([r[4] for r in november])
    assert f"NPS: {nl(nps_now, 0)} (n = {len(november)}); vorige periode {nl(nps_before, 0)}" in text
    assert f"Rapportcijfer (1-10): {nl(grade_now, 1)} (n = {len(november)})" in text
    assert f"Klantinspanning (CES, 1-7): {nl(ces_now, 1)} (n = {len(november)})" in text
    counts = lambda rows: (sum(r[2] <= 6 for r in rows), sum(7 <= r[2] <= 8 for r in rows),  # noqa: E731
                           sum(r[2] >= 9 for r in rows))
    change = compare_nps(counts(OCTOBER), counts(november))
    assert change.difference == pytest.approx(nps_now - nps_before)
    assert change.p_value < 0.05
    nps_row = figure_row(html, "nps")
    assert nps_row.startswith(f"NPS {nl(nps_now, 0)} n = {len(november)} {nl(nps_before, 0)} +{nl(nps_now - nps_before, 0)}")
    assert f"significant (p {format_p(change.p_value, 'nl') if format_p(change.p_value, 'nl').startswith('<') else '= ' + format_p(change.p_value, 'nl')})" in nps_row

    # the /metrics page of the same month shows the same headline
    with TestClient(app, base_url="http://testserver") as client:
        assert login(client, "admin@example.org").status_code == 303
        page = client.get("/metrics?month=2026-11").text
    headline = re.search(r'<dl class="figures">(.*?)</dl>', page, re.S)[1]
    shown = re.findall(r"<dd><strong>([^<]+)</strong>", headline)
    assert shown[0] == nl(nps_now, 0) and shown[1] == nl(grade_now, 1)
    assert nl(ces_now, 1) in shown

    # the repair (norm 8, graded as the grade) scores below its norm in November; the first contact does not
    repair = grade_now
    assert repair < 8 and mean([min(10, r[3] + 1) for r in november]) >= 7
    assert f"Service – Reparatie: {nl(repair, 1)} (norm 8,0, n = {len(november)}, zeker onder de norm)" in text
    assert "Reparatie" in html and "&lt; norm 8,0" in html and "Eerste contact" not in text + html

    # links: the page of the same period, the unsubscribe and the management page; the PDF opens
    assert f"{BASE}/metrics?month=2026-11" in text and f'href="{BASE}/metrics?month=2026-11"' in html
    assert unsubscribe_url in text and unsubscribe_url in html and f"{BASE}/digests" in html
    assert pdf is not None and pdf.startswith(b"%PDF")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    report = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "november 2026" in report.lower() and "Glasvezel Noord" in report
    assert "In de bijlage: het maandrapport over november 2026 (PDF)." in text
    assert untranslated(html) == []  # the Dutch mail has no English, raw keys, decimal points or ISO days
    # no customer data travels in a digest
    for secret in ("klant-A@example.org", "Klant A", "C-A", "K-A"):
        assert secret not in text and secret not in html


def test_a_weekly_digest_in_english_for_a_team_lead(engine, world, smtp):
    subscribe(engine, world.users["lead"], "weekly", world.team_a)
    run_schedule(engine, WEEKLY_NOW)
    (mail,) = smtp.inbox.wait_for(1)
    assert mail["Subject"] == "Glasvezel Noord: weekly digest 23 Nov 2026 to 29 Nov 2026 (Team A)"
    text, html, pdf = parts(mail)
    team_a_now = [r for r in CURRENT_WEEK if r[0] == "A"]
    assert f"NPS: {nps_of(team_a_now):.0f} (n = {len(team_a_now)}); previous period {nps_of(PREVIOUS_WEEK):.0f}" in text
    assert "Hello Lead," in text and "This is the weekly digest of Team A for 23 Nov 2026 to 29 Nov 2026" in text
    assert f"{BASE}/metrics?from=2026-11-23&to=2026-11-30&period=week&team={world.team_a}" in text
    assert pdf is not None  # a team lead may see the monthly report (the /metrics pages' roles)
    assert "Attached: the monthly report for October 2026 (PDF)." in text  # the newest complete month


def test_unsubscribe_link_works_once_without_login_and_stops_later_digests(engine, world, smtp, app):
    sub = subscribe(engine, world.users["analyst"], "weekly")
    run_schedule(engine, WEEKLY_NOW)
    (mail,) = smtp.inbox.wait_for(1)
    url = re.fullmatch(r"<(.+)>", mail["List-Unsubscribe"])[1]
    path = url.removeprefix(BASE)
    with TestClient(app, base_url="http://testserver") as client:  # no session: the link is its own proof
        asked = client.get(path)
        assert asked.status_code == 200 and 'id="unsubscribe"' in asked.text
        with UnitOfWork(engine, readonly=True) as s:  # a GET (a link preview, a scanner) changes nothing
            assert s.get(DigestSubscription, sub) is not None
        first = client.post(path, data={"List-Unsubscribe": "One-Click"})  # RFC 8058, as a mail client posts it
        assert (first.status_code, first.text) == (200, "done")
        again = client.post(path, data={"List-Unsubscribe": "One-Click"})
        assert (again.status_code, again.text) == (200, "already")
        page = client.get(path)
        assert page.status_code == 200 and 'id="already"' in page.text
        forged = path.replace(f"dg.{sub}.{world.users['analyst']}.", f"dg.{sub}.{world.users['admin']}.")
        assert client.post(forged, data={"List-Unsubscribe": "One-Click"}).status_code == 403
        assert client.get("/s/dg.1.1.nonsense/unsubscribe").status_code == 404
    with UnitOfWork(engine, readonly=True) as s:
        assert s.get(DigestSubscription, sub) is None
    run_schedule(engine, WEEKLY_NOW + timedelta(days=7))  # the next week's digest: nobody left to send to
    assert len(smtp.inbox.wait_for(2, timeout=1)) == 1


def test_a_team_digest_goes_to_each_member_cut_to_the_team_and_a_member_can_leave_it(engine, world, smtp, app):
    with UnitOfWork(engine) as s:
        sub = service.subscribe_team(s, world.team_a, "weekly", world.users["admin"], SUBSCRIBED_AT).id
    run_schedule(engine, WEEKLY_NOW)
    mails = smtp.inbox.wait_for(3)
    assert sorted(m["To"] for m in mails) == ["agent-a2@example.org", "agent-a@example.org", "lead@example.org"]
    by_to = {m["To"]: parts(m) for m in mails}
    team_a_now = [r for r in CURRENT_WEEK if r[0] == "A"]
    text_en, _, pdf_agent = by_to["agent-a@example.org"]
    assert f"Based on {len(team_a_now)} responses." in text_en  # team A only, not team B's answers
    assert pdf_agent is None  # agents do not see the organisation's monthly report, nor the /metrics pages
    assert f"See the figures on the dashboard: {BASE}/\n" in text_en.replace("\r\n", "\n") and "/metrics" not in text_en
    assert "weekoverzicht" in by_to["agent-a2@example.org"][0]  # each member in their own language
    assert by_to["lead@example.org"][2] is not None

    url = re.fullmatch(r"<(.+)>", next(m for m in mails if m["To"] == "agent-a@example.org")["List-Unsubscribe"])[1]
    with TestClient(app, base_url="http://testserver") as client:
        done = client.post(url.removeprefix(BASE))  # a person's browser: the page answers
        assert done.status_code == 200 and 'id="unsubscribed"' in done.text
    with UnitOfWork(engine, readonly=True) as s:
        assert s.get(DigestSubscription, sub) is not None  # the others keep it
    run_schedule(engine, WEEKLY_NOW + timedelta(days=7))
    later = smtp.inbox.wait_for(5)[3:]
    assert sorted(m["To"] for m in later) == ["agent-a2@example.org", "lead@example.org"]


def test_subscriptions_are_cut_to_what_a_role_may_see(engine, world, smtp):
    with UnitOfWork(engine) as s:
        agent = s.get(User, world.users["agent-b"])
        with pytest.raises(ValidationFailed) as refused:
            service.subscribe(s, agent, "weekly", None, SUBSCRIBED_AT)  # agents do not see the organisation
        assert refused.value.problems == [("scope", "digests.error.scope")]
        with pytest.raises(ValidationFailed):
            service.subscribe(s, agent, "weekly", world.team_a, SUBSCRIBED_AT)  # another team
        with pytest.raises(ValidationFailed):
            service.subscribe(s, agent, "daily", world.team_b, SUBSCRIBED_AT)
        own = service.subscribe(s, agent, "weekly", world.team_b, SUBSCRIBED_AT)
        with pytest.raises(ValidationFailed) as twice:
            service.subscribe(s, agent, "weekly", world.team_b, SUBSCRIBED_AT)
        assert twice.value.problems == [("scope", "digests.error.duplicate")]
        # a lead who became an agent since subscribing to the organisation's figures gets no digest
        lead = s.get(User, world.users["lead"])
        org_sub = service.subscribe(s, lead, "weekly", None, SUBSCRIBED_AT)
        lead.role = "agent"
        ids = (own.id, org_sub.id)
    run_schedule(engine, WEEKLY_NOW)
    (mail,) = smtp.inbox.wait_for(1)
    assert mail["To"] == "agent-b@example.org"
    assert len(smtp.inbox.wait_for(2, timeout=1)) == 1
    with UnitOfWork(engine, readonly=True) as s:
        sent = s.scalars(select(DigestSend.subscription_id)).all()
    assert sent == [ids[0]]


def test_a_new_subscriber_gets_the_next_digest_not_an_old_one_and_deleting_the_user_deletes_it(engine, world, smtp):
    with UnitOfWork(engine) as s:
        row = service.subscribe(s, s.get(User, world.users["analyst"]), "monthly", None, MONTHLY_NOW + timedelta(hours=1))
        sub = row.id
    run_schedule(engine, MONTHLY_NOW + timedelta(hours=2))
    assert len(smtp.inbox.wait_for(1, timeout=1)) == 0
    with UnitOfWork(engine) as s:
        s.delete(s.get(User, world.users["analyst"]))
    with UnitOfWork(engine, readonly=True) as s:
        assert s.get(DigestSubscription, sub) is None


def test_digest_send_now_on_the_command_line(engine, world, smtp, cli):
    from ..cli.conftest import url_of

    subscribe(engine, world.users["admin"], "weekly")
    code, out, err = cli(url_of(engine), "digest", "send", "--now", "--at", "2026-12-02T12:00:00+01:00")
    assert code == 0, err
    assert "digests sent: 1, skipped: 0, failed: 0" in out
    (mail,) = smtp.inbox.wait_for(1)
    assert "weekoverzicht 23 nov 2026 t/m 29 nov 2026" in mail["Subject"]
    code, out, _ = cli(url_of(engine), "digest", "send", "--now", "--at", "2026-12-02T12:00:00+01:00")
    assert "digests sent: 0" in out  # once per period
    code, out, _ = cli(url_of(engine), "digest", "send", "--now", "--again", "--user", "admin@example.org",
                       "--at", "2026-12-02T12:00:00+01:00")
    assert code == 0 and "digests sent: 1" in out and len(smtp.inbox.wait_for(2)) == 2
    code, _, err = cli(url_of(engine), "digest", "send", "--user", "nobody@example.org")
    assert code != 0 and "nobody@example.org" in err
