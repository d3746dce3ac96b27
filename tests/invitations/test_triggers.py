"""Trigger rules end to end through the job worker, with a real SMTP server on loopback."""

from __future__ import annotations

from datetime import timedelta

import pytest
from scipy.stats import binomtest
from sqlalchemy import func, select

from servicepulse.db.session import UnitOfWork
from servicepulse.errors import ValidationFailed
from servicepulse.invitations import on_events, rules, sampled_in, service
from servicepulse.invitations.decisions import decide
from servicepulse.invitations.tokens import hash_token
from servicepulse.jobs import run_pending
from servicepulse.models import Case, Customer, Invitation, Job, Response, utcnow
from servicepulse.models.invitations import InvitationToken, TriggerDecision
from servicepulse.surveys import load_template

from .support import add_case, add_customer, hours, html_part, seed_world, text_part, token_in

T0 = utcnow().replace(microsecond=0) - timedelta(hours=1)  # events are recent, as in production


def _drain(engine, now):
    """Run everything due at `now`, including jobs that running jobs enqueue for `now`."""
    total = 0
    while (claimed := run_pending(engine, now=now, limit=50).claimed):
        total += claimed
    return total


def _rule(session, **overrides):
    raw = {"key": "contact_closed", "survey": "after_contact", "journey": "service", "activity": "Contact closed",
           "delay": "2h", "require_closed": True, "reminder_after_days": 3} | overrides
    return rules.upsert_rule(session, raw)


def _reasons(engine) -> dict:
    with UnitOfWork(engine, readonly=True) as s:
        rows = s.execute(select(Case.external_id, TriggerDecision.reason)
                         .join(Case, Case.id == TriggerDecision.case_id)).all()
    return dict(rows)


def test_case_event_leads_to_an_invitation_e_mail_after_the_delay(engine, smtp):
    with UnitOfWork(engine) as s:
        world = seed_world(s)
        _rule(s)
        customer = add_customer(s, "C1", email="sanne@example.nl", language="nl")
        case = add_case(s, "CASE-1", customer, world["journey"],
                        [("Contact opened", T0), ("Contact closed", T0 + timedelta(minutes=20))],
                        closed_at=T0 + timedelta(minutes=20))
        on_events(s, [case.id], now=T0 + timedelta(minutes=20))
    closed = T0 + timedelta(minutes=20)
    _drain(engine, closed)
    assert _reasons(engine) == {}  # matched, but the decision waits for the delay
    _drain(engine, closed + hours(1.9))
    assert _reasons(engine) == {} and smtp.inbox.messages == []
    _drain(engine, closed + hours(2))
    assert _reasons(engine) == {"CASE-1": "invited"}

    [message] = smtp.inbox.wait_for(1)
    assert message["To"].addresses[0].addr_spec == "sanne@example.nl"
    assert message["From"].addresses[0].addr_spec == "feedback@glasvezelnoord.example"
    assert message["Subject"] == "Hoe was uw contact met ons?"  # the survey's Dutch title
    assert "Beste Sanne de Vries" in text_part(message)
    token = token_in(message)
    assert len(token) >= 43  # 256 bits in URL-safe base64
    assert f"/s/{token}" in html_part(message) and '<html lang="nl">' in html_part(message)
    assert f"/s/{token}/opt-out" in text_part(message)
    assert message["List-Unsubscribe"].strip() == f"<http://survey.test/s/{token}/opt-out>"

    with UnitOfWork(engine, readonly=True) as s:
        invitation = service.resolve(s, token, closed + hours(2))
        assert invitation.status == "sent" and invitation.token_hash == hash_token(token)
        assert invitation.expires_at == closed + hours(2) + timedelta(days=14)
        # The token itself is stored nowhere: not on the invitation, not in any job payload.
        payloads = " ".join(str(p) for p in s.scalars(select(Job.payload)))
        assert token not in payloads and token not in invitation.token_hash
    # Re-importing the same events changes nothing: the rule considered this case once.
    with UnitOfWork(engine) as s:
        on_events(s, [case.id], now=closed + hours(3))
    _drain(engine, closed + hours(3))
    with UnitOfWork(engine, readonly=True) as s:
        assert s.scalar(select(func.count()).select_from(Invitation)) == 1
        assert s.scalar(select(func.count()).select_from(TriggerDecision)) == 1


