"""All ORM models, imported together so relationships and Alembic see the whole schema."""

from app.models.agency import Agency
from app.models.api_key import ApiKey
from app.models.audit import AuditEntry
from app.models.base import Base
from app.models.candidate import Candidate, Referee
from app.models.candidate_link import CandidateLink
from app.models.client import Client, ClientContact
from app.models.event import Event
from app.models.idempotency import IdempotencyKey
from app.models.login import LoginFailure
from app.models.message import Message, MessageKind, MessageStatus, MessageTemplate, RecipientType
from app.models.pipeline import (
    CLOSED_STATUSES,
    Application,
    ApplicationStatus,
    Interview,
    InterviewFormat,
    InterviewInterviewer,
    InterviewStatus,
    OfferLikelihood,
    Vacancy,
)
from app.models.rate_limit import RateLimitCounter
from app.models.schedule import ScheduledRun
from app.models.user import Role, User
from app.models.webhook import DeliveryState, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from app.models.workflow import (
    AnswerQuality,
    Debrief,
    DebriefAuthor,
    DebriefQuestion,
    Decision,
    DecisionKind,
    FeedbackRequest,
    FeedbackState,
    FollowUp,
    FollowUpRoute,
    FollowUpState,
    InterviewStep,
    NextStepKind,
    NextSteps,
    OutcomeKind,
    RefereeHeadsUp,
)

__all__ = [
    "CLOSED_STATUSES",
    "Agency",
    "AnswerQuality",
    "ApiKey",
    "Application",
    "ApplicationStatus",
    "AuditEntry",
    "Base",
    "Candidate",
    "CandidateLink",
    "Client",
    "ClientContact",
    "Debrief",
    "DebriefAuthor",
    "DebriefQuestion",
    "Decision",
    "DecisionKind",
    "DeliveryState",
    "Event",
    "FeedbackRequest",
    "FeedbackState",
    "FollowUp",
    "FollowUpRoute",
    "FollowUpState",
    "IdempotencyKey",
    "Interview",
    "InterviewFormat",
    "InterviewInterviewer",
    "InterviewStatus",
    "InterviewStep",
    "LoginFailure",
    "Message",
    "MessageKind",
    "MessageStatus",
    "MessageTemplate",
    "NextStepKind",
    "NextSteps",
    "OfferLikelihood",
    "OutcomeKind",
    "RateLimitCounter",
    "RecipientType",
    "Referee",
    "RefereeHeadsUp",
    "Role",
    "ScheduledRun",
    "User",
    "Vacancy",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]
