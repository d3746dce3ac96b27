"""#17 item 8: axe-core in Chromium finds no WCAG 2.1 A/AA violation on any dashboard page, as the demo's
administrator and as its agent, at desktop and at phone width.

The pages are every GET route of the registry's page routers (the list tests/web/test_dutch_complete.py
walks), with their path parameters taken from the small demo.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.models import TeamMembership, User

from ..public.axe import axe_script, browser_context, violations
from ..web.browser import live_server
from ..web.conftest import app, fast_password_hashing, settings  # noqa: F401
from ..web.test_dutch_complete import DEMO_LOGINS, demo_ids, fill, page_paths

WIDTHS = {"desktop": 1440, "phone": 390}


@pytest.mark.demo("small", 2026)
@pytest.mark.parametrize("role", ["admin", "agent"])
def test_every_dashboard_page_has_no_axe_violations(engine, app, settings, backend, role):
    if backend != "sqlite":
        pytest.skip("browser test runs on SQLite only: the pages' queries are covered on both in tests/web")
    team_ids = None
    if role == "agent":
        with UnitOfWork(engine) as s:
            user_id = s.scalar(select(User.id).where(User.email == DEMO_LOGINS[role][0]))
            team_ids = list(s.scalars(select(TeamMembership.team_id).where(TeamMembership.user_id == user_id)))
    ids = demo_ids(engine, team_ids)
    script = axe_script()
    found, checked = {}, 0
    with live_server(engine, settings) as base:
        for width_name, width in WIDTHS.items():
            with browser_context(viewport={"width": width, "height": 900}, locale="nl-NL") as context:
                page = context.new_page()
                page.goto(f"{base}/login")
                page.fill('input[name="email"]', DEMO_LOGINS[role][0])
                page.fill('input[name="password"]', DEMO_LOGINS[role][1])
                page.locator('form button[type="submit"]').last.click()
                page.wait_for_load_state()
                for path in page_paths(app):
                    if path.endswith(".svg"):
                        continue  # a drawn image, not a page
                    url = fill(path, ids)
                    reply = page.goto(base + url)
                    if reply is None or reply.status >= 400 or "html" not in reply.headers.get("content-type", ""):
                        continue  # a page this role may not see (403/404 pages are checked through another url)
                    checked += 1
                    for v in violations(page, script):
                        found.setdefault(f"{v['id']} ({v['help']})", []).append(
                            f"{width_name} {url}: {v['nodes'][0][:300]}")
    assert checked >= 15, f"only {checked} pages were checked: the route discovery is broken"
    assert not found, "axe-core found WCAG 2.1 A/AA violations:\n" + json.dumps(found, indent=2, ensure_ascii=False)
