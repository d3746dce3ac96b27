"""Issue 17, item 6: trigger rules (create, edit, switch on and off), the code frame's themes and the moment rules
as forms on the dashboard; each change goes through the domain's own validation and is stored in the same
format as the YAML (which stays for power users)."""

from __future__ import annotations

from html import unescape

from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.journeys import repository as rules_repository
from servicepulse.models import AuditEntry, Journey, Moment, OrgUnit
from servicepulse.models.invitations import TriggerRule
from servicepulse.org import service as org_service
from servicepulse.surveys import load_template
from servicepulse.verbatims.codeframes import current_codeframe, theme_owners

from .conftest import csrf_from, login


def _world(engine, make_user, language: str = "en") -> None:
    with UnitOfWork(engine) as s:
        journey = Journey(key="service", name_nl="Service", name_en="Service")
        journey.moments.append(Moment(key="contact", position=1, name_nl="Contact", name_en="Contact",
                                      kind="functional", norm=7.0))
        journey.moments.append(Moment(key="visit", position=2, name_nl="Bezoek monteur", name_en="Engineer visit",
                                      kind="functional", norm=7.0))
        s.add(journey)
        s.flush()
        load_template(s, "after_contact")
        org_service.create_unit(s, "billing_dept", "Facturatie", kind="department")
    make_user("boss@example.org", role="admin", language=language)
    make_user("ana@example.org", role="analyst", language=language)


