"""Filters on screen (#17 item 1): every filter in the URL is shown as a removable chip, kept by the page's
links and exports, and changes the figures as an independent count of the data says."""

from __future__ import annotations

import re
from html import unescape

from .conftest import login


def test_a_segment_filter_is_shown_removable_and_kept(client, make_user, small):
    make_user("an@example.org", role="analyst", language="nl")
    login(client, "an@example.org")
    html = client.get("/metrics?segment=business&period=month").text
    # the filter is visible as a chip, in Dutch, with a link that removes only it
    chip = re.search(r'<li class="chip">Klantsegment: <strong>zakelijk</strong>\s*<a href="([^"]+)"', html)
    assert chip, html[html.find("chips"):][:500]
    assert unescape(chip.group(1)) == "/metrics?period=month"
    assert '<option value="business" selected>zakelijk</option>' in html
    # the figures are the segment's: an independent count of the hand-made data
    business = small.frame[small.frame["segment"] == "business"]
    headline = html.split('id="headline"')[1].split("</section>")[0]
    assert f"<strong>{len(business)}</strong>" in headline.replace(".", "")
    # the journey link and the downloads keep the filter
    assert f"/metrics/journeys/{small.journey_id}?segment=business&amp;period=month" in html
    assert "/metrics/export.csv?segment=business&amp;period=month" in html
    # the choices come from the data: both teams and both channels of the responses
    assert "Team A" in html and "Team B" in html and "e-mail" in html and ">sms<" in html


def test_no_filter_no_chips(client, make_user, small):
    make_user("an@example.org", role="analyst", language="en")
    login(client, "an@example.org")
    html = client.get("/metrics").text
    assert 'class="chips"' not in html and "Customer segment" in html


def test_the_journey_page_shows_the_filters_it_was_opened_with(client, make_user, small):
    make_user("an@example.org", role="analyst", language="en")
    login(client, "an@example.org")
    html = client.get(f"/metrics/journeys/{small.journey_id}?segment=business&team={small.team_ids['a']}").text
    assert re.search(r'<li class="chip">Customer segment: <strong>business</strong>', html)
    assert re.search(r'<li class="chip">Team: <strong>Team A</strong>', html)
    remove = re.search(r'Team: <strong>Team A</strong>\s*<a href="([^"]+)"', html).group(1)
    assert unescape(remove) == f"/metrics/journeys/{small.journey_id}?segment=business"
