"""The delivery page of text messages (#19 item 1): counts per local day, channel, provider and status, failure
reasons, paging, roles, bad input; no phone number anywhere. Expected figures are counted here from the
messages' own times (zoneinfo), independently of the page's hour buckets in SQL."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from servicepulse.db.session import UnitOfWork
from servicepulse.invitations import texting_views
from servicepulse.models import TextMessage

from ..web.conftest import app, client, fast_password_hashing, login, make_user, settings  # noqa: F401
from .support import add_customer, seed_world, sent_invitation

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
PHONE = "+31612345678"

# (UTC time, channel, provider, status, error code); times around midnight and the switch to summer time
MESSAGES = [
    (datetime(2026, 3, 28, 22, 59, tzinfo=UTC), "sms", "twilio", "delivered", None),   # 23:59 CET: the 28th
    (datetime(2026, 3, 28, 23, 0, tzinfo=UTC), "sms", "twilio", "delivered", None),    # 00:00 CET: the 29th
    (datetime(2026, 3, 29, 21, 59, tzinfo=UTC), "sms", "twilio", "failed", "30003"),   # 23:59 CEST: the 29th
    (datetime(2026, 3, 29, 22, 0, tzinfo=UTC), "sms", "twilio", "failed", "21610"),    # 00:00 CEST: the 30th
    (datetime(2026, 3, 29, 10, 0, tzinfo=UTC), "sms", "twilio", "sent", None),
    (datetime(2026, 3, 29, 10, 5, tzinfo=UTC), "sms", "twilio", "queued", None),
    (datetime(2026, 3, 29, 11, 0, tzinfo=UTC), "whatsapp", "whatsapp", "read", None),
    (datetime(2026, 3, 29, 11, 1, tzinfo=UTC), "whatsapp", "whatsapp", "failed", "131050"),
    (datetime(2026, 3, 29, 11, 2, tzinfo=UTC), "whatsapp", "whatsapp", "failed", "131999"),
    (datetime(2026, 3, 29, 12, 0, tzinfo=UTC), "sms", "messagebird", "failed", None),
]


@pytest.fixture
def messages(engine):
    with UnitOfWork(engine) as s:
        world = seed_world(s)
        customer = add_customer(s, "C-text")
        customer.phone = PHONE
        invitation, _ = sent_invitation(s, world["survey"], customer, datetime(2026, 3, 28, tzinfo=UTC))
        for n, (at, channel, provider, status, code) in enumerate(MESSAGES):
            s.add(TextMessage(invitation_id=invitation.id, channel=channel, provider=provider,
                              provider_message_id=f"m{n}", recipient_hash="h" * 64, parts=2 if channel == "sms" else 1,
                              status=status, error_code=code, sent_at=at))
    return MESSAGES


def _expected() -> Counter:
    counted = Counter()
    for at, channel, provider, status, code in MESSAGES:
        kind = "opted_out" if status == "failed" and code in ("21610", "131050") else status
        counted[(at.astimezone(AMSTERDAM).date().isoformat(), channel, provider, kind)] += 1
    return counted


def _row_cells(html: str, day: str, channel: str, provider: str) -> list[str]:
    match = re.search(rf'<tr data-day="{day}" data-channel="{channel}" data-provider="{provider}">(.*?)</tr>', html, re.S)
    assert match, f"no row for {day} {channel} {provider}"
    return re.findall(r'<td class="num">([^<]*)</td>', match.group(1))


def test_counts_per_local_day_channel_provider_and_status(client, make_user, messages):
    make_user("analyst@example.org", role="analyst", language="en")
    assert login(client, "analyst@example.org").status_code == 303
    page = client.get("/text-messages")
    assert page.status_code == 200
    html = page.text
    expected = _expected()
    keys = {(day, channel, provider) for day, channel, provider, _ in expected}
    assert keys == {("2026-03-28", "sms", "twilio"), ("2026-03-29", "sms", "twilio"), ("2026-03-30", "sms", "twilio"),
                    ("2026-03-29", "whatsapp", "whatsapp"), ("2026-03-29", "sms", "messagebird")}
    for day, channel, provider in keys:
        cells = _row_cells(html, day, channel, provider)
        counts = [expected[(day, channel, provider, s)] for s in texting_views.STATUSES]
        total = sum(counts)
        reached = expected[(day, channel, provider, "delivered")] + expected[(day, channel, provider, "read")]
        assert cells == [str(total), *[str(c) for c in counts], f"{100 * reached / total:.1f}%"], (day, channel)
    # newest day first
    days = re.findall(r'<tr data-day="([0-9-]+)"', html)
    assert days == sorted(days, reverse=True)
    # failure reasons, with the provider's code and a readable reason where one is known
    assert re.search(r'data-reason="twilio-30003">\s*<th scope="row">unreachable handset</th>', html)
    assert re.search(r'data-reason="whatsapp-131050">\s*<th scope="row">the recipient stopped', html)
    assert re.search(r"data-reason=\"whatsapp-131999\">\s*<th scope=\"row\">see the provider&#39;s documentation", html)
    assert re.search(r'data-reason="messagebird-">\s*<th scope="row">no reason reported', html)
    assert PHONE not in html and "612345678" not in html and "h" * 64 not in html


def test_dutch_page_filter_paging_and_bad_input(client, make_user, messages, monkeypatch):
    make_user("admin@example.org", role="admin", language="nl")
    assert login(client, "admin@example.org").status_code == 303
    html = client.get("/text-messages").text
    assert "Bezorging van sms- en WhatsApp-berichten" in html and "zo 29 mrt 2026" in html
    assert re.search(r'<div data-status="opted_out"><dt>Afgemeld</dt><dd>2</dd>', html)
    assert "30,0%" in html  # reached overall: 3 of 10 (2 delivered, 1 read)
    only = client.get("/text-messages?channel=whatsapp").text
    assert 'data-channel="sms"' not in only and 'data-channel="whatsapp"' in only
    monkeypatch.setattr(texting_views, "PAGE_SIZE", 2)
    first, last = client.get("/text-messages").text, client.get("/text-messages?page=3").text
    assert first.count("<tr data-day=") == 2 and last.count("<tr data-day=") == 1
    assert 'rel="next" href="/text-messages?page=2"' in first and "Pagina 3 van 3" in last
    bad = client.get("/text-messages?channel=fax")
    assert bad.status_code == 400 and "&#39;fax&#39; in &#39;channel&#39; is geen kanaal" in bad.text
    assert client.get("/text-messages?page=nul").status_code == 400


@pytest.mark.parametrize("role", ["teamlead", "agent"])
def test_only_administrators_and_analysts(client, make_user, role):
    make_user(f"{role}@example.org", role=role)
    assert login(client, f"{role}@example.org").status_code == 303
    assert client.get("/text-messages").status_code == 403


def test_an_empty_page_says_so(client, make_user):
    make_user("analyst@example.org", role="analyst", language="nl")
    assert login(client, "analyst@example.org").status_code == 303
    page = client.get("/text-messages")
    assert page.status_code == 200 and "Er zijn nog geen sms- of WhatsApp-berichten verstuurd." in page.text


def test_whole_hour_buckets_match_every_minute_of_a_day_boundary():
    """The page counts by UTC hour and maps hours to local days: right in whole-hour zones (checked here for a
    year of Amsterdam midnights, both sides of each DST change)."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for hour in range(365 * 24):
        at = start + timedelta(hours=hour, minutes=59)
        bucket = at.replace(minute=0)
        assert bucket.astimezone(AMSTERDAM).date() == at.astimezone(AMSTERDAM).date()
