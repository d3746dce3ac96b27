"""Customers: the people responses and cases belong to, known by the external id of the source system.

`resolve_customers(session, languages_by_external_id, now)` is how other domains turn external
ids into customer ids, creating the customers they name that do not exist yet.
"""

from servicepulse.customers.erasure import (
    case_ids_of,
    erase_customer,
    find_customer,
    invitation_ids_of,
    response_ids_of,
)
from servicepulse.customers.service import Resolved, customer_ids, resolve_customers

__all__ = ["Resolved", "customer_ids", "resolve_customers", "case_ids_of", "erase_customer", "find_customer",
           "invitation_ids_of", "response_ids_of"]
