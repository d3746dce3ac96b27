"""API routers mounted under /api/v1, one line per domain: (module, attribute).

Routers in API_ROUTERS require an API key on every route (the dependency is
added here, so a new route cannot forget it). PUBLIC_API_ROUTERS are for
routes that must work without a key (e.g. a survey widget posting an answer
with its own token). Every module is imported at start-up; one that cannot be
imported stops the app with a message naming it.
"""

from __future__ import annotations

API_ROUTERS: list[tuple[str, str]] = [
    ("servicepulse.api.health", "router"),
    ("servicepulse.surveys.api", "router"),
    ("servicepulse.responses.api", "router"),
    ("servicepulse.invitations.api", "router"),
    ("servicepulse.cases.api", "router"),
    ("servicepulse.metrics.api", "router"),
    ("servicepulse.improvement.api", "router"),
]

PUBLIC_API_ROUTERS: list[tuple[str, str]] = [
]
API_ROUTERS.append(("servicepulse.followups.api", "router"))
API_ROUTERS.append(("servicepulse.expectations.api", "router"))