def test_every_skip_reason_is_recorded(engine, smtp):
    with UnitOfWork(engine) as s:
        world = seed_world(s)
        # A second survey at another moment: the throttle spans surveys.
        from servicepulse.models import Moment

        s.add(Moment(journey_id=world["journey"].id, key="visit", position=1, name_nl="Bezoek", name_en="Visit",
                     kind="emotional", norm=9.0))
        s.flush()
        load_template(s, "after_visit", moment="service/visit")
        _rule(s, delay=0)
        rules.upsert_rule(s, {"key": "visit_done", "survey": "after_visit", "activity": "Visit *", "delay": 0})
        happy = add_customer(s, "C-happy", email="a@example.nl")
        opted = add_customer(s, "C-opted", email="b@example.nl")
        opted.opted_out_at = T0 - timedelta(days=1)
        silent = add_customer(s, "C-silent", email=None)
        waiting = add_customer(s, "C-open", email="c@example.nl")
        j = world["journey"]
        cases = [
            add_case(s, "K-happy", happy, j, [("Contact closed", T0)], closed_at=T0),
            add_case(s, "K-happy-visit", happy, j, [("Visit done", T0 + timedelta(minutes=5))]),
            add_case(s, "K-opted", opted, j, [("Contact closed", T0)], closed_at=T0),
            add_case(s, "K-silent", silent, j, [("Contact closed", T0)], closed_at=T0),
            add_case(s, "K-open", waiting, j, [("Contact closed", T0)], closed_at=None),
            add_case(s, "K-other", waiting, j, [("Contact reopened", T0)]),
            add_case(s, "K-old", waiting, j, [("Contact closed", T0 - timedelta(days=30))],
                     closed_at=T0 - timedelta(days=30)),
        ]
        on_events(s, [c.id for c in cases], now=T0)
    _drain(engine, T0 + timedelta(minutes=10))
    assert _reasons(engine) == {
        "K-happy": "invited",
        "K-happy-visit": "throttled",  # a different survey, same customer, within 30 days
        "K-opted": "opted_out",
        "K-silent": "no_contact",
        "K-open": "case_open",
        # K-other: no matching event; K-old: a history import invites nobody
    }
    assert len(smtp.inbox.wait_for(1)) == 1


def test_sampling_is_deterministic_and_has_the_requested_rate(engine):
    with UnitOfWork(engine) as s:
        world = seed_world(s)
        rule = _rule(s, sample_percent=30, throttle_days=0, require_closed=False)
        customer = add_customer(s, "C-many")
        cases = [add_case(s, f"S-{i:03d}", customer, world["journey"], [("Contact closed", T0)]) for i in range(40)]
        first = {c.external_id: decide(s, rule, c, None, T0).reason for c in cases}
        s.execute(TriggerDecision.__table__.delete())
        # A rerun later, in another order, decides every case the same way.
        again = {c.external_id: decide(s, rule, c, None, T0 + timedelta(days=1)).reason for c in reversed(cases)}
    assert again == first
    assert set(first.values()) == {"invited", "sampled_out"}
    # The hash behaves like independent draws at p = 0.3 (two-sided exact binomial test over 4,000 cases).
    draws = [sampled_in("contact_closed", f"CASE-{i}", 30) for i in range(4000)]
    assert binomtest(sum(draws), len(draws), 0.3).pvalue > 0.001
    assert all(sampled_in("r", f"x{i}", 100) for i in range(50)) and not any(sampled_in("r", f"x{i}", 0) for i in range(50))


def test_reminder_once_with_its_own_link_and_none_after_a_response(engine, smtp):
    with UnitOfWork(engine) as s:
        world = seed_world(s)
        _rule(s, delay=0, require_closed=False)
        a = add_customer(s, "C-a", email="a@example.nl", language="en", name=None)
        b = add_customer(s, "C-b", email="b@example.nl")
        ca = add_case(s, "R-a", a, world["journey"], [("Contact closed", T0)])
        cb = add_case(s, "R-b", b, world["journey"], [("Contact closed", T0)])
        on_events(s, [ca.id, cb.id], now=T0)
    _drain(engine, T0)
    first = {m["To"].addresses[0].addr_spec: m for m in smtp.inbox.wait_for(2)}
    assert first["a@example.nl"]["Subject"] == "How was your contact with us?"
    assert "Dear customer," in text_part(first["a@example.nl"])
    # Customer b answers completely before the reminder is due.
    with UnitOfWork(engine) as s:
        inv_b = service.resolve(s, token_in(first["b@example.nl"]), T0)
        s.add(Response(survey_version_id=inv_b.survey_version_id, invitation_id=inv_b.id, customer_id=inv_b.customer_id,
                       submitted_at=T0 + hours(1), completed=True, ces=6))
        inv_b.status = "responded"
    _drain(engine, T0 + timedelta(days=3) - hours(1))
    assert len(smtp.inbox.messages) == 2
    _drain(engine, T0 + timedelta(days=3))
    messages = smtp.inbox.wait_for(3)
    assert len(messages) == 3
    reminder = messages[2]
    assert reminder["To"].addresses[0].addr_spec == "a@example.nl"
    assert reminder["Subject"].startswith("Reminder:")
    old_token, new_token = token_in(first["a@example.nl"]), token_in(reminder)
    assert old_token != new_token
    with UnitOfWork(engine, readonly=True) as s:
        assert service.resolve(s, old_token, T0 + timedelta(days=4)).id == service.resolve(s, new_token, T0 + timedelta(days=4)).id
        assert s.scalar(select(func.count()).select_from(InvitationToken)) == 1
        # Both links stop at the expiry.
        with pytest.raises(service.LinkExpired):
            service.resolve(s, new_token, T0 + timedelta(days=14))
    _drain(engine, T0 + timedelta(days=10))
    assert len(smtp.inbox.messages) == 3  # at most one reminder


