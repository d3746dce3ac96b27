"""The demo organisation owns the code frame's themes, so the department report has content."""

import pytest

from servicepulse.db.session import UnitOfWork
from servicepulse.kernels.text import load_default_codeframe
from servicepulse.verbatims.codeframes import theme_owners


@pytest.mark.demo("tiny", 11)  # the engine is a fresh copy of the tiny demo
def test_demo_departments_own_the_default_themes(engine):
    with UnitOfWork(engine, readonly=True) as s:
        owners = {theme: unit.key for theme, unit in theme_owners(s, load_default_codeframe()).items()}
    assert owners["invoice_clarity"] == "gn-billing"
    assert owners["engineer_visit"] == "gn-field-service"
    assert owners["website_selfservice"] == "gn-product-digital"
    assert owners["kept_informed"] == "gn-customer-service"
