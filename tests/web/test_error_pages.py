"""Pages: errors are pages in the user's language, never a traceback."""

from fastapi import APIRouter
from fastapi.testclient import TestClient

from servicepulse.errors import ValidationFailed
from servicepulse.http.auth import CurrentUser

from .conftest import login


def _routes(app):
    router = APIRouter()

    @router.get("/test/crash")
    def crash(user: CurrentUser):
        raise RuntimeError("secret internal detail")

    @router.get("/test/refuse")
    def refuse():
        raise ValidationFailed("the file has 2 problems", [("row 3, e-mail", "not an e-mail address")])

    @router.get("/test/number")
    def number(n: int):
        return {"n": n}

    app.include_router(router)


def test_not_found_page(client):
    response = client.get("/no/such/page", headers={"Accept-Language": "en"})
    assert response.status_code == 404 and "text/html" in response.headers["content-type"]
    assert "Not found" in response.text


def test_crash_is_a_500_page_without_details(app, make_user):
    _routes(app)
    make_user("ann@example.org")
    with TestClient(app, raise_server_exceptions=False) as client:
        login(client, "ann@example.org")
        response = client.get("/test/crash")
    assert response.status_code == 500
    assert "Er ging iets mis" in response.text and "Ann" in response.text  # still the layout, logged in
    assert "secret internal detail" not in response.text and "Traceback" not in response.text


def test_validation_problems_are_listed(app, client):
    _routes(app)
    refused = client.get("/test/refuse", headers={"Accept-Language": "en"})
    assert refused.status_code == 400
    assert "row 3, e-mail" in refused.text and "not an e-mail address" in refused.text
    bad = client.get("/test/number?n=many", headers={"Accept-Language": "en"})
    assert bad.status_code == 400 and '<strong translate="no">n</strong>' in bad.text
    # The code's messages are English: a Dutch page names the field and says what is wrong in Dutch.
    dutch = client.get("/test/refuse", headers={"Accept-Language": "nl"}).text
    assert "row 3, e-mail" in dutch and "deze waarde klopt niet" in dutch and "not an e-mail" not in dutch


class _BrokenMenuEntry:
    """A menu entry that fails as soon as the menu is built (as a half-deployed _nav.html once did)."""

    def __getattr__(self, name):
        raise RuntimeError("menu broken")


def test_the_error_page_does_not_depend_on_the_menu(app, make_user):
    """Sweep H3-E: when the menu fails, pages fail, but their error page is still a page in the user's language."""
    _routes(app)
    make_user("ann@example.org")
    with TestClient(app, raise_server_exceptions=False) as client:
        login(client, "ann@example.org")
        app.state.nav = [*app.state.nav, _BrokenMenuEntry()]
        broken = client.get("/")
        assert broken.status_code == 500 and "text/html" in broken.headers["content-type"]
        assert "<h1>" in broken.text and 'lang="nl"' in broken.text and "Error 500" not in broken.text
        missing = client.get("/no/such/page")
        assert missing.status_code == 404 and "<h1>" in missing.text and "Error 404" not in missing.text
