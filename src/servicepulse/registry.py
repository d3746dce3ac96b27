"""What the application is made of: every router, menu entry and case-page panel, listed once.

A domain plugs in here with an import and one entry per tuple; servicepulse/app.py
assembles the app from these tuples and nothing else, so a router that is not
listed is not served. Order matters where paths could overlap: routers are
included in the order given.

* API_ROUTERS: mounted under /api/v1; every route gets the API-key dependency
  (added by the assembly, so a new route cannot forget it).
* PUBLIC_API_ROUTERS: under /api/v1 without a key (e.g. a widget posting with a
  token of its own).
* PAGE_ROUTERS: dashboard pages; every route gets CSRF checking on unsafe methods.
* PUBLIC_ROUTERS: pages for people without a session (survey respondents); no
  session CSRF check, so each checks its own form token (servicepulse/public/form_token.py).
* NAV: the dashboard menu, in order; roles empty = every logged-in user.
* CASE_PANELS: extra panels of the case page, `panel(request, session, case, now)`;
  given to the cases domain through `app.state.case_panels`, because cases may not
  import the later expectations domain.
* JOB_HANDLERS: the handler of every job kind; PERIODIC_JOBS: the kinds a worker
  starts at boot, with their period (each run queues the next). The edges that run
  jobs (the app, the CLI) call `install_job_handlers()`. Kind names are stored in the
  jobs table, so their values never change (a rename keeps the old value).
"""

from __future__ import annotations

from servicepulse.analytics_store import jobs as analytics_store_jobs
from servicepulse.api import health as api_health
from servicepulse.cases import api as cases_api
from servicepulse.cases import views as cases_views
from servicepulse.connectors import api as connectors_api
from servicepulse.digests import jobs as digests_jobs
from servicepulse.digests import views as digests_views
from servicepulse.expectations import api as expectations_api
from servicepulse.expectations import jobs as expectations_jobs
from servicepulse.expectations import notify as expectations_notify
from servicepulse.expectations import views as expectations_views
from servicepulse.followups import alerts as followups_alerts
from servicepulse.followups import api as followups_api
from servicepulse.followups import jobs as followups_jobs
from servicepulse.followups import notify as followups_notify
from servicepulse.followups import views as followups_views
from servicepulse.http.nav import NavEntry
from servicepulse.improvement import api as improvement_api
from servicepulse.improvement import views as improvement_views
from servicepulse.investment import expectation_views as investment_expectation_views
from servicepulse.investment import jobs as investment_jobs
from servicepulse.investment import relationship_jobs as investment_relationship_jobs
from servicepulse.investment import relationship_views as investment_relationship_views
from servicepulse.investment import views as investment_views
from servicepulse.invitations import api as invitations_api
from servicepulse.invitations import jobs as invitations_jobs
from servicepulse.invitations import texting_views as invitations_texting_views
from servicepulse.invitations import trigger_views as invitations_trigger_views
from servicepulse.invitations import views as invitations_views
from servicepulse.jobs import install
from servicepulse.journeys import views as journeys_views
from servicepulse.metrics import api as metrics_api
from servicepulse.metrics import export_views as metrics_export_views
from servicepulse.metrics import jobs as metrics_jobs
from servicepulse.metrics import saved_view_views as metrics_saved_views
from servicepulse.metrics import views as metrics_views
from servicepulse.org import display_name_views
from servicepulse.org import views as org_views
from servicepulse.privacy import api as privacy_api
from servicepulse.privacy import jobs as privacy_jobs
from servicepulse.privacy import views as privacy_views
from servicepulse.public import views as public_views
from servicepulse.public import widget as public_widget
from servicepulse.responses import api as responses_api
from servicepulse.responses import jobs as responses_jobs
from servicepulse.responses import webhooks_out as responses_webhooks
from servicepulse.surveys import api as surveys_api
from servicepulse.surveys import views as surveys_views
from servicepulse.verbatims import jobs as verbatims_jobs
from servicepulse.verbatims import views as verbatims_views
from servicepulse.web import analytics_store_views, customer, home, login

API_ROUTERS = (
    api_health.router,
    surveys_api.router,
    responses_api.router,
    invitations_api.router,
    cases_api.router,
    metrics_api.router,
    improvement_api.router,
    followups_api.router,
    expectations_api.router,
    privacy_api.router,
)

PUBLIC_API_ROUTERS = (
    connectors_api.router,  # helpdesks authenticate by their own signature or shared secret
    invitations_api.callbacks_router,  # SMS/WhatsApp providers: checked by their own signatures
)

PAGE_ROUTERS = (
    invitations_views.router,
    invitations_texting_views.router,
    login.router,
    home.router,
    metrics_export_views.router,
    metrics_saved_views.router,
    metrics_views.router,
    improvement_views.router,
    verbatims_views.router,
    followups_views.router,
    expectations_views.router,
    cases_views.router,
    customer.router,
    journeys_views.router,
    investment_expectation_views.router,
    investment_relationship_views.router,
    investment_views.router,  # /investment: cost to serve, avoidable contact, the compass
    org_views.router,
    org_views.area_router,  # /admin: the Administration page
    analytics_store_views.router,  # /admin/analytics-store: the analytics store's lag and row counts, ship now
    surveys_views.router,
    invitations_trigger_views.router,
    display_name_views.router,
    privacy_views.router,
    digests_views.router,
)

