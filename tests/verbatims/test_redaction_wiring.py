"""The analysis passes the customer's name to the redactor, and the demo redacts its own customer numbers."""

from __future__ import annotations

from sqlalchemy import select

from servicepulse.db.session import UnitOfWork
from servicepulse.kernels.text import redact
from servicepulse.models import Customer, Verbatim
from servicepulse.verbatims.analysis import analyse_responses

from .conftest import add_responses


def test_customer_name_is_redacted_in_stored_text(engine):
    with UnitOfWork(engine) as s:
        customer = Customer(external_id="GN-K0000250", name="Anna de Vries")
        s.add(customer)
        s.flush()
        cid = customer.id
    comment = "Ik ben anna de vries en mevrouw De Vries wacht al weken op de monteur."
    ids = add_responses(engine, [{"comment": comment, "nps": 3, "customer_id": cid},
                                 {"comment": "Anna de Vries is niet mijn naam", "nps": 5}])  # no customer
    with UnitOfWork(engine) as s:
        analyse_responses(s)
    with UnitOfWork(engine) as s:
        stored = dict(s.execute(select(Verbatim.response_id, Verbatim.text)).all())
    assert "vries" not in stored[ids[0]].lower() and "anna" not in stored[ids[0]].lower(), stored[ids[0]]
    # without a customer only the cue rules apply: the given name "Anna" is a known first name
    assert stored[ids[1]] == redact("Anna de Vries is niet mijn naam").text


def test_demo_settings_add_the_demo_customer_number_pattern(monkeypatch):
    from servicepulse.demo.after_load import demo_verbatim_settings

    monkeypatch.delenv("SERVICEPULSE_VERBATIMS_CUSTOMER_PATTERNS", raising=False)
    patterns = demo_verbatim_settings().customer_patterns
    res = redact("Mijn klantnummer GN-K0000250 en KL-123456", patterns)
    assert res.text == "Mijn klantnummer [CUSTOMER_NO] en [CUSTOMER_NO]"
    # the installation's own setting wins
    monkeypatch.setenv("SERVICEPULSE_VERBATIMS_CUSTOMER_PATTERNS", '["\\\\bXX\\\\d{4}\\\\b"]')
    assert demo_verbatim_settings().customer_patterns == [r"\bXX\d{4}\b"]
