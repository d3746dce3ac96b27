"""Follow-ups: the closed loop (alert rules, the follow-up workflow, recovery budgets, notifications)."""

from servicepulse.followups.erasure import erase_customer, purge_contact_notes_before

__all__ = ["erase_customer", "purge_contact_notes_before"]
