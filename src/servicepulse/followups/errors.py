"""Refusals of the closed-loop workflow, each with a sentence a person understands."""

from __future__ import annotations

from servicepulse.errors import ServicepulseError


class NotAllowed(ServicepulseError):
    """The user's role or team does not allow this (HTTP 403 / a refusal page)."""


class Conflict(ServicepulseError):
    """The follow-up is not in a state that allows this, e.g. closed already or claimed by someone else (409)."""


class OverBudget(ServicepulseError):
    """A gesture does not fit in the remaining recovery budget and needs a team lead's approval (409)."""
