"""One customer's personal data: finding them by id, the scope of their rows, erasing the customer row.

Art. 17 GDPR (erasure) is orchestrated by ``servicepulse.privacy``; every domain erases the rows it owns
with its own ``erase_customer(session, customer_id) -> int``. The selects here (``case_ids_of``,
``response_ids_of``) are the one definition of "this customer's cases and responses" the domains share.
Never commits.
"""

from __future__ import annotations

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from servicepulse.errors import NotFound, ValidationFailed
from servicepulse.models import Case, Customer, Invitation, Response


def _internal(text: str) -> bool:
    """ASCII digits within the id column's range ('²' is a digit to str.isdigit, but not to int())."""
    return text.isascii() and text.isdigit() and len(text) <= 10 and int(text) <= 2**31 - 1


def find_customer(session: Session, ident: str) -> int:
    """The id of the customer named by ``ident``: their external id, or the internal id (digits) when no
    other customer has it as external id. Raises NotFound, or ValidationFailed when it is ambiguous."""
    ident = (ident or "").strip()
    if not ident:
        raise ValidationFailed("name a customer by their external id", [("id", "required")])
    if ident.startswith("#") and _internal(ident[1:]):
        by_external, by_internal = None, session.scalar(select(Customer.id).where(Customer.id == int(ident[1:])))
    else:
        by_external = session.scalar(select(Customer.id).where(Customer.external_id == ident))
        by_internal = None
        if _internal(ident):
            by_internal = session.scalar(select(Customer.id).where(Customer.id == int(ident)))
        if by_external is not None and by_internal is not None and by_external != by_internal:
            raise ValidationFailed(f"{ident!r} is the external id of one customer and the internal id of another; "
                                   f"write #{ident} for the internal id", [("id", "ambiguous")])
    found = by_external if by_external is not None else by_internal
    if found is None:
        raise NotFound(f"there is no customer {ident!r}")
    return int(found)


def case_ids_of(customer_id: int):
    """SELECT of the ids of the customer's cases."""
    return select(Case.id).where(Case.customer_id == customer_id)


def invitation_ids_of(customer_id: int):
    """SELECT of the ids of the invitations sent to the customer."""
    return select(Invitation.id).where(Invitation.customer_id == customer_id)


def response_ids_of(customer_id: int):
    """SELECT of the ids of the customer's responses: theirs, on their cases, or to their invitations."""
    return select(Response.id).where(or_(Response.customer_id == customer_id,
                                         Response.case_id.in_(case_ids_of(customer_id)),
                                         Response.invitation_id.in_(invitation_ids_of(customer_id))))


def erase_customer(session: Session, customer_id: int) -> int:
    """Delete the customer row itself (call last: the other domains find their rows through it)."""
    return int(session.execute(delete(Customer).where(Customer.id == customer_id)).rowcount or 0)
