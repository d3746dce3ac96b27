import pytest

from .support import configure, start_smtp


@pytest.fixture
def smtp(monkeypatch):
    """A real SMTP server on loopback for this test; the settings point at it."""
    controller, server = start_smtp()
    configure(monkeypatch, server)
    yield server
    controller.stop()
