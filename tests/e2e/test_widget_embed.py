"""The survey widget embedded in another site, in real Chromium (#19 item 2).

A host page on another loopback origin (its own port) with a strict CSP of its own
(`default-src 'self'; script-src <servicepulse>; frame-src <servicepulse>`: no inline script or style) includes
/static/widget.js and a link; the test opens the dialog and answers with the keyboard only, and the answer is in
the responses table. A host origin that SERVICEPULSE_WIDGET_ORIGINS does not list gets no survey. axe-core finds
no WCAG 2.1 A/AA violation on the host page with the dialog open (frame included) nor on the widget page.
"""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.invitations import enable_anonymous_link
from servicepulse.models import Answer, Response
from servicepulse.settings import Settings

from ..invitations.support import seed_world
from ..public.axe import WCAG_21_AA, axe_script
from ..web.browser import browser_context, free_port, live_server

HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Contact us - Example shop</title>
<script src="{app}/static/widget.js" defer></script></head>
<body><main><h1>Thank you for contacting us</h1>
<p>We would like to hear how it went.</p>
<p><a href="{app}/a/after_contact" data-servicepulse-survey="after_contact">Give your feedback</a></p>
</main></body></html>"""


@contextmanager
def host_site(port: int, app_url: str):
    """The other web site: one page, served with a strict Content-Security-Policy."""
    body = HOST_PAGE.format(app=app_url).encode()
    policy = f"default-src 'self'; script-src {app_url}; frame-src {app_url}"

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Security-Policy", policy)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def survey_link(engine, backend):
    if backend != "sqlite":
        pytest.skip("browser test runs on SQLite only: the widget's answer path runs on both in tests/public")
    with UnitOfWork(engine) as s:
        seed_world(s)
        enable_anonymous_link(s, "after_contact", per_address_limit=5)


def _settings(tmp_path, host_port: int) -> Settings:
    return Settings(secret_key="widget-test-" + "x" * 30, data_dir=tmp_path,
                    widget_origins=f"http://127.0.0.1:{host_port}")


def _focused(frame) -> str:
    return frame.evaluate("(() => { const e = document.activeElement; return e ? (e.name || e.tagName) + ':'"
                          " + (e.value || '') : '' })()")


def _tab_to(page, frame, name: str, limit: int = 30) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if _focused(frame).startswith(name + ":"):
            return
    raise AssertionError(f"Tab never reached {name}; focus is on {_focused(frame)!r}")


def test_answering_in_a_dialog_on_a_strict_csp_site_with_the_keyboard(engine, survey_link, tmp_path):
    host_port = free_port()
    with live_server(engine, _settings(tmp_path, host_port)) as app_url, host_site(host_port, app_url) as host, \
            browser_context(viewport={"width": 1280, "height": 900}, locale="en-GB") as context:
        page = context.new_page()
        console = []
        page.on("console", lambda message: console.append(message.text))
        page.goto(host + "/")
        page.wait_for_function("() => document.querySelector('a[data-servicepulse-survey]').getAttribute('aria-haspopup')")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Give your feedback"
        page.keyboard.press("Enter")
        dialog = page.locator("dialog")
        assert dialog.evaluate("d => d.open") and dialog.get_attribute("aria-modal") == "true"
        label = dialog.evaluate("d => document.getElementById(d.getAttribute('aria-labelledby')).textContent")
        assert label == "Give your feedback"
        assert page.evaluate("document.activeElement.textContent") == "Close"  # focus moved into the dialog
        frame_element = dialog.locator("iframe")
        assert frame_element.get_attribute("title") == "Give your feedback"
        frame = frame_element.element_handle().content_frame()
        frame.wait_for_selector("input[name=q_ces]")
        # the frame reports its height and the host page sizes the frame to it
        page.wait_for_function("() => document.querySelector('dialog iframe').style.height.endsWith('px')")

        _tab_to(page, frame, "q_ces")
        for _ in range(5):
            page.keyboard.press("ArrowDown")  # 1 -> 6
        _tab_to(page, frame, "q_grade")
        for _ in range(7):
            page.keyboard.press("ArrowRight")  # 1 -> 8
        _tab_to(page, frame, "q_why")
        page.keyboard.type("Quick and friendly")
        _tab_to(page, frame, "action")
        assert _focused(frame) == "action:submit"
        page.keyboard.press("Enter")
        frame.wait_for_selector("text=Thank you!")
        assert dialog.evaluate("d => d.open")  # the thanks page shows in the same dialog

        # Escape inside the frame closes the dialog (the frame passes it on), focus returns to the link; the
        # frame's script is deferred, so the thanks text can show before it listens
        frame.wait_for_selector("html[data-servicepulse-ready]", state="attached")
        frame.locator("a").first.focus()
        page.keyboard.press("Escape")
        page.wait_for_function("() => !document.querySelector('dialog').open")
        assert page.evaluate("document.activeElement.textContent") == "Give your feedback"
        refused = [text for text in console if "Content Security Policy" in text or "Refused" in text]
        assert not refused, refused  # nothing the host's strict CSP had to block

    with UnitOfWork(engine, readonly=True) as s:
        rows = s.execute(select(Response.ces, Response.grade, Response.channel, Response.completed)).all()
        assert [tuple(r) for r in rows] == [(6, 8, "web", True)]
        assert s.scalar(select(Answer.value_text).where(Answer.question_key == "why")) == "Quick and friendly"


def test_a_site_that_is_not_listed_gets_no_survey(engine, survey_link, tmp_path):
    listed, other_port = free_port(), free_port()
    with live_server(engine, _settings(tmp_path, listed)) as app_url, host_site(other_port, app_url) as host, \
            browser_context(locale="en-GB") as context:
        page = context.new_page()
        console = []
        page.on("console", lambda message: console.append(message.text))
        page.goto(host + "/")
        page.wait_for_function("() => document.querySelector('a[data-servicepulse-survey]').getAttribute('aria-haspopup')")
        page.locator("a[data-servicepulse-survey]").click()
        page.wait_for_timeout(1500)
        frame = page.locator("dialog iframe").element_handle().content_frame()
        assert frame.locator("form").count() == 0  # the browser refused to show it
        assert any("frame-ancestors" in text for text in console), console
    with UnitOfWork(engine, readonly=True) as s:
        assert s.scalars(select(Response.id)).all() == []


AXE_RUN = """async (tags) => {
    const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
    return result.violations.map(v => ({id: v.id, help: v.help,
        nodes: v.nodes.map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}));
}"""


@pytest.mark.parametrize("width", [1280, 390])
def test_axe_finds_nothing_on_the_host_page_with_the_dialog_open_nor_on_the_widget(engine, survey_link, tmp_path,
                                                                                  width):
    script = axe_script()
    host_port = free_port()
    with live_server(engine, _settings(tmp_path, host_port)) as app_url, host_site(host_port, app_url) as host, \
            browser_context(viewport={"width": width, "height": 800}, locale="nl-NL", bypass_csp=True) as context:
        page = context.new_page()
        page.goto(host + "/")
        page.wait_for_function("() => document.querySelector('a[data-servicepulse-survey]').getAttribute('aria-haspopup')")
        page.locator("a[data-servicepulse-survey]").click()
        frame = page.locator("dialog iframe").element_handle().content_frame()
        frame.wait_for_selector("input[name=q_ces]")
        for each in page.frames:  # axe checks the frame's content too when it runs there as well
            each.add_script_tag(path=str(script))
        found = page.evaluate(AXE_RUN, WCAG_21_AA)
        assert not found, "host page with the dialog open:\n" + json.dumps(found, indent=2)
        for lang in ("nl", "en"):
            page.goto(f"{app_url}/w/after_contact?lang={lang}")
            page.add_script_tag(path=str(script))
            found = page.evaluate(AXE_RUN, WCAG_21_AA)
            assert not found, f"widget page ({lang}):\n" + json.dumps(found, indent=2)
