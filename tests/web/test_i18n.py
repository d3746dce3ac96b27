"""Message catalogues: complete in both languages, every key used in a template exists, clear errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from servicepulse.errors import ConfigurationError
from servicepulse.http.i18n import load_catalogue, parse_accept_language
from servicepulse.http.templating import TEMPLATE_DIR, format_number


def test_shipped_catalogues_load_and_cover_the_templates():
    catalogue = load_catalogue()
    used = set()
    for template in Path(TEMPLATE_DIR).rglob("*.html"):
        used |= set(re.findall(r"""\bt\(\s*['"]([a-z0-9_.]*[a-z0-9_])['"]""", template.read_text()))
    assert used, "no t('...') calls found: the pattern is wrong"
    assert used - set(catalogue.messages) == set()
    for kind in ("functional", "emotional"):
        assert f"web.kind.{kind}" in catalogue.messages
    for role in ("admin", "analyst", "teamlead", "agent"):
        assert f"web.role.{role}" in catalogue.messages


def test_translate_with_values_and_missing_key():
    catalogue = load_catalogue()
    assert catalogue.translate("web.login.throttled_seconds", "en", seconds=30) == \
        "Too many failed attempts. Try again in 30 seconds."
    assert catalogue.translate("no.such.key", "nl") == "no.such.key"


@pytest.mark.parametrize("content, message", [
    ("feedback.title: {nl: Terugkoppeling}\n", "missing text for en"),
    ("title: {nl: a, en: b}\n", "must start with 'feedback.'"),
    ("feedback.title: [a, b]\n", "expected a mapping"),
    ("feedback.title: {nl: a, en: b\n", "not valid YAML"),
])
def test_broken_catalogues_are_refused_with_file_and_key(tmp_path, content, message):
    (tmp_path / "feedback.yaml").write_text(content)
    with pytest.raises(ConfigurationError, match=re.escape(message)) as info:
        load_catalogue(tmp_path)
    assert "feedback.yaml" in str(info.value)


def test_accept_language():
    assert parse_accept_language("en-US,en;q=0.9,nl;q=0.8") == "en"
    assert parse_accept_language("de;q=1, nl-BE;q=0.7, en;q=0.6") == "nl"
    assert parse_accept_language("en;q=0.5, nl;q=0.5") == "en"  # tie: the first listed
    assert parse_accept_language("fr, de") is None
    assert parse_accept_language("en;q=0, nl;q=bad") is None
    assert parse_accept_language(None) is None


def test_number_notation():
    assert format_number(1234.5, "nl") == "1.234,5"
    assert format_number(1234.5, "en") == "1,234.5"
    assert format_number(7, "nl", 0) == "7"
    assert format_number(None, "en") == "–"
