"""ORM tables. Importing this package registers every table on `Base.metadata`."""

from servicepulse.models.base import Base, UTCDateTime, utcnow
from servicepulse.models.cases import Case, CaseEvent, Promise
from servicepulse.models.cases_facts import CaseFacts, EffortModel, MomentRule
from servicepulse.models.customers import Customer
from servicepulse.models.expectations import ForecastSnapshot, Signal, SignalRule
from servicepulse.models.feedback import WebhookEndpoint
from servicepulse.models.followups import FollowUp, FollowUpContact
from servicepulse.models.followups_budget import AlertRouting, AlertRule, Gesture, NotificationChannel, RecoveryBudget, Resurvey, RootCause
from servicepulse.models.improvement import ImprovementProject, ProjectTarget
from servicepulse.models.insights import ScoreDailyCount
from servicepulse.models.invitations import AnonymousLink, AnonymousSubmission, InvitationToken, TriggerDecision, TriggerRule
from servicepulse.models.jobs import Job
from servicepulse.models.journeys import DEFAULT_NORMS, Journey, Moment
from servicepulse.models.org import ApiKey, OrgUnit, TeamMembership, User
from servicepulse.models.surveys import Answer, Invitation, Question, Response, Survey, SurveyVersion
from servicepulse.models.verbatims import Verbatim, VerbatimCodeFrame, VerbatimMention, VerbatimThemeOwner

__all__ = [
    "Base", "UTCDateTime", "utcnow",
    "Case", "CaseEvent", "Promise", "Customer", "FollowUp", "FollowUpContact",
    "ImprovementProject", "ProjectTarget", "ScoreDailyCount", "Job", "DEFAULT_NORMS", "Journey", "Moment",
    "ApiKey", "OrgUnit", "TeamMembership", "User",
    "Answer", "Invitation", "Question", "Response", "Survey", "SurveyVersion", "WebhookEndpoint",
    "AnonymousLink", "AnonymousSubmission", "InvitationToken", "TriggerDecision", "TriggerRule",
]