def _actions(engine) -> list[str]:
    with UnitOfWork(engine, readonly=True) as s:
        return list(s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def _rule(engine, key: str) -> TriggerRule | None:
    with UnitOfWork(engine, readonly=True) as s:
        rule = s.scalar(select(TriggerRule).where(TriggerRule.key == key))
        if rule is not None:
            s.expunge(rule)
        return rule


RULE = {"key": "contact_done", "survey": "after_contact", "journey": "service", "activity": "Call ended*",
        "delay": "2h", "sample_percent": "12,5", "throttle_days": "30", "expires_days": "14",
        "reminder_after_days": "", "max_event_age_hours": "48", "active": "1"}


def test_trigger_rules_are_created_edited_and_switched(engine, client, make_user):
    _world(engine, make_user)
    login(client, "boss@example.org")
    token = csrf_from(client.get("/admin/trigger-rules/new").text)
    made = client.post("/admin/trigger-rules", data={"csrf_token": token, **RULE}, follow_redirects=True)
    assert made.status_code == 200 and "The trigger rule contact_done is created" in made.text
    rule = _rule(engine, "contact_done")
    assert (rule.activity, rule.delay_minutes, rule.sample_percent, rule.reminder_after_days, rule.max_event_age_hours,
            rule.active, rule.require_closed) == ("Call ended*", 120, 12.5, None, 48, True, False)
    again = client.post("/admin/trigger-rules", data={"csrf_token": token, **RULE})
    assert again.status_code == 422 and "a rule with this key exists" in again.text
    form = client.get("/admin/trigger-rules/edit?rule=contact_done")
    assert form.status_code == 200 and 'value="2h"' in form.text and 'value="Call ended*"' in form.text
    edited = client.post("/admin/trigger-rules", data={
        "csrf_token": token, **RULE, "editing": "contact_done", "key": "ignored", "delay": "1d",
        "sample_percent": "50", "reminder_after_days": "3", "require_closed": "1"}, follow_redirects=True)
    assert "The trigger rule contact_done is saved" in edited.text
    rule = _rule(engine, "contact_done")
    assert (rule.delay_minutes, rule.sample_percent, rule.reminder_after_days, rule.require_closed) == (1440, 50, 3, True)
    assert _rule(engine, "ignored") is None
    off = client.post("/admin/trigger-rules/toggle", data={"csrf_token": token, "rule": "contact_done", "active": "0"},
                      follow_redirects=True)
    assert "it invites nobody" in off.text and not _rule(engine, "contact_done").active
    client.post("/admin/trigger-rules/toggle", data={"csrf_token": token, "rule": "contact_done", "active": "1"})
    assert _rule(engine, "contact_done").active
    assert _actions(engine) == ["trigger_rule.set", "trigger_rule.set", "trigger_rule.off", "trigger_rule.on"]
    client.cookies.clear()
    login(client, "ana@example.org")  # analysts read the rules, without the buttons
    listing = client.get("/admin/trigger-rules")
    assert listing.status_code == 200 and "contact_done" in listing.text and "/admin/trigger-rules/toggle" not in listing.text
    assert client.post("/admin/trigger-rules/toggle", data={"csrf_token": csrf_from(listing.text),
                                                            "rule": "contact_done"}).status_code == 403


def test_a_bad_trigger_rule_names_each_field_in_dutch_and_stores_nothing(engine, client, make_user):
    _world(engine, make_user, language="nl")
    login(client, "boss@example.org")
    token = csrf_from(client.get("/admin/trigger-rules/new").text)
    bad = {**RULE, "key": "Met Spaties", "survey": "nothing", "delay": "soon", "sample_percent": "150",
           "throttle_days": "veel", "activity": "a\x00b"}
    reply = client.post("/admin/trigger-rules", data={"csrf_token": token, **bad})
    assert reply.status_code == 422
    text = unescape(reply.text)
    assert "'activity' bevat stuurtekens" in text
    bad["activity"] = "Call ended"
    text = unescape(client.post("/admin/trigger-rules", data={"csrf_token": token, **bad}).text)
    for expected in ("Sleutel</a>: heeft niet de juiste vorm", "Wachttijd</a>: schrijf de wachttijd als",
                     "Deel van de klanten (%)</a>: mag hoogstens 100 zijn",
                     "Hoogstens één uitnodiging per (dagen)</a>: moet een geheel getal zijn"):
        assert expected in text, expected
    bad.update(key="ok", delay="1h", sample_percent="100", throttle_days="30")
    text = unescape(client.post("/admin/trigger-rules", data={"csrf_token": token, **bad}).text)
    assert "Vragenlijst</a>: de vragenlijst 'nothing' bestaat niet" in text
    with UnitOfWork(engine, readonly=True) as s:
        assert s.scalars(select(TriggerRule)).all() == []


def test_a_theme_edited_on_the_form_changes_the_stored_code_frame(engine, client, make_user):
    _world(engine, make_user)
    login(client, "ana@example.org")  # analysts edit the code frame
    page = client.get("/verbatims/codeframe")
    token = csrf_from(page.text)
    before, _ = current_codeframe_of(engine)
    theme = before.themes[1]
    form = client.get(f"/verbatims/codeframe/theme?key={theme.key}")
    assert form.status_code == 200 and theme.labels["nl"] in form.text
    saved = client.post("/verbatims/codeframe/theme", data={
        "csrf_token": token, "editing": theme.key, "label_nl": "Wachten", "label_en": "Waiting",
        "parent": theme.parent or "", "department": "billing_dept",
        "keywords_nl": "wachten\nwachtrij, in de wacht\nwachten", "keywords_en": "queue"}, follow_redirects=True)
    assert saved.status_code == 200
    client.follow_redirects = False
    after, version = current_codeframe_of(engine)
    changed = after.theme(theme.key)
    assert version is not None and after.keys == before.keys  # same place, same themes
    assert changed.labels == {"nl": "Wachten", "en": "Waiting"} and changed.department == "billing_dept"
    assert changed.terms["nl"].keywords == ("wachten", "wachtrij", "in de wacht")
    assert changed.terms["en"].keywords == ("queue",)
    assert changed.terms["nl"].lemmas == theme.terms["nl"].lemmas  # kept: edited in the YAML only
    assert changed.terms["nl"].patterns == theme.terms["nl"].patterns
    with UnitOfWork(engine, readonly=True) as s:
        assert theme_owners(s, after)[theme.key].key == "billing_dept"
    added = client.post("/verbatims/codeframe/theme", data={
        "csrf_token": token, "key": "parking", "label_nl": "Parkeren", "label_en": "Parking",
        "keywords_nl": "parkeren", "keywords_en": "parking"})
    assert added.status_code == 303
    assert current_codeframe_of(engine)[0].keys[-1] == "parking"
    refused = client.post("/verbatims/codeframe/theme", data={"csrf_token": token, "key": "parking", "label_nl": "",
                                                              "label_en": "P", "parent": "nothing"})
    assert refused.status_code == 422
    assert "a theme with this key exists" in refused.text and "choose another theme from the list" in refused.text
    parent = next(t.key for t in after.themes if after.children(t.key))
    assert client.post("/verbatims/codeframe/theme/remove", data={"csrf_token": token, "key": parent}).status_code == 409
    assert client.post("/verbatims/codeframe/theme/remove", data={"csrf_token": token, "key": "parking"}).status_code == 303
    assert "parking" not in current_codeframe_of(engine)[0].keys
    assert _actions(engine) == ["codeframe.theme_set", "codeframe.theme_set", "codeframe.theme_remove"]


def current_codeframe_of(engine):
    with UnitOfWork(engine, readonly=True) as s:
        return current_codeframe(s)


def test_moment_rules_and_norms_edited_on_the_form_change_the_stored_rules(engine, client, make_user):
    _world(engine, make_user)
    login(client, "ana@example.org")
    page = client.get("/journeys/rules")
    token = csrf_from(page.text)
    client.follow_redirects = False
    for data in ({"moment": "service/contact", "activity": "Call ended", "channel": "phone", "active": "1"},
                 {"moment": "service/visit", "pattern": "engineer|monteur", "active": "1"}):
        assert client.post("/journeys/rules/rule", data={"csrf_token": token, **data}).status_code == 303
    with UnitOfWork(engine, readonly=True) as s:
        assert rules_repository.list_rules(s) == [
            {"moment": "service/contact", "activity": "Call ended", "channel": "phone"},
            {"moment": "service/visit", "pattern": "engineer|monteur"}]
    edit = client.get("/journeys/rules/rule?n=2")
    assert edit.status_code == 200 and 'value="engineer|monteur"' in edit.text
    assert client.post("/journeys/rules/rule", data={"csrf_token": token, "n": "2", "moment": "service/visit",
                                                     "pattern": "visit", "team": "north"}).status_code == 303
    assert client.post("/journeys/rules/rule/move", data={"csrf_token": token, "n": "2", "to": "up"}).status_code == 303
    with UnitOfWork(engine, readonly=True) as s:
        assert rules_repository.list_rules(s) == [
            {"moment": "service/visit", "pattern": "visit", "team": "north", "active": False},
            {"moment": "service/contact", "activity": "Call ended", "channel": "phone"}]
    bad = client.post("/journeys/rules/rule", data={"csrf_token": token, "moment": "service/nowhere",
                                                    "pattern": "(unclosed"})
    text = unescape(bad.text)
    assert bad.status_code == 422 and "'service/nowhere' is not a moment" in text
    assert "is not a valid regular expression" in text
    none = client.post("/journeys/rules/rule", data={"csrf_token": token, "moment": "service/contact"})
    assert none.status_code == 422 and "fill in at least one condition" in none.text
    assert client.post("/journeys/rules/rule/remove", data={"csrf_token": token, "n": "1"}).status_code == 303
    with UnitOfWork(engine, readonly=True) as s:
        assert [r["moment"] for r in rules_repository.list_rules(s)] == ["service/contact"]
        moments = {m.key: m.id for m in s.scalars(select(Moment))}
    norms = client.post("/journeys/rules/moments", data={
        "csrf_token": token, "moment": [str(moments["contact"]), str(moments["visit"])],
        "kind": ["functional", "emotional"], "norm": ["7", "8,5"]})
    assert norms.status_code == 303
    with UnitOfWork(engine, readonly=True) as s:
        visit = s.get(Moment, moments["visit"])
        assert (visit.kind, visit.norm) == ("emotional", 8.5)
    refused = client.post("/journeys/rules/moments", data={"csrf_token": token, "moment": [str(moments["visit"])],
                                                           "kind": ["emotional"], "norm": ["11"]})
    assert refused.status_code == 422 and "'11' in 'norm' is not between 1 and 10" in unescape(refused.text)
    assert _actions(engine) == ["moment_rules.replace"] * 5 + ["moments.kind_norm"]
    with UnitOfWork(engine, readonly=True) as s:
        assert s.scalar(select(OrgUnit.id).where(OrgUnit.key == "billing_dept")) is not None


NASTY = ["\x00", "1e400", "²", "99999999999999999999", "-1", "x" * 5000, "[" * 600, "", "0001-01-01"]
FORMS = {  # path -> fields
    "/admin/users": ["name", "email", "role", "language", "team"],
    "/admin/users/{agent}/edit": ["role", "language", "team"],
    "/admin/api-keys": ["name", "user", "scope"],
    "/admin/trigger-rules": ["editing", "key", "survey", "journey", "activity", "delay", "sample_percent",
                             "throttle_days", "max_event_age_hours", "expires_days", "reminder_after_days"],
    "/admin/trigger-rules/toggle": ["rule", "active"],
    "/verbatims/codeframe/theme": ["editing", "key", "label_nl", "label_en", "parent", "department", "keywords_nl",
                                   "keywords_en"],
    "/verbatims/codeframe/theme/remove": ["key"],
    "/journeys/rules/rule": ["n", "moment", "activity", "pattern", "channel", "team"],
    "/journeys/rules/rule/remove": ["n"],
    "/journeys/rules/rule/move": ["n", "to"],
    "/journeys/rules/moments": ["moment", "kind", "norm"],
}
GOOD = {"name": "Nieuw", "email": "nieuw@example.org", "role": "agent", "language": "nl", "key": "nieuw",
        "survey": "after_contact", "activity": "Call ended", "label_nl": "Nieuw", "label_en": "New",
        "moment": "service/contact", "rule": "nieuw", "to": "up", "kind": "functional", "norm": "7"}


def test_no_admin_form_answers_500_to_a_bad_value(engine, client, make_user):
    """Each field of each new form, one bad value at a time beside good ones (tests/test_no_server_errors.py
    covers the older forms): a message, never a 500, on both databases (PostgreSQL refuses NUL)."""
    _world(engine, make_user)
    agent = make_user("agent@example.org", role="agent")
    login(client, "boss@example.org")
    token = csrf_from(client.get("/admin").text)
    client.follow_redirects = False
    failures = []
    for path, fields in FORMS.items():
        url = path.replace("{agent}", str(agent))
        for field in fields:
            for value in NASTY:
                data = {**{f: GOOD[f] for f in fields if f in GOOD}, field: value, "csrf_token": token}
                reply = client.post(url, data=data)
                if reply.status_code >= 500:
                    failures.append(f"POST {url} {field}={value[:20]!r} -> {reply.status_code}")
    for url in ("/admin/trigger-rules/edit?rule=%00", "/admin/surveys/%00", "/admin/surveys/after_contact?version=0",
                "/verbatims/codeframe/theme?key=%00", "/journeys/rules/rule?n=%C2%B2", "/journeys/rules?saved=%C2%B2",
                "/admin/trigger-rules?done=on&rule=%00"):
        if client.get(url).status_code >= 500:
            failures.append(f"GET {url}")
    for body in (b"key: \x00", b"\x00" * 10):
        reply = client.post("/admin/surveys", data={"csrf_token": token}, files={"file": ("x.yaml", body)})
        if reply.status_code != 422:
            failures.append(f"upload {body[:10]!r} -> {reply.status_code}")
    assert not failures, "\n".join(failures)