PUBLIC_ROUTERS = (
    public_views.router,
    public_widget.router,  # /w/...: the survey widget, framed by the sites in SERVICEPULSE_WIDGET_ORIGINS
    digests_views.public_router,  # /s/<token>/unsubscribe: the one-click unsubscribe link of a digest mail
)

NAV = (
    NavEntry("/", "web.nav.home"),
    NavEntry("/surveys", "surveys_dashboard.nav"),
    NavEntry("/metrics", "insights.nav", ("admin", "analyst", "teamlead")),
    NavEntry("/metrics/saved-views", "insights.saved.nav"),
    NavEntry("/improvement", "improvement.nav", ("admin", "analyst", "teamlead")),
    NavEntry("/verbatims", "verbatims.nav", ("admin", "analyst", "teamlead")),
    NavEntry("/followups", "followups.nav"),
    NavEntry("/expectations", "expectations.nav", ("admin", "analyst", "teamlead")),
    NavEntry("/expectations/signals", "web.nav.signals"),
    NavEntry("/journeys", "journeys.nav", ("admin", "analyst", "teamlead")),
    NavEntry("/investment/expectations", "investment_expect.nav", ("admin", "analyst", "teamlead")),
    NavEntry("/investment/relationship", "investment_relationship.nav", ("admin", "analyst", "teamlead")),
    NavEntry("/investment/teams", "investment.teams.nav", ("teamlead",)),
    NavEntry("/investment", "investment.nav", ("admin", "analyst")),
    NavEntry("/cases", "cases.nav", ("admin", "analyst", "teamlead")),
    NavEntry("/admin", "org.nav", ("admin", "analyst")),  # links every admin screen (users, keys, links, names, ...)
    NavEntry("/privacy", "privacy.nav", ("admin",)),
    NavEntry("/digests", "digests.nav"),
)

CASE_PANELS = (
    expectations_views.forecast_panel,
)

# Sections of the department report (page and PDF), `section(request, session, department, date_from, date_to,
# pdf)` -> HTML; given to verbatims through `app.state.department_sections` (verbatims may not import investment).
DEPARTMENT_SECTIONS = (
    investment_views.department_section,
)

JOB_HANDLERS = {
    "triggers.match": invitations_jobs.match,
    "triggers.decide": invitations_jobs.decide,
    "invitations.send": invitations_jobs.send,
    "invitations.remind": invitations_jobs.remind,
    "invitations.expire": invitations_jobs.expire,
    verbatims_jobs.KIND: verbatims_jobs.run_analysis,
    responses_webhooks.JOB_KIND: responses_webhooks.deliver,
    responses_jobs.FOLD_DAILY_COUNTS_JOB: responses_jobs.fold_daily_counts,
    expectations_jobs.JOB_KIND: expectations_jobs.run,
    expectations_jobs.ON_EVENTS_KIND: expectations_jobs.on_events,
    expectations_notify.MAIL_JOB: expectations_notify.send_signal_mail,
    expectations_notify.WEBHOOK_JOB: expectations_notify.deliver_signal_webhook,
    expectations_notify.CHAT_JOB: expectations_notify.deliver_signal_chat,
    followups_alerts.EVALUATE_JOB: followups_jobs.evaluate,
    followups_jobs.ESCALATE_JOB: followups_jobs.escalate,
    followups_jobs.REOPEN_JOB: followups_jobs.announce_reopened,
    followups_notify.JOB_KIND: followups_notify.deliver,
    privacy_jobs.RETENTION_JOB: privacy_jobs.retention,
    metrics_jobs.PREDICTED_FOLLOWUPS_JOB: metrics_jobs.predicted_followups,
    digests_jobs.SCHEDULE_JOB: digests_jobs.schedule,
    digests_jobs.SEND_KIND: digests_jobs.send,
    investment_relationship_jobs.RELATIONSHIP_FOLLOWUPS_JOB: investment_relationship_jobs.relationship_followups,
    investment_jobs.WARM_CACHE_JOB: investment_jobs.warm_cache,
    analytics_store_jobs.SHIP_JOB: analytics_store_jobs.ship,
}

PERIODIC_JOBS = {
    expectations_jobs.JOB_KIND: expectations_jobs.DEFAULT_EVERY,
    responses_jobs.FOLD_DAILY_COUNTS_JOB: responses_jobs.FOLD_EVERY,
    followups_jobs.ESCALATE_JOB: followups_jobs.ESCALATE_EVERY,
    privacy_jobs.RETENTION_JOB: privacy_jobs.RETENTION_EVERY,
    metrics_jobs.PREDICTED_FOLLOWUPS_JOB: metrics_jobs.PREDICTED_FOLLOWUPS_EVERY,
    digests_jobs.SCHEDULE_JOB: digests_jobs.SCHEDULE_EVERY,
    investment_relationship_jobs.RELATIONSHIP_FOLLOWUPS_JOB: investment_relationship_jobs.RELATIONSHIP_FOLLOWUPS_EVERY,
    investment_jobs.WARM_CACHE_JOB: investment_jobs.WARM_START,
    analytics_store_jobs.SHIP_JOB: analytics_store_jobs.START_EVERY,
}


def install_job_handlers() -> None:
    install(JOB_HANDLERS, PERIODIC_JOBS)
