"""ORM tables. Importing this package registers every table on `Base.metadata`."""

from servicepulse.models.analytics_store import AnalyticsOutbox
from servicepulse.models.base import Base, UTCDateTime, utcnow
from servicepulse.models.cases import Case, CaseEvent, CaseFacts, EffortModel
from servicepulse.models.customers import Customer
from servicepulse.models.digests import DigestOptOut, DigestSend, DigestSubscription
from servicepulse.models.expectations import (
    ForecastSnapshot,
    Promise,
    Signal,
    SignalRule,
)
from servicepulse.models.followups import (
    AlertRouting,
    AlertRule,
    FollowUp,
    FollowUpContact,
    FollowUpReason,
    Gesture,
    NotificationChannel,
    RecoveryBudget,
    Resurvey,
    RootCause,
)
from servicepulse.models.improvement import ImprovementProject, ProjectTarget
from servicepulse.models.investment import ValueDiscipline
from servicepulse.models.invitations import (
    AnonymousLink,
    AnonymousSubmission,
    ContactPreference,
    Invitation,
    InvitationToken,
    TextMessage,
    TriggerDecision,
    TriggerRule,
)
from servicepulse.models.jobs import Job
from servicepulse.models.journeys import DEFAULT_NORMS, Journey, Moment, MomentRule
from servicepulse.models.metrics import SavedView
from servicepulse.models.org import ApiKey, AuditEntry, DisplayName, OrgUnit, TeamMembership, User
from servicepulse.models.responses import (
    Answer,
    Response,
    ScoreDailyCount,
    WebhookEndpoint,
)
from servicepulse.models.surveys import Question, Survey, SurveyVersion
from servicepulse.models.verbatims import (
    Verbatim,
    VerbatimCodeFrame,
    VerbatimMention,
    VerbatimThemeOwner,
)

__all__ = [
    "AnalyticsOutbox",
    "Base",
    "UTCDateTime",
    "utcnow",
    "Case",
    "CaseEvent",
    "CaseFacts",
    "EffortModel",
    "Customer",
    "DigestOptOut",
    "DigestSend",
    "DigestSubscription",
    "ForecastSnapshot",
    "Promise",
    "Signal",
    "SignalRule",
    "AlertRouting",
    "AlertRule",
    "FollowUp",
    "FollowUpContact",
    "FollowUpReason",
    "Gesture",
    "NotificationChannel",
    "RecoveryBudget",
    "Resurvey",
    "RootCause",
    "ImprovementProject",
    "ProjectTarget",
    "ValueDiscipline",
    "AnonymousLink",
    "AnonymousSubmission",
    "ContactPreference",
    "Invitation",
    "InvitationToken",
    "TextMessage",
    "TriggerDecision",
    "TriggerRule",
    "Job",
    "DEFAULT_NORMS",
    "Journey",
    "Moment",
    "MomentRule",
    "SavedView",
    "ApiKey",
    "AuditEntry",
    "DisplayName",
    "OrgUnit",
    "TeamMembership",
    "User",
    "Answer",
    "Response",
    "ScoreDailyCount",
    "WebhookEndpoint",
    "Question",
    "Survey",
    "SurveyVersion",
    "Verbatim",
    "VerbatimCodeFrame",
    "VerbatimMention",
    "VerbatimThemeOwner",
]
