from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import BigInteger, CheckConstraint, ForeignKeyConstraint, Index, String, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantOwned


class Event(TenantOwned, Base):
    """Every change, appended in the transaction that made it. Ids only, no personal data.

    `txid` is the writing transaction's id: a reader that only takes events below the oldest
    transaction still running never skips one that commits late (the event feed relies on it).
    """

    __tablename__ = "event"
    __table_args__ = (
        ForeignKeyConstraint(["agency_id", "user_id"], ["app_user.agency_id", "app_user.id"]),
        ForeignKeyConstraint(["agency_id", "api_key_id"], ["api_key.agency_id", "api_key.id"]),
        Index(None, "agency_id", "txid", "id"),
        Index(None, "occurred_at"),  # the retention sweep, across agencies
        Index(None, "agency_id", "application_id", "occurred_at"),
        Index(None, "agency_id", "object_id"),
        CheckConstraint("via_link IN ('candidate', 'client')", name="via_link"),
    )

    occurred_at: Mapped[datetime] = mapped_column(server_default=func.now())
    type: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[UUID]
    application_id: Mapped[UUID | None]
    user_id: Mapped[UUID | None]
    api_key_id: Mapped[UUID | None]
    request_id: Mapped[str | None] = mapped_column(String(128))
    via_link: Mapped[str | None] = mapped_column(String(20))
    """Who acted through a signed link (`candidate`, `client`); None for everyone else."""
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    """Details for the timeline: which fields changed, the route a note took, …"""
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    """The object as its `GET` returned it at that moment (the feed's and webhooks' `data`);
    emptied once the event is older than the feed keeps (its personal data goes with it)."""
    txid: Mapped[int] = mapped_column(
        BigInteger, server_default=text("(pg_current_xact_id()::text)::bigint")
    )
