"""Issue 17, item 6: survey definitions on the dashboard: every survey with its versions, one version readable,
and a new version uploaded as a YAML or JSON file, validated as the command line and the API validate it;
an invalid file is refused (4xx) with a message per place in the file, in the reader's language."""

from __future__ import annotations

import json
from html import unescape

import yaml
from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.models import AuditEntry, Journey, Moment, Survey, SurveyVersion
from servicepulse.surveys import load_template
from servicepulse.surveys.service import template_definition

from .conftest import csrf_from, login


def _world(engine, make_user) -> None:
    with UnitOfWork(engine) as s:
        journey = Journey(key="service", name_nl="Service", name_en="Service")
        journey.moments.append(Moment(key="contact", position=1, name_nl="Contact met de klantenservice",
                                      name_en="Contact with customer service", kind="functional", norm=7.0))
        s.add(journey)
        s.flush()
        load_template(s, "after_contact")
    make_user("boss@example.org", role="admin", language="en")
    make_user("baas@example.org", role="admin", language="nl")
    make_user("ana@example.org", role="analyst", language="en")


def _upload(client, token: str, name: str, body: bytes):
    return client.post("/admin/surveys", data={"csrf_token": token}, files={"file": (name, body, "text/plain")})


def test_a_survey_version_reads_as_questions_wordings_and_options(engine, client, make_user):
    _world(engine, make_user)
    login(client, "ana@example.org")
    listing = client.get("/admin/surveys")
    assert listing.status_code == 200 and "After a phone or chat contact" in listing.text
    assert "Contact with customer service" in listing.text and 'action="/admin/surveys"' not in listing.text  # analyst
    page = client.get("/admin/surveys/after_contact")
    text = unescape(page.text)
    assert page.status_code == 200
    for expected in ("CES, customer effort (1-7)", "made it easy for me to handle my issue", "standard wording",
                     "Was your question answered or your problem solved?", "Gedeeltelijk", "Partly",
                     "ces <= 3", "What made it difficult?",
                     "the 'why' question", "Contact with customer service"):
        assert expected in text, expected
    as_yaml = client.get("/admin/surveys/after_contact/definition.yaml")
    assert as_yaml.status_code == 200 and yaml.safe_load(as_yaml.text)["key"] == "after_contact"
    assert json.loads(client.get("/admin/surveys/after_contact/definition.json?version=1").text)["moment"] == \
        "service/contact"
    assert client.get("/admin/surveys/after_contact?version=7").status_code == 404
    assert client.get("/admin/surveys/nothing").status_code == 404
    assert _upload(client, csrf_from(listing.text), "x.yaml", b"key: x").status_code == 403  # analysts read only


def test_an_uploaded_changed_definition_becomes_the_next_version(engine, client, make_user):
    _world(engine, make_user)
    login(client, "boss@example.org")
    token = csrf_from(client.get("/admin/surveys").text)
    definition = template_definition("after_contact")
    definition["questions"][1]["text"]["en"] = "Your mark for our employee?"
    reply = _upload(client, token, "after_contact.yaml", yaml.safe_dump(definition, allow_unicode=True).encode())
    assert reply.status_code == 200 and "Version 2 is saved and used from now on" in reply.text
    same = _upload(client, token, "after_contact.json", json.dumps(definition).encode())
    assert same.status_code == 200 and "nothing changed" in same.text
    with UnitOfWork(engine, readonly=True) as s:
        versions = s.scalars(select(SurveyVersion).join(Survey).where(Survey.key == "after_contact")
                             .order_by(SurveyVersion.version)).all()
        assert [v.version for v in versions] == [1, 2]
        assert versions[1].definition["questions"][1]["text"]["en"] == "Your mark for our employee?"
        audit = [(e.action, e.details) for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert audit[-2:] == [("survey.upload", {"survey": "after_contact", "version": 2, "status": "new_version"}),
                          ("survey.upload", {"survey": "after_contact", "version": 2, "status": "unchanged"})]
    assert "Your mark for our employee?" in client.get("/admin/surveys/after_contact").text
    assert "What mark out of 10" in client.get("/admin/surveys/after_contact?version=1").text


def test_an_invalid_file_is_refused_with_a_message_per_field_in_dutch(engine, client, make_user):
    _world(engine, make_user)
    login(client, "baas@example.org")
    token = csrf_from(client.get("/admin/surveys").text)
    definition = template_definition("after_contact")
    definition["moment"] = "service/nowhere"
    definition["questions"][2]["options"] = [{"key": "yes", "nl": "Ja", "en": "Yes"}]
    definition["questions"][0]["type"] = "stars"
    reply = _upload(client, token, "broken.yaml", yaml.safe_dump(definition).encode())
    assert reply.status_code == 422
    text = unescape(reply.text)
    assert "moet een van deze zijn: 'nps', 'grade'" in text and "<code>questions/0/type</code>" in text
    definition["questions"][0]["type"] = "ces"
    reply = _upload(client, token, "broken.yaml", yaml.safe_dump(definition).encode())
    text = unescape(reply.text)
    assert reply.status_code == 422
    assert "<code>questions/2/options</code>: keuzevraag 'resolved' heeft minstens twee antwoordopties nodig" in text
    definition["questions"][2]["options"].append({"key": "no", "nl": "Nee", "en": "No"})
    reply = _upload(client, token, "broken.yaml", yaml.safe_dump(definition).encode())
    assert reply.status_code == 422 and "<code>moment</code>: het moment 'service/nowhere' bestaat niet" in \
        unescape(reply.text)
    for body, needle in ((b"key: [unclosed", "geen geldige YAML (regel 1"), (b"\xff\xfe", "geen UTF-8-tekst"),
                         (b"- a\n- b", "verzameling velden"), (b"", "kies een bestand")):
        refused = _upload(client, token, "x.yaml", body)
        assert refused.status_code == 422 and needle in unescape(refused.text), (body, refused.text[-800:])
    with UnitOfWork(engine, readonly=True) as s:
        assert s.scalar(select(SurveyVersion.version).order_by(SurveyVersion.version.desc()).limit(1)) == 1
        assert not s.scalars(select(AuditEntry)).all()
