"""Without Chromium the browser tests skip with a reason, except where they must run (CI)."""

import pytest

from . import browser


def test_missing_chromium_skips_or_fails_by_setting(monkeypatch):
    monkeypatch.setattr(browser, "chromium_path", lambda: None)
    monkeypatch.delenv("SERVICEPULSE_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="install Debian's chromium"):
        browser.require_chromium()
    monkeypatch.setenv("SERVICEPULSE_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="browser tests must run here"):
        browser.require_chromium()
