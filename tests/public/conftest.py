"""Page fixtures from the web shell's test helpers, plus a seeded survey and invitation."""

import pytest

from servicepulse.db.session import UnitOfWork
from servicepulse.models import utcnow

from ..invitations.support import add_customer, seed_world, sent_invitation
from ..web.conftest import app, client, fast_password_hashing, settings  # noqa: F401  (fixtures)


@pytest.fixture
def invited(engine):
    """An e-mailed invitation to the after_contact survey for a Dutch customer: (invitation id, token)."""
    with UnitOfWork(engine) as s:
        world = seed_world(s)
        customer = add_customer(s, "C-page", email="page@example.nl", language="nl")
        invitation, token = sent_invitation(s, world["survey"], customer, utcnow())
        return invitation.id, token
