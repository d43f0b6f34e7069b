"""Webhooks: an agency's endpoints, one delivery per endpoint and event, each attempt kept."""

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from sqlalchemy import (
    Boolean,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantOwned, TenantRecord, Timestamps
from app.models.pipeline import one_of


class WebhookEndpoint(TenantRecord, Base):
    """Where an integration wants events pushed. Its signing secret is never stored: it is
    derived from the server secret and `secret_salt` (a database copy alone cannot sign)."""

    __tablename__ = "webhook_endpoint"
    __table_args__ = (Index(None, "agency_id", "created_at", "id"),)

    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str | None] = mapped_column(String(500))
    event_types: Mapped[list[str] | None] = mapped_column(ARRAY(String(64)))
    """Types (or `<object>.*`) to send; None: every type."""
    enabled: Mapped[bool] = mapped_column(Boolean, server_default="true")
    disabled_reason: Mapped[str | None] = mapped_column(String(500))
    secret_salt: Mapped[bytes] = mapped_column(LargeBinary(32))
    previous_secret_salt: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    previous_secret_until: Mapped[datetime | None]
    """After a rotation, deliveries are signed with both secrets until then."""
    failing_since: Mapped[datetime | None]
    """The first failure since the last success; five days of it disables the endpoint."""
    last_success_at: Mapped[datetime | None]


class DeliveryState(StrEnum):
    pending = "pending"
    succeeded = "succeeded"
    failed = "failed"


class WebhookDelivery(TenantOwned, Timestamps, Base):
    """One event to one endpoint, retried on the schedule until it succeeds or gives up.
    A worker holds it by a lease (`lease_until`, `lease_token`) while it sends."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        ForeignKeyConstraint(
            ["agency_id", "endpoint_id"],
            ["webhook_endpoint.agency_id", "webhook_endpoint.id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(["agency_id", "event_id"], ["event.agency_id", "event.id"]),
        UniqueConstraint("agency_id", "endpoint_id", "event_id"),
        Index(None, "agency_id", "endpoint_id", "created_at", "id"),
        Index(
            "ix_webhook_delivery_due", "next_attempt_at", postgresql_where=text("state = 'pending'")
        ),
        one_of("state", DeliveryState),
    )

    endpoint_id: Mapped[UUID]
    event_id: Mapped[UUID]
    state: Mapped[DeliveryState] = mapped_column(String(20), server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    next_attempt_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]
    lease_token: Mapped[UUID | None]
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]


class WebhookAttempt(TenantOwned, Base):
    """One try of a delivery: what the endpoint answered, how fast, or why it failed."""

    __tablename__ = "webhook_attempt"
    __table_args__ = (
        ForeignKeyConstraint(
            ["agency_id", "delivery_id"],
            ["webhook_delivery.agency_id", "webhook_delivery.id"],
            ondelete="CASCADE",
        ),
        Index(None, "agency_id", "delivery_id", "attempt"),
    )

    delivery_id: Mapped[UUID]
    attempt: Mapped[int] = mapped_column(Integer)
    attempted_at: Mapped[datetime]
    status_code: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int] = mapped_column(Integer)
    response_excerpt: Mapped[str | None] = mapped_column(Text)
    """The first 1 KB of the response body."""
    error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None]
    """When the delivery was scheduled to be tried again after this attempt (None: no more)."""
