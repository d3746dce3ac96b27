"""The administrator pages in real headless Chromium, Dutch and English, wide and phone-sized:
the texts come from the catalogue, nothing sticks out sideways, and the actions work by clicking.
Screenshots go to $ACCESS_SCREENSHOTS when set (to look at them), else to the test's tmp dir."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.models import User

from ..web.browser import chromium_page, live_server
from .conftest import PASSWORD, make_key

TEXTS = {
    "nl": {"users": "Gebruikers", "keys": "API-sleutels", "deactivate": "Deactiveren", "done": "is gedeactiveerd"},
    "en": {"users": "Users", "keys": "API keys", "deactivate": "Deactivate", "done": "is deactivated"},
}


@pytest.mark.parametrize("language", ["nl", "en"])
def test_admin_pages_in_chromium(engine, settings, world, language, tmp_path):
    shots = Path(os.environ.get("ACCESS_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    make_key(engine, "agent_a", ["read:cases", "read:followups"], name="crm-agent")
    make_key(engine, "analyst", ["read:metrics", "read:responses"], name="reporting-dashboard")
    with UnitOfWork(engine) as s:
        admin = s.scalar(select(User).where(User.email == "admin@example.org"))
        admin.language = language
        s.get(User, world.users["agent_b"]).failed_logins = 6
    words = TEXTS[language]
    with live_server(engine, settings) as base, chromium_page() as page:
        page.goto(base + "/login")
        page.locator("#email").fill("admin@example.org")
        page.locator("#password").fill(PASSWORD)
        page.locator("form.stack button[type=submit], main form button[type=submit]").first.click()
        page.wait_for_url(base + "/")
        for width in (1440, 390):
            page.set_viewport_size({"width": width, "height": 900})
            for path, title in (("/admin/users", words["users"]), ("/admin/api-keys", words["keys"])):
                page.goto(base + path)
                assert page.locator("h1").inner_text() == title
                assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{path} at {width}px"
                page.screenshot(path=str(shots / f"admin{path.replace('/', '-')}-{language}-{width}.png"),
                                full_page=True)
        page.set_viewport_size({"width": 1440, "height": 900})
        page.goto(base + "/admin/users")
        row = page.locator("tr", has_text="agent_b@example.org")
        row.get_by_role("button", name=words["deactivate"]).click()
        page.wait_for_load_state()
        assert words["done"] in page.locator("[role=status]").inner_text()
        page.screenshot(path=str(shots / f"admin-users-after-deactivate-{language}.png"), full_page=True)
    with UnitOfWork(engine, readonly=True) as s:
        assert not s.get(User, world.users["agent_b"]).active
