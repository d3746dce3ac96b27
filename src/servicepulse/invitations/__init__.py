"""Invitations: trigger rules and their decisions, personal and anonymous survey links, e-mail.

`on_events(session, case_ids)` is the hook for event importers: call it in the
import's unit of work with the ids of cases that received events.
"""

from servicepulse.invitations.decisions import on_events, sampled_in

__all__ = ["on_events", "sampled_in"]
