"""Administrators manage users (deactivate, activate, reset the password, unlock) and see API keys,
on pages and on the command line; every change is in the audit log."""

from __future__ import annotations

import re

from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.models import AuditEntry, User
from servicepulse.org.passwords import verify_password

from ..cli.conftest import (
    cli,  # noqa: F401
    url_of,
)
from .conftest import PASSWORD, csrf_from, login, make_key


def _user(engine, who: str) -> User:
    with UnitOfWork(engine, readonly=True) as s:
        user = s.scalar(select(User).where(User.email == f"{who}@example.org"))
        s.expunge(user)
        return user


def _actions(engine) -> list[str]:
    with UnitOfWork(engine, readonly=True) as s:
        return list(s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_only_administrators_see_the_admin_pages(client, world):
    for who in ("analyst", "lead_a", "agent_a"):
        client.cookies.clear()
        login(client, f"{who}@example.org")
        assert client.get("/admin/users").status_code == 403
        assert client.get("/admin/api-keys").status_code == 403
        assert "/admin/users" not in client.get("/").text  # not in their menu


def test_admin_deactivates_activates_resets_and_unlocks(engine, app, client, world):
    victim = world.users["agent_b"]
    with UnitOfWork(engine) as s:
        s.get(User, victim).failed_logins = 9
    login(client, "admin@example.org")
    page = client.get("/admin/users")
    assert page.status_code == 200 and "agent_b@example.org" in page.text and "9 failed logins" in page.text
    token = csrf_from(page.text)

    def post(action):
        return client.post(f"/admin/users/{victim}/{action}", data={"csrf_token": token}, follow_redirects=True)

    assert "is deactivated" in post("deactivate").text
    assert not _user(engine, "agent_b").active
    assert "is active again" in post("activate").text
    assert _user(engine, "agent_b").active
    assert "are forgotten" in post("unlock").text
    assert _user(engine, "agent_b").failed_logins == 0
    reset = post("reset-password")
    shown = re.search(r"<code>([^<]+)</code>", reset.text.split("New password", 2)[-1]).group(1)
    assert verify_password(_user(engine, "agent_b").password_hash, shown)
    assert not verify_password(_user(engine, "agent_b").password_hash, PASSWORD)
    assert _actions(engine)[-4:] == ["user.deactivate", "user.activate", "user.unlock", "user.password_reset"]
    # an administrator cannot deactivate themselves
    me = world.users["admin"]
    refused = client.post(f"/admin/users/{me}/deactivate", data={"csrf_token": token})
    assert refused.status_code == 409 and _user(engine, "admin").active


def test_api_keys_page_lists_user_and_scopes(engine, client, world):
    make_key(engine, "agent_a", ["read:cases"], name="crm-agent")
    make_key(engine, "analyst", ["read:responses"], name="reporting")
    with UnitOfWork(engine) as s:  # demoted after the key was made: the scope shows as not usable
        s.scalar(select(User).where(User.email == "analyst@example.org")).role = "agent"
    login(client, "admin@example.org")
    page = client.get("/admin/api-keys")
    assert page.status_code == 200
    assert "crm-agent" in page.text and "agent_a@example.org" in page.text and "read:cases" in page.text
    row = page.text.split("reporting", 1)[1].split("</tr>", 1)[0]
    assert "read:responses" in row and "not allowed for the role" in row


def test_user_and_apikey_commands(cli, engine, world):  # noqa: F811
    url = url_of(engine)
    listed = cli(url, "user", "list")
    assert listed.code == 0 and "agent_a@example.org" in listed.out and "team_a" in listed.out
    assert cli(url, "user", "deactivate", "agent_a@example.org").code == 0
    assert not _user(engine, "agent_a").active
    assert "no" in [line for line in cli(url, "user", "list").out.splitlines() if "agent_a@" in line][0]
    assert cli(url, "user", "activate", "agent_a@example.org").code == 0
    assert _user(engine, "agent_a").active
    with UnitOfWork(engine) as s:
        s.get(User, world.users["agent_a"]).failed_logins = 7
    assert cli(url, "user", "unlock", "agent_a@example.org").code == 0
    assert _user(engine, "agent_a").failed_logins == 0
    before = _user(engine, "agent_a").session_epoch
    reset = cli(url, "user", "reset-password", "agent_a@example.org")
    assert reset.code == 0
    new_password = reset.out.strip().splitlines()[-1]
    assert verify_password(_user(engine, "agent_a").password_hash, new_password)
    assert _user(engine, "agent_a").session_epoch == before + 1
    made = cli(url, "apikey", "create", "crm", "--user", "agent_a@example.org", "--scope", "read:cases")
    assert made.code == 0, made.err
    keys = cli(url, "apikey", "list")
    assert keys.code == 0 and "crm" in keys.out and "agent_a@example.org (agent)" in keys.out
    assert "read:cases" in keys.out
    assert cli(url, "user", "deactivate", "nobody@example.org").code != 0
    assert _actions(engine)[-5:] == ["user.deactivate", "user.activate", "user.unlock", "user.password_reset",
                                     "apikey.create"]
