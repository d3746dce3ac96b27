"""Follow-ups: the closed loop (alert rules, the follow-up workflow, recovery budgets, notifications)."""

from servicepulse.followups.alerts import place_reasons
from servicepulse.followups.due import add_working_days
from servicepulse.followups.erasure import erase_customer, purge_contact_notes_before
from servicepulse.followups.rules import Reason

__all__ = ["Reason", "add_working_days", "erase_customer", "place_reasons", "purge_contact_notes_before"]
