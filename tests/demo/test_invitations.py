"""The demo sends its surveys (demo/invitations.py): sent, answered, expired and failed invitations by e-mail
and SMS, consistent with its responses. Checked in the loaded database against the responses, the cases and
the customers, and against the survey page's own counts."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.demo.generate import generate
from servicepulse.demo.invitations import data_end
from servicepulse.metrics import survey_repository
from servicepulse.models import Case, Customer, Invitation, Response
from servicepulse.models.invitations import TextMessage

from .conftest import TINY_SEED


def _frame(session, query) -> pd.DataFrame:
    result = session.execute(query)
    return pd.DataFrame(result.all(), columns=list(result.keys()))


def test_every_journey_answer_answers_its_own_invitation_and_the_rest_expire_or_wait(loaded):
    engine, summary = loaded
    end = data_end(generate("tiny", seed=TINY_SEED))
    with UnitOfWork(engine, readonly=True) as s:
        inv = _frame(s, select(Invitation.id, Invitation.case_id, Invitation.customer_id, Invitation.channel,
                               Invitation.status, Invitation.sent_at, Invitation.expires_at,
                               Invitation.responded_at, Invitation.reminder_sent_at, Invitation.survey_version_id))
        resp = _frame(s, select(Response.id, Response.invitation_id, Response.case_id, Response.customer_id,
                                Response.channel, Response.submitted_at, Response.survey_version_id)
                      .join(Case, Case.id == Response.case_id).where(Case.journey_id.is_not(None)))
        phones = dict(s.execute(select(Customer.id, Customer.phone)).all())
        texts = _frame(s, select(TextMessage.invitation_id, TextMessage.purpose, TextMessage.status))
        totals = survey_repository.totals(s)
    assert summary.invitations == len(inv) > len(resp) > 0
    assert {"responded", "expired", "email", "sms"} <= set(inv["status"]) | set(inv["channel"])

    # every journey answer answers an invitation of its own case, customer, survey and channel, sent before it
    assert resp["invitation_id"].notna().all() and resp["invitation_id"].is_unique
    joined = resp.merge(inv, left_on="invitation_id", right_on="id", suffixes=("", "_inv"))
    assert len(joined) == len(resp)
    for column in ("case_id", "customer_id", "channel", "survey_version_id"):
        assert (joined[column] == joined[column + "_inv"]).all(), column
    assert (joined["status"] == "responded").all()
    assert (joined["sent_at"] < joined["submitted_at"]).all()
    assert (joined["responded_at"] == joined["submitted_at"]).all()
    assert (inv["status"] == "responded").sum() == len(resp)

    # the unanswered ones: expired when 14 days passed before the data's end, else still open (or failed)
    rest = inv[inv["status"] != "responded"]
    assert rest["responded_at"].isna().all()
    assert (rest.loc[rest["status"] == "expired", "expires_at"] <= end).all()
    assert (rest.loc[rest["status"] == "sent", "expires_at"] > end).all()
    assert ((inv["expires_at"] - inv["sent_at"]) == timedelta(days=14)).all()
    # one reminder, three days on, only to whoever had not answered by then
    reminded = inv[inv["reminder_sent_at"].notna()]
    assert ((reminded["reminder_sent_at"] - reminded["sent_at"]) == timedelta(days=3)).all()
    assert not (reminded["responded_at"] < reminded["reminder_sent_at"]).any()

    # text messages: only to customers with a number, one per SMS invitation and one per its reminder
    sms = inv[inv["channel"] == "sms"]
    assert all(phones[c] for c in sms["customer_id"])
    first = texts[texts["purpose"] == "invitation"]
    assert sorted(first["invitation_id"]) == sorted(sms["id"])
    assert sorted(texts.loc[texts["purpose"] == "reminder", "invitation_id"]) == \
        sorted(sms.loc[sms["reminder_sent_at"].notna(), "id"])
    failed = set(first.loc[first["status"] == "failed", "invitation_id"])
    assert failed == set(inv.loc[inv["status"] == "failed", "id"])
    assert set(texts["invitation_id"]) <= set(sms["id"])

    # the survey page counts them: sent = sent + answered + expired; answered via an invitation = the answers
    by_version = inv.groupby("survey_version_id")
    assert sum(t.invitations_sent for t in totals) == int(inv["status"].isin(["sent", "responded", "expired"]).sum())
    assert sum(t.invitations_answered for t in totals) == len(resp)
    assert len(by_version) >= 2
