"""The administrator's page of anonymous links (#17 item 6, #19 item 2): open, limit and close a survey's link,
and a QR code that scans to the link (checked with zbarimg, an independent decoder)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.models import AnonymousLink, AuditEntry, Survey

from ..web.conftest import app, client, csrf_from, fast_password_hashing, login, make_user, settings  # noqa: F401


@pytest.fixture
def survey(engine):
    with UnitOfWork(engine) as s:
        s.add(Survey(key="balie", name="Aan de balie"))
    return "balie"


def _admin(client, make_user, role="admin"):
    make_user(f"{role}@example.org", role=role, language="nl")
    assert login(client, f"{role}@example.org").status_code == 303


def test_open_limit_and_close_a_link(engine, client, make_user, survey, settings):
    _admin(client, make_user)
    page = client.get("/admin/anonymous-links")
    assert page.status_code == 200 and 'data-survey="balie" data-open="no"' in page.text
    assert client.get("/admin/anonymous-links/balie.svg").status_code == 404  # no code for a closed link
    opened = client.post("/admin/anonymous-links/balie", data={
        "csrf_token": csrf_from(page.text), "action": "save", "per_address_limit": "3", "window_minutes": "30"}, follow_redirects=False)
    assert opened.status_code == 303
    page = client.get("/admin/anonymous-links")
    url = settings.base_url.rstrip("/") + "/a/balie"
    assert 'data-survey="balie" data-open="yes"' in page.text and url in page.text
    assert re.search(r'<svg role="img"[^>]*class="qr"><title>QR-code van het open webadres voor Aan de balie', page.text)
    with UnitOfWork(engine, readonly=True) as s:
        link = s.scalar(select(AnonymousLink))
        assert (link.enabled, link.per_address_limit, link.window_minutes) == (True, 3, 30)
        assert s.scalar(select(AuditEntry.action).order_by(AuditEntry.id.desc()).limit(1)) == "anonymous_link.open"
    refused = client.post("/admin/anonymous-links/balie", data={
        "csrf_token": csrf_from(page.text), "per_address_limit": "veel", "window_minutes": "30"})
    assert refused.status_code == 400 and "veel" in refused.text  # a person-readable refusal
    closed = client.post("/admin/anonymous-links/balie", data={"csrf_token": csrf_from(page.text), "action": "close"},
                         follow_redirects=False)
    assert closed.status_code == 303
    assert 'data-survey="balie" data-open="no"' in client.get("/admin/anonymous-links").text


def test_only_administrators(client, make_user, survey):
    _admin(client, make_user, role="analyst")
    assert client.get("/admin/anonymous-links").status_code == 403


@pytest.mark.skipif(shutil.which("zbarimg") is None,
                    reason="zbarimg not found: install Debian's zbar-tools to run this test")
def test_the_qr_code_scans_to_the_link(engine, client, make_user, survey, settings, tmp_path):
    _admin(client, make_user)
    page = client.get("/admin/anonymous-links")
    client.post("/admin/anonymous-links/balie", data={"csrf_token": csrf_from(page.text), "action": "save"})
    png = client.get("/admin/anonymous-links/balie.png")
    assert png.headers["content-type"] == "image/png"
    (tmp_path / "qr.png").write_bytes(png.content)
    scanned = subprocess.run(["zbarimg", "--raw", "-q", str(tmp_path / "qr.png")], capture_output=True, text=True,
                             timeout=60)
    assert scanned.stdout.strip() == settings.base_url.rstrip("/") + "/a/balie"
    svg = client.get("/admin/anonymous-links/balie.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml") and "<svg" in svg.text
