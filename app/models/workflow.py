"""The post-interview steps recorded against an interview."""

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from sqlalchemy import (
    Boolean,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, TenantOwned, TenantRecord
from app.models.pipeline import one_of


class NextStepKind(StrEnum):
    another_round = "another_round"
    assessment = "assessment"
    decision = "decision"
    offer_call = "offer_call"
    unknown = "unknown"


class AnswerQuality(StrEnum):
    strong = "strong"
    adequate = "adequate"
    weak = "weak"


def _interview_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["agency_id", "interview_id"], ["interview.agency_id", "interview.id"]
    )


class InterviewStep(TenantRecord):
    """A step recorded against one interview of an application; at most one of each kind per
    interview (a unique `(agency_id, interview_id)`)."""

    interview_id: Mapped[UUID]
    application_id: Mapped[UUID]


class NextSteps(InterviewStep, Base):
    """Step 1: what happens next and by when. One per interview."""

    __tablename__ = "next_steps"
    __table_args__ = (
        _interview_fk(),
        UniqueConstraint("agency_id", "interview_id"),
        Index(None, "agency_id", "decision_expected_by"),
        Index(None, "agency_id", "application_id"),  # the worklist's decisions to chase
        one_of("kind", NextStepKind),
    )

    kind: Mapped[NextStepKind] = mapped_column(String(20))
    details: Mapped[str] = mapped_column(Text)
    decision_expected_by: Mapped[datetime]


class DebriefAuthor(StrEnum):
    """Who wrote the debrief as it stands: a consultant, or the candidate through their link."""

    consultant = "consultant"
    candidate = "candidate"


class Debrief(InterviewStep, Base):
    """Step 2: how the interview went, question by question. One per interview."""

    __tablename__ = "debrief"
    __table_args__ = (
        _interview_fk(),
        UniqueConstraint("agency_id", "interview_id"),
        one_of("author", DebriefAuthor),
    )

    went_well: Mapped[str] = mapped_column(Text)
    could_improve: Mapped[str] = mapped_column(Text)
    links: Mapped[list[str]] = mapped_column(ARRAY(String(2000)), server_default="{}")
    submitted_at: Mapped[datetime]
    due_at: Mapped[datetime]
    on_time: Mapped[bool] = mapped_column(Boolean)
    author: Mapped[DebriefAuthor] = mapped_column(String(20), server_default="consultant")
    questions: Mapped[list["DebriefQuestion"]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="DebriefQuestion.position"
    )


