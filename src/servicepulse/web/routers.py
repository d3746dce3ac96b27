"""What the web app is made of: page routers and navigation entries.

Another domain plugs in with one line in each list: its page router (a
``fastapi.APIRouter`` in ``views.py``) and, if it has a menu entry, a
NavEntry. API routers go in ``servicepulse/api/routers.py``.

Every module listed here is imported at start-up; an entry that cannot be
imported stops the app with a message naming it (nothing is skipped silently).
Every page router gets CSRF checking on its POST/PUT/PATCH/DELETE routes;
PUBLIC_ROUTERS do not and check a form token of their own.
"""

from __future__ import annotations

from servicepulse.http.nav import NavEntry


# (module, attribute) of each page router, in order.
PAGE_ROUTERS: list[tuple[str, str]] = [
    ("servicepulse.web.home", "router"),
    ("servicepulse.metrics.survey_views", "router"),
    ("servicepulse.metrics.views", "router"),
    ("servicepulse.improvement.views", "router"),
]

# Pages for people without a session (survey respondents). These routers get no
# session CSRF check: each must check its own form token on every unsafe method
# (see servicepulse/public/form_token.py).
PUBLIC_ROUTERS: list[tuple[str, str]] = [
    ("servicepulse.public.views", "router"),
]

NAV: list[NavEntry] = [
    NavEntry("/", "web.nav.home"),
    NavEntry("/surveys", "surveys_dashboard.nav"),
    NavEntry("/insights", "insights.nav", ("admin", "analyst", "teamlead")),
    NavEntry("/improvement", "improvement.nav", ("admin", "analyst", "teamlead")),
]
PAGE_ROUTERS.append(("servicepulse.verbatims.views", "router"))
NAV.append(NavEntry("/verbatims", "verbatims.nav", ("admin", "analyst", "teamlead")))
PAGE_ROUTERS.append(("servicepulse.followups.views", "router"))
NAV.append(NavEntry("/followups", "followups.nav"))
PAGE_ROUTERS.append(("servicepulse.expectations.views", "router"))
NAV.append(NavEntry("/expectations", "expectations.nav", ("admin", "analyst", "teamlead")))
PAGE_ROUTERS.append(("servicepulse.cases.views", "router"))
PAGE_ROUTERS.append(("servicepulse.journeys.views", "router"))
NAV.append(NavEntry("/journeys", "journeys.nav", ("admin", "analyst", "teamlead")))
NAV.append(NavEntry("/cases", "cases.nav", ("admin", "analyst", "teamlead")))
