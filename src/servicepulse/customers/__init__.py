"""Customers: the people responses and cases belong to, known by the external id of the source system.

`resolve_customers(session, languages_by_external_id, now)` is how other domains turn external
ids into customer ids, creating the customers they name that do not exist yet.
"""

from servicepulse.customers.service import Resolved, customer_ids, resolve_customers

__all__ = ["Resolved", "customer_ids", "resolve_customers"]