def test_mail_server_down_retries_then_sends(engine, smtp, monkeypatch):
    from servicepulse.settings import get_settings

    from .support import free_port

    monkeypatch.setenv("SERVICEPULSE_SMTP_PORT", str(free_port()))  # nothing listens there
    get_settings.cache_clear()
    with UnitOfWork(engine) as s:
        world = seed_world(s)
        _rule(s, delay=0, require_closed=False)
        c = add_case(s, "D-1", add_customer(s, "C-d"), world["journey"], [("Contact closed", T0)])
        on_events(s, [c.id], now=T0)
    _drain(engine, T0)
    with UnitOfWork(engine, readonly=True) as s:
        job = s.scalar(select(Job).where(Job.kind == "invitations.send"))
        assert (job.status, job.attempts) == ("queued", 1)
        assert "cannot send e-mail through 127.0.0.1" in job.last_error
        assert s.scalar(select(Invitation.status)) == "scheduled"
    monkeypatch.setenv("SERVICEPULSE_SMTP_PORT", str(smtp.port))
    get_settings.cache_clear()
    _drain(engine, T0 + timedelta(seconds=30))
    assert len(smtp.inbox.wait_for(1)) == 1
    with UnitOfWork(engine, readonly=True) as s:
        assert s.scalar(select(Invitation.status)) == "sent"


def test_opt_out_stops_the_reminder_and_later_invitations(engine, smtp):
    with UnitOfWork(engine) as s:
        world = seed_world(s)
        _rule(s, delay=0, require_closed=False, throttle_days=0)
        customer = add_customer(s, "C-o")
        c1 = add_case(s, "O-1", customer, world["journey"], [("Contact closed", T0)])
        on_events(s, [c1.id], now=T0)
    _drain(engine, T0)
    token = token_in(smtp.inbox.wait_for(1)[0])
    with UnitOfWork(engine) as s:
        service.opt_out(s, service.resolve(s, token, T0 + hours(1)), T0 + hours(1))
    with UnitOfWork(engine) as s:
        c2 = add_case(s, "O-2", s.scalar(select(Customer)), world["journey"], [("Contact closed", T0 + hours(2))])
        on_events(s, [c2.id], now=T0 + hours(2))
    _drain(engine, T0 + hours(2))
    _drain(engine, T0 + timedelta(days=5))
    assert len(smtp.inbox.messages) == 1
    assert _reasons(engine) == {"O-1": "invited", "O-2": "opted_out"}


def test_rule_files_report_problems_by_place(engine, tmp_path):
    with UnitOfWork(engine) as s:
        seed_world(s)
    path = tmp_path / "rules.yaml"
    path.write_text("rules:\n  - key: a\n    survey: after_contact\n    activity: Contact closed\n    delay: 2 weeks\n"
                    "  - key: b\n    survey: no_such_survey\n    activity: X\n")
    with UnitOfWork(engine) as s, pytest.raises(ValidationFailed) as failure:
        rules.load_rules_file(s, path)
    assert "rules/0/delay" in str(failure.value) and "2 weeks" in str(failure.value)
    path.write_text("rules:\n  - key: b\n    survey: no_such_survey\n    activity: X\n    sample_percent: 120\n")
    with UnitOfWork(engine) as s, pytest.raises(ValidationFailed) as failure:
        rules.load_rules_file(s, path)
    assert failure.value.problems[0][0] == "rules/0/sample_percent"
    path.write_text("rules:\n  - key: b\n    survey: no_such_survey\n    activity: X\n")
    with UnitOfWork(engine) as s, pytest.raises(ValidationFailed, match="survey 'no_such_survey' does not exist"):
        rules.load_rules_file(s, path)
    path.write_text("rules:\n  - key: good\n    survey: after_contact\n    journey: service\n    activity: 'Contact *'\n"
                    "    delay: 1d\n    sample_percent: 25\n    reminder_after_days: null\n")
    with UnitOfWork(engine) as s:
        [view] = rules.load_rules_file(s, path)
    assert (view.delay_minutes, view.sample_percent, view.reminder_after_days, view.journey_key) == (1440, 25, None, "service")


def test_activity_patterns_treat_sql_wildcards_literally(engine):
    from servicepulse.invitations.rules import activity_matches
    from servicepulse.models import CaseEvent

    with UnitOfWork(engine) as s:
        world = seed_world(s)
        names = ["50% done", "500 done", "Contact_closed", "ContactXclosed", "Visit done", "Visit"]
        case = add_case(s, "P-1", None, world["journey"], [(n, T0) for n in names])

        def hits(pattern):
            return sorted(s.scalars(select(CaseEvent.activity).where(CaseEvent.case_id == case.id,
                                                                     activity_matches(CaseEvent.activity, pattern))))

        assert hits("50% *") == ["50% done"]
        assert hits("Contact_closed") == ["Contact_closed"]
        assert hits("Contact?closed") == ["ContactXclosed", "Contact_closed"]
        assert hits("Visit *") == ["Visit done"]
        assert hits("*") == sorted(names)
