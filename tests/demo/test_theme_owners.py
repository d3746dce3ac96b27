"""The demo organisation owns the code frame's themes, so the department report has content."""

from servicepulse.db.session import UnitOfWork
from servicepulse.demo import load_demo
from servicepulse.kernels.text import load_default_codeframe
from servicepulse.verbatims.codeframes import theme_owners


def test_demo_departments_own_the_default_themes(engine):
    load_demo(engine, size="tiny", seed=3)
    with UnitOfWork(engine, readonly=True) as s:
        owners = {theme: unit.key for theme, unit in theme_owners(s, load_default_codeframe()).items()}
    assert owners["invoice_clarity"] == "gn-billing"
    assert owners["engineer_visit"] == "gn-field-service"
    assert owners["website_selfservice"] == "gn-product-digital"
    assert owners["kept_informed"] == "gn-customer-service"
