"""The journey page's process graph: an SVG image drawn without any system program, every activity
shown by name, names with markup characters shown as text, the left-out arcs counted on the page."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from servicepulse.app import create_app
from servicepulse.cases.service import ingest_events
from servicepulse.db.session import UnitOfWork
from servicepulse.journeys import repository
from servicepulse.journeys.dfg import count_text, dfg_svg
from servicepulse.models import Journey, Moment
from servicepulse.org import service as org_service
from servicepulse.settings import Settings

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SVG = "{http://www.w3.org/2000/svg}"
T0 = pd.Timestamp("2026-05-04T09:00:00Z")
ODD = "<script>alert(1)</script>"
ROUTES = {  # case -> its activities, an hour apart
    "A": ["Fault reported", "Engineer visit", "Case closed"],
    "B": ["Fault reported", "Fault reported", "a & b", "Engineer visit", "Case closed"],
    "C": ["Fault reported", ODD, "Engineer visit", "Fault reported", "Engineer visit"],
    "D": ["Fault reported", "Call attempt outside opening hours and on public holidays", "Case closed"],
}


@pytest.fixture
def site(engine, tmp_path, monkeypatch):
    from argon2 import PasswordHasher

    from servicepulse.org import passwords

    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    with UnitOfWork(engine) as s:
        j = Journey(key="fault", name_nl="Storing", name_en="Fault")
        j.moments.append(Moment(key="report", position=1, name_nl="Melden", name_en="Report", kind="functional",
                                norm=7))
        s.add(j)
        s.flush()
        repository.replace_rules(s, repository.parse_rules_yaml("rules:\n  - moment: fault/report\n    pattern: '.'\n"))
        org_service.create_user(s, "ana@example.org", "Ana", PASSWORD, "analyst", language="en")
    with UnitOfWork(engine) as s:
        ingest_events(s, [{"case_id": case, "activity": activity, "event_id": f"{case}-{k}",
                           "timestamp": (T0 + pd.Timedelta(hours=k)).isoformat()}
                          for case, route in ROUTES.items() for k, activity in enumerate(route)])
    app = create_app(engine, Settings(secret_key="test-secret-" + "x" * 32, data_dir=tmp_path))
    with TestClient(app, base_url="http://testserver") as client:
        token = CSRF.search(client.get("/login").text).group(1)
        client.post("/login", data={"email": "ana@example.org", "password": PASSWORD, "next": "/",
                                    "csrf_token": token})
        yield client


def boxes(root: ET.Element) -> dict[str, str]:
    """Each activity box (a group with a title) as its name, wrapped lines joined, -> its count."""
    found = {}
    for group in root.iter(f"{SVG}g"):
        if group.find(f"{SVG}title") is not None:
            *name, count = [t.text for t in group.findall(f"{SVG}text")]
            found[" ".join(name)] = count
    return found


def test_the_graph_is_an_svg_with_every_activity_escaped(site):
    page = site.get("/journeys/fault")
    assert page.status_code == 200 and '<img src="/journeys/fault/dfg.svg?lang=' in page.text
    image = site.get("/journeys/fault/dfg.svg")
    assert image.status_code == 200
    assert image.headers["content-type"].startswith("image/svg+xml")
    assert b"<script>" not in image.content and b"&lt;script&gt;alert(1)&lt;/script&gt;" in image.content
    assert b"a &amp; b" in image.content
    root = ET.fromstring(image.content)
    assert root.tag == f"{SVG}svg"
    assert root.get("aria-label") == "Process graph: activities as boxes, arrows with count and median time"
    shown = boxes(root)
    assert set(shown) == {a for route in ROUTES.values() for a in route}
    assert shown["Fault reported"] == "6" and shown[ODD] == "1"
    labels = [t.text for t in root.iter(f"{SVG}text")]
    assert "2 · 1.0 h" in labels  # Fault reported -> Engineer visit: A and C, an hour each
    assert site.get("/journeys/nope/dfg.svg").status_code == 404


def test_rework_is_drawn_apart_and_numbers_follow_the_language():
    arcs = [("Fault reported", "Engineer visit", 1234, 30.0), ("Engineer visit", "Fault reported", 2, 0.5),
            ("Fault reported", "Fault reported", 3, 2.0)]
    nl = ET.fromstring(dfg_svg(arcs, {"Fault reported": 1240, "Engineer visit": 1234}, "nl",
                               starts={"Fault reported": 1234}))
    texts = [t.text for t in nl.iter(f"{SVG}text")]
    assert {"1.240", "1.234 · 30,0 u", "2 · 30 min", "3 · 2,0 u"} <= set(texts)
    dashed = [p for p in nl.iter(f"{SVG}path") if p.get("stroke-dasharray")]
    assert len(dashed) == 2  # the way back and the self-loop
    en = [t.text for t in ET.fromstring(dfg_svg(arcs, {"Fault reported": 1240}, "en")).iter(f"{SVG}text")]
    assert "1,234 · 30.0 h" in en and count_text(1240, "en") in en


def test_only_the_most_frequent_arcs_are_drawn():
    arcs = [(f"step {i}", f"step {i + 1}", 100 - i, 1.0) for i in range(12)]
    root = ET.fromstring(dfg_svg(arcs, {f"step {i}": 100 for i in range(13)}, "en", max_arcs=5))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "step 5" in texts and "step 6" not in texts
    assert len(list(root.iter(f"{SVG}polygon"))) == 5
    empty = ET.fromstring(dfg_svg([], {}, "en"))
    assert empty.tag == f"{SVG}svg" and not list(empty.iter(f"{SVG}text"))