class DebriefQuestion(TenantOwned, Base):
    """A question the candidate was asked; also a row of the client's question bank."""

    __tablename__ = "debrief_question"
    __table_args__ = (
        ForeignKeyConstraint(
            ["agency_id", "debrief_id"], ["debrief.agency_id", "debrief.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(
            ["agency_id", "client_id"], ["client.agency_id", "client.id"], ondelete="CASCADE"
        ),
        Index(None, "agency_id", "client_id"),  # not the text: a btree entry holds 2,704 bytes
        one_of("answer_quality", AnswerQuality),
    )

    debrief_id: Mapped[UUID]
    client_id: Mapped[UUID]
    vacancy_id: Mapped[UUID]
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    normalized_text: Mapped[str] = mapped_column(Text)
    topic: Mapped[str | None] = mapped_column(String(100))
    answer_quality: Mapped[AnswerQuality] = mapped_column(String(10))
    half_answered: Mapped[bool] = mapped_column(Boolean)
    asked_at: Mapped[datetime]


class DecisionKind(StrEnum):
    want = "want"
    unsure = "unsure"
    withdraw = "withdraw"


class OutcomeKind(StrEnum):
    offer = "offer"
    unsuccessful = "unsuccessful"
    placed = "placed"


class Decision(TenantRecord, Base):
    """Step 3: does the candidate still want the job. One per application, kept current."""

    __tablename__ = "decision"
    __table_args__ = (
        ForeignKeyConstraint(
            ["agency_id", "application_id"], ["application.agency_id", "application.id"]
        ),
        UniqueConstraint("agency_id", "application_id"),
        one_of("decision", DecisionKind),
    )

    application_id: Mapped[UUID]
    decision: Mapped[DecisionKind] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(Text)
    open_questions: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    decided_at: Mapped[datetime]


class RefereeHeadsUp(TenantRecord, Base):
    """Step 5: a referee told a reference request may come. One per referee per application."""

    __tablename__ = "referee_heads_up"
    __table_args__ = (
        ForeignKeyConstraint(
            ["agency_id", "application_id"], ["application.agency_id", "application.id"]
        ),
        ForeignKeyConstraint(["agency_id", "referee_id"], ["referee.agency_id", "referee.id"]),
        ForeignKeyConstraint(["agency_id", "message_id"], ["message.agency_id", "message.id"]),
        Index(
            "uq_referee_heads_up_agency_id_application_id_referee_id",
            "agency_id",
            "application_id",
            "referee_id",
            unique=True,
        ),
    )

    application_id: Mapped[UUID]
    referee_id: Mapped[UUID]
    why_want_job: Mapped[str] = mapped_column(Text)
    key_points: Mapped[str] = mapped_column(Text)
    message_id: Mapped[UUID | None]


class FollowUpState(StrEnum):
    not_started = "not_started"
    agency_thanked = "agency_thanked"
    direct_requested = "direct_requested"
    direct_approved = "direct_approved"
    direct_declined = "direct_declined"
    sent = "sent"
    cancelled = "cancelled"


class FollowUpRoute(StrEnum):
    direct = "direct"
    via_agency = "via_agency"


class FollowUp(InterviewStep, Base):
    """Step 4: the thank-you follow-up, agency first. One per interview; its state machine
    lives in `app/follow_ups/service.py`."""

    __tablename__ = "follow_up"
    __table_args__ = (
        _interview_fk(),
        ForeignKeyConstraint(
            ["agency_id", "application_id"], ["application.agency_id", "application.id"]
        ),
        UniqueConstraint("agency_id", "interview_id"),
        Index(None, "agency_id", "application_id"),
        one_of("state", FollowUpState),
    )

    state: Mapped[FollowUpState] = mapped_column(String(20))
    due_at: Mapped[datetime]
    agency_thanked_at: Mapped[datetime | None]
    agency_thanks_note: Mapped[str | None] = mapped_column(Text)
    direct_requested_at: Mapped[datetime | None]
    direct_request_reason: Mapped[str | None] = mapped_column(Text)
    direct_decided_at: Mapped[datetime | None]
    direct_decided_by: Mapped[UUID | None]
    direct_decline_reason: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    route: Mapped[str | None] = mapped_column(String(20))
    subject: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str | None] = mapped_column(Text)
    links: Mapped[list[str]] = mapped_column(ARRAY(String(2000)), server_default="{}")
    answers_question_id: Mapped[UUID | None]
    word_count: Mapped[int | None] = mapped_column(Integer)
    on_time: Mapped[bool | None] = mapped_column(Boolean)


class FeedbackState(StrEnum):
    requested = "requested"
    chased = "chased"
    received = "received"
    released = "released"
    expired = "expired"


class FeedbackRequest(TenantRecord, Base):
    """Step 6: feedback asked of the client for an unsuccessful candidate; chased on the
    agency's schedule, answered through a signed link (or entered by a consultant), released
    to the candidate after review. One per application."""

    __tablename__ = "feedback_request"
    __table_args__ = (
        ForeignKeyConstraint(
            ["agency_id", "application_id"], ["application.agency_id", "application.id"]
        ),
        ForeignKeyConstraint(
            ["agency_id", "contact_id"], ["client_contact.agency_id", "client_contact.id"]
        ),
        UniqueConstraint("agency_id", "application_id"),
        Index(None, "agency_id", "state", "next_chase_at"),
        # The worker's schedule finds agencies with chases or expiries due, across agencies.
        Index(
            "ix_feedback_request_open_chase",
            "next_chase_at",
            postgresql_where=text("state IN ('requested', 'chased')"),
        ),
        Index(
            "ix_feedback_request_open_expiry",
            "expires_at",
            postgresql_where=text("state IN ('requested', 'chased')"),
        ),
        one_of("state", FeedbackState),
    )

    application_id: Mapped[UUID]
    contact_id: Mapped[UUID]
    state: Mapped[FeedbackState] = mapped_column(String(20))
    requested_at: Mapped[datetime]
    chases_sent: Mapped[int] = mapped_column(Integer, server_default="0")
    next_chase_at: Mapped[datetime | None]
    expires_at: Mapped[datetime]
    received_at: Mapped[datetime | None]
    submitted_by: Mapped[str | None] = mapped_column(String(20))
    strengths: Mapped[str | None] = mapped_column(Text)
    gaps: Mapped[str | None] = mapped_column(Text)
    advice: Mapped[str | None] = mapped_column(Text)
    released_at: Mapped[datetime | None]
    debrief_call: Mapped[bool | None] = mapped_column(Boolean)
