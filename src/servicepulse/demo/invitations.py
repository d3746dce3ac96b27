"""The demo's survey invitations and text messages, consistent with its responses.

The journey-end survey goes out as the live trigger rule would send it: shortly after a case closes, to every
customer who has not opted out, by e-mail or (a quarter of those with a mobile number) by SMS; one reminder
after three days to whoever has not answered; the link expires after 14 days. So:

* every demo response answers an invitation (``responses.invitation_id``) of its own case and channel, sent
  before it was submitted: status 'responded', ``responded_at`` = the response's time;
* the closed cases nobody answered about have an invitation 'sent' (link still valid at the data's end),
  'expired' (14 days passed) or, for about 3% of text messages, 'failed' (the provider could not deliver);
* every SMS invitation has its text message (and its reminder's), delivered or failed with the provider's
  error code, under the provider name ``demo``.

Privacy: the rows are the customer's (invitations go with the customer on erasure, text messages with their
invitation). The text messages keep no phone number, only a keyed hash under a demo key, as the live table
keeps an HMAC under the installation secret; a STOP reply cannot match a demo message (the numbers are fake).
Token hashes are of random tokens nobody holds: no demo invitation link can be opened.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from servicepulse.demo.generate import END_H, DemoData, _local_to_utc
from servicepulse.invitations.tokens import keyed_hash

SEND_DELAY = pd.Timedelta(minutes=10)  # the trigger rule sends shortly after the case closes
REMINDER_AFTER = pd.Timedelta(days=3)
EXPIRES_AFTER = pd.Timedelta(days=14)
SMS_SHARE = 0.25  # of the customers with a mobile number, as for the responses (demo/generate.py)
SMS_FAILED = 0.03  # text messages the provider could not deliver
FAILED_CODE = "30003"  # "unreachable handset", the provider's code the delivery page shows
PROVIDER = "demo"
RECIPIENT_KEY = "servicepulse-demo-recipients"  # not the installation secret: see the module's docstring


@dataclass(frozen=True)
class DemoInvitations:
    invitations: pd.DataFrame  # one row per invitation: case, customer, journey, channel, language, status, times
    response_invitation: np.ndarray  # per response (data.responses' order): its invitation's row
    texts: pd.DataFrame  # one row per text message: invitation row, purpose, status, error code, times, parts


def data_end(data: DemoData) -> pd.Timestamp:
    """The moment the demo's data end (the generator's END_H), in UTC."""
    return _local_to_utc(np.array([END_H]), data.first_day)[0]


def build(data: DemoData, seed: int) -> DemoInvitations:
    """The invitations of ``data`` (seeded apart from the generator, so adding them changes no other figure)."""
    rng = np.random.default_rng([seed, 4711])
    end = data_end(data)
    customers, responses = data.customers, data.responses
    closed = data.cases[data.cases["closed_at"].notna()]
    submitted_of = pd.Series(responses["submitted_at"].to_numpy(), index=responses["case"].to_numpy())
    answered = closed.index.isin(submitted_of.index)
    opted = customers["opted_out_at"].notna().to_numpy()[closed["customer"].to_numpy()]
    sent_at = closed["closed_at"] + SEND_DELAY
    keep = (~opted & (sent_at < end).to_numpy()) | answered  # every respondent was asked
    inv = pd.DataFrame({"case": closed.index[keep], "customer": closed["customer"].to_numpy()[keep],
                        "journey": closed["journey"].to_numpy()[keep]})
    submitted = pd.Series(submitted_of.reindex(inv["case"]).to_numpy(), index=inv.index)
    got = submitted.notna().to_numpy()
    # an answer within minutes of the closing: the invitation went out just before it
    inv["sent_at"] = sent_at.to_numpy()[keep]
    inv["sent_at"] = inv["sent_at"].where(~(submitted <= inv["sent_at"]), submitted - pd.Timedelta(minutes=1))
    inv["language"] = customers["language"].to_numpy()[inv["customer"].to_numpy()]

    has_phone = customers["phone"].notna().to_numpy()[inv["customer"].to_numpy()]
    channel = np.where((rng.random(len(inv)) < SMS_SHARE) & has_phone, "sms", "email").astype(object)
    channel_of = pd.Series(responses["channel"].to_numpy(), index=responses["case"].to_numpy())
    channel[got] = channel_of.reindex(inv["case"][got]).to_numpy()  # asked where they answered
    inv["channel"] = channel

    inv["expires_at"] = inv["sent_at"] + EXPIRES_AFTER
    inv["responded_at"] = submitted
    failed = ~got & (channel == "sms") & (rng.random(len(inv)) < SMS_FAILED)
    inv["status"] = np.select([got, failed, (inv["expires_at"] <= end).to_numpy()],
                              ["responded", "failed", "expired"], "sent")
    reminder = inv["sent_at"] + REMINDER_AFTER
    needs = ((~got | (submitted > reminder).to_numpy()) & ~failed & (reminder < end).to_numpy()
             & (reminder < inv["expires_at"]).to_numpy())
    inv["reminder_sent_at"] = reminder.where(needs)
    inv["token_hash"] = [hashlib.sha256(rng.bytes(24)).hexdigest() for _ in range(len(inv))]

    row_of_case = pd.Series(np.arange(len(inv)), index=inv["case"].to_numpy())
    response_invitation = row_of_case.reindex(responses["case"].to_numpy()).to_numpy()
    return DemoInvitations(inv, response_invitation, _texts(rng, inv, customers, failed))


def _texts(rng, inv: pd.DataFrame, customers: pd.DataFrame, failed: np.ndarray) -> pd.DataFrame:
    sms = np.flatnonzero((inv["channel"] == "sms").to_numpy())
    phones = customers["phone"].to_numpy()[inv["customer"].to_numpy()[sms]]
    hashes = {p: keyed_hash(RECIPIENT_KEY, p.replace(" ", "")) for p in set(phones)}
    first = pd.DataFrame({"invitation": sms, "purpose": "invitation", "at": inv["sent_at"].to_numpy()[sms],
                          "status": np.where(failed[sms], "failed", "delivered"),
                          "error_code": np.where(failed[sms], FAILED_CODE, None),
                          "recipient_hash": [hashes[p] for p in phones]})
    reminded = sms[inv["reminder_sent_at"].notna().to_numpy()[sms]]
    again = pd.DataFrame({"invitation": reminded, "purpose": "reminder",
                          "at": inv["reminder_sent_at"].to_numpy()[reminded], "status": "delivered",
                          "error_code": None,
                          "recipient_hash": [hashes[p] for p in
                                             customers["phone"].to_numpy()[inv["customer"].to_numpy()[reminded]]]})
    texts = pd.concat([first, again], ignore_index=True).sort_values("at", kind="stable").reset_index(drop=True)
    texts["at"] = pd.to_datetime(texts["at"], utc=True)
    texts["status_at"] = texts["at"] + pd.to_timedelta(rng.integers(2, 40, len(texts)), unit="s")
    # a Dutch or English invitation with its link fits in one or two 160-character parts
    texts["parts"] = np.where(rng.random(len(texts)) < 0.7, 1, 2)
    return texts
