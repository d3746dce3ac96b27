"""Invitations: trigger rules and their decisions, personal and anonymous survey links, e-mail.

`on_events(session, case_ids)` is the hook for event importers: call it in the
import's unit of work with the ids of cases that received events.
"""

from servicepulse.invitations.anonymous import (
    AnonymousSurvey,
    address_allowance,
    anonymous_links,
    anonymous_response,
    anonymous_survey,
    enable_anonymous_link,
    start_anonymous,
)
from servicepulse.invitations.decisions import on_events, sampled_in
from servicepulse.invitations.erasure import erase_customer, purge_invitations_before
from servicepulse.invitations.rules import list_rules
from servicepulse.invitations.service import create_invitation, mark_responded

__all__ = [
    "create_invitation", "mark_responded", "erase_customer", "purge_invitations_before", "on_events", "sampled_in", "list_rules",
    "AnonymousSurvey", "address_allowance", "anonymous_links", "anonymous_response", "anonymous_survey", "enable_anonymous_link",
    "start_anonymous",
]
