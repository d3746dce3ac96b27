"""axe-core in real headless Chromium: installed from the npm registry into .test-cache/ on first use.

The app's Content-Security-Policy forbids scripts (the pages need none), so the
browser context bypasses CSP to let axe be injected; the pages themselves are
tested exactly as served.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest

from ..web.browser import browser_context as shared_browser_context

REPO_ROOT = Path(__file__).resolve().parents[2]
AXE_DIR = REPO_ROOT / ".test-cache" / "axe"
AXE_JS = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_script() -> Path:
    if AXE_JS.exists():
        return AXE_JS
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is needed to install axe-core for the accessibility tests (apt-get install npm)")
    AXE_DIR.mkdir(parents=True, exist_ok=True)
    # One install at a time: xdist workers reaching here together would otherwise rewrite node_modules under
    # each other (one sees "added 1 package" while the other's install has just removed the file).
    with open(AXE_DIR / "install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if AXE_JS.exists():
                return AXE_JS
            done = subprocess.run([npm, "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(AXE_DIR),
                                   "axe-core@4"], capture_output=True, text=True, timeout=300)
            if done.returncode != 0 or not AXE_JS.exists():
                pytest.fail(f"installing axe-core from the npm registry failed:\n{done.stdout}\n{done.stderr}")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return AXE_JS


@contextmanager
def browser_context(**options):
    with shared_browser_context(bypass_csp=True, **options) as context:
        yield context


def violations(page, script: Path) -> list[dict]:
    """WCAG 2.1 A/AA violations axe finds on the page as it is now."""
    page.add_script_tag(path=str(script))
    return page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
            return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}));
        }""",
        WCAG_21_AA,
    )


def assert_no_violations(page, script: Path, what: str) -> None:
    found = violations(page, script)
    assert not found, f"axe-core found WCAG 2.1 A/AA violations on {what} ({page.url}):\n" + json.dumps(found, indent=2)
