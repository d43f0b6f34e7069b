"""The outbox: messages rendered and queued in the transaction of the step that causes them."""

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantOwned, TenantRecord, Timestamps
from app.models.pipeline import one_of


class MessageKind(StrEnum):
    withdrawal_note = "withdrawal_note"
    follow_up_direct = "follow_up_direct"
    follow_up_via_agency = "follow_up_via_agency"
    referee_heads_up = "referee_heads_up"
    feedback_request = "feedback_request"
    feedback_chase = "feedback_chase"
    feedback_release = "feedback_release"
    daily_digest = "daily_digest"
    webhook_disabled = "webhook_disabled"
    candidate_link = "candidate_link"


class MessageStatus(StrEnum):
    """queued -> sending (leased by a worker) -> sent | failed; or cancelled while queued.
    A lease that runs out (its worker died) returns the message to be sent again."""

    queued = "queued"
    sending = "sending"
    sent = "sent"
    failed = "failed"
    cancelled = "cancelled"


class RecipientType(StrEnum):
    candidate = "candidate"
    referee = "referee"
    contact = "contact"
    user = "user"


class Message(TenantOwned, Timestamps, Base):
    """One email to one recipient. `dedupe_key` (unique per agency) names the purpose, so the
    same message can never be queued, or sent, twice."""

    __tablename__ = "message"
    __table_args__ = (
        UniqueConstraint("agency_id", "dedupe_key"),
        Index(None, "agency_id", "status", "next_attempt_at"),
        Index(None, "agency_id", "application_id", "created_at"),
        Index(None, "agency_id", "created_at", "id"),
        # The worker's claim looks across agencies at what is due, and only at that.
        Index("ix_message_due", "next_attempt_at", postgresql_where=text("status = 'queued'")),
        Index("ix_message_leased", "lease_until", postgresql_where=text("status = 'sending'")),
        one_of("kind", MessageKind),
        one_of("status", MessageStatus),
        one_of("recipient_type", RecipientType),
    )

    kind: Mapped[MessageKind] = mapped_column(String(40))
    status: Mapped[MessageStatus] = mapped_column(String(20), server_default="queued")
    dedupe_key: Mapped[str] = mapped_column(String(300))
    recipient_type: Mapped[RecipientType] = mapped_column(String(20))
    recipient_id: Mapped[UUID]
    to_address: Mapped[str] = mapped_column(String(320))
    to_name: Mapped[str | None] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    application_id: Mapped[UUID | None]
    related: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    next_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id_header: Mapped[str] = mapped_column(String(255))
    """The Message-ID, fixed when queued: a resend after a crash carries the same one."""
    reply_to_address: Mapped[str | None] = mapped_column(String(320))
    reply_to_name: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None]
    lease_token: Mapped[UUID | None]
    """Set by each claim; only the worker holding this token may finish the message."""


class MessageTemplate(TenantRecord, Base):
    """An agency's wording for one kind of message (the shipped default until it has one)."""

    __tablename__ = "message_template"
    __table_args__ = (UniqueConstraint("agency_id", "kind"), one_of("kind", MessageKind))

    kind: Mapped[MessageKind] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
