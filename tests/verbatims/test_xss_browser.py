"""A comment with script in it never runs on any page that shows comments (real headless Chromium)."""

from __future__ import annotations

from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.models import Survey
from servicepulse.settings import Settings
from servicepulse.verbatims.analysis import analyse_responses
from servicepulse.verbatims.codeframes import set_theme_owner
from tests.web.browser import chromium_page, live_server

from .conftest import PASSWORD_FOR_TESTS, add_department, add_responses, make_user  # noqa: F401

XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'


def test_script_in_a_comment_never_executes(engine, make_user, tmp_path):  # noqa: F811
    add_responses(engine, [
        {"comment": XSS, "nps": 3, "ces": 2},
        # the same payload next to theme words, so it is an example comment in the department report
        {"comment": "De factuur was onduidelijk " + XSS, "nps": 2, "ces": 1},
    ])
    dept = add_department(engine, "billing", "Facturatie")
    with UnitOfWork(engine) as s:
        analyse_responses(s)
        set_theme_owner(s, "invoice_clarity", dept)
        survey_key = s.scalar(select(Survey.key))
    make_user("xss@example.org", role="analyst", language="en")
    settings = Settings(secret_key="browser-test-secret-" + "x" * 24, data_dir=tmp_path, min_n=1)
    with live_server(engine, settings) as base, chromium_page() as page:
        page.goto(base + "/login")
        page.fill("#email", "xss@example.org")
        page.fill("#password", PASSWORD_FOR_TESTS)
        page.press("#password", "Enter")
        page.wait_for_url(lambda url: "/login" not in url)
        for path, needle in (("/verbatims/comments", ".verbatim-text"),
                             ("/verbatims/departments/billing", ".verbatim-text"),
                             (f"/surveys/{survey_key}", "main")):
            response = page.goto(base + path)
            assert response is not None and response.status == 200, path
            page.wait_for_load_state("load")
            page.wait_for_timeout(200)  # give a broken <img onerror> the chance to fire
            assert page.evaluate("typeof window.__xss") == "undefined", f"script ran on {path}"
            shown = " ".join(page.locator(needle).all_inner_texts())
            assert "<script>window.__xss=1</script>" in shown, f"the comment is not shown as text on {path}"
        # the overview's monthly trend is drawn (its bars have a size; without the style they collapse to nothing)
        page.goto(base + "/verbatims")
        sizes = page.eval_on_selector_all(".spark .bar", "bars => bars.map(b => [b.offsetWidth, b.offsetHeight])")
        assert sizes and all(w > 0 and h > 0 for w, h in sizes)
