"""The editable mapping: shipped defaults, overrides merged key by key, broken files refused clearly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from servicepulse.connectors import KINDS, VENDORS, load_mapping
from servicepulse.connectors.events import status_kind
from servicepulse.db.session import UnitOfWork
from servicepulse.errors import ConfigurationError
from servicepulse.models import Case, Journey, OrgUnit

from .conftest import post_zendesk, stored, zendesk_event

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_shipped_mapping_loads_and_maps_every_kind(vendor):
    mapping = load_mapping(vendor)
    assert set(mapping.events) == set(KINDS)
    assert mapping.event("solved").activity == "Ticket resolved"
    assert mapping.case_prefix == f"{vendor}:"


def test_status_changes_read_both_ways():
    zendesk = load_mapping("zendesk")
    assert [status_kind(zendesk, cur, prev) for cur, prev in (
        ("SOLVED", "OPEN"), ("open", "solved"), ("closed", "solved"), ("pending", "open"), ("solved", "closed"),
        ("open", "closed"))] == ["solved", "reopened", "status_changed", "status_changed", "status_changed",
                                 "reopened"]
    salesforce = load_mapping("salesforce")  # no previous status: the status alone decides
    assert [status_kind(salesforce, s) for s in ("New", "Working", "Closed", "Reopened")] == [
        "created", "status_changed", "solved", "reopened"]


def test_an_override_changes_only_what_it_names(engine, client, connector_env):
    with UnitOfWork(engine) as s:
        s.add(Journey(key="support", name_nl="Ondersteuning", name_en="Support"))
    (connector_env / "zendesk.yaml").write_text(
        'case_prefix: "ZD-"\n'
        "journey: support\n"
        "events:\n"
        "  internal_note: null\n"
        '  solved: {activity: "Ticket afgesloten", direction: outbound, line: front, customer_facing: true}\n'
        "channels:\n"
        "  web: portal\n"
        "groups:\n"
        '  "360001": "Klantenservice Noord"\n', encoding="utf-8")
    deliveries = [
        zendesk_event("created", 77, T0, event_id="o-1", group=360001),
        zendesk_event("comment_added", 77, T0 + timedelta(minutes=1), {"comment": {"is_public": False, "author": {
            "id": "1", "is_staff": True}}}, event_id="o-2"),
        zendesk_event("status_changed", 77, T0 + timedelta(minutes=2), {"current": "SOLVED", "previous": "OPEN"},
                      event_id="o-3", group=360001),
    ]
    answers = [post_zendesk(client, p).json() for p in deliveries]
    assert [a["stored"] for a in answers] == [1, 0, 1] and answers[1]["ignored"] == 1
    events = stored(engine)
    assert [(e["case"], e["activity"], e["channel"]) for e in events] == [
        ("ZD-77", "Ticket created", "portal"), ("ZD-77", "Ticket afgesloten", "portal")]
    with UnitOfWork(engine, readonly=True) as s:
        assert s.get(OrgUnit, events[0]["team_id"]).name == "Klantenservice Noord"
        case = s.scalar(select(Case).where(Case.external_id == "ZD-77"))
        assert s.get(Journey, case.journey_id).key == "support"
        assert case.closed_at == T0 + timedelta(minutes=2)  # "afgesloten" closes a case too


def test_a_broken_override_is_a_clear_503_and_stores_nothing(engine, client, connector_env):
    (connector_env / "zendesk.yaml").write_text("events:\n  solved: {activity: ''}\n")
    answer = post_zendesk(client, zendesk_event("created", 78, T0, event_id="b-1"))
    assert answer.status_code == 503
    assert answer.json()["detail"] == (f"{connector_env / 'zendesk.yaml'} is not valid: events/solved/activity: "
                                       "String should have at least 1 character")
    (connector_env / "zendesk.yaml").write_text("events:\n  escalated: null\n")
    assert "unknown event kind(s) escalated" in post_zendesk(
        client, zendesk_event("created", 78, T0, event_id="b-1")).json()["detail"]
    (connector_env / "zendesk.yaml").write_text("case_prefix: [unclosed\n")
    assert "not valid YAML" in post_zendesk(client, zendesk_event("created", 78, T0, event_id="b-1")).json()["detail"]
    assert stored(engine) == []
    with pytest.raises(ConfigurationError, match="unknown helpdesk"):
        load_mapping("jira")
