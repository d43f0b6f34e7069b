from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ForeignKeyConstraint, Index, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantOwned


class AuditEntry(TenantOwned, Base):
    """Who did what with which credential. Append-only: the runtime role may not update or delete.

    `user_id` is the person acting (the logged-in user, or the user an API key named in
    `On-Behalf-Of`); `api_key_id` is the key, when one was used.
    """

    __tablename__ = "audit_entry"
    __table_args__ = (
        ForeignKeyConstraint(["agency_id", "user_id"], ["app_user.agency_id", "app_user.id"]),
        ForeignKeyConstraint(["agency_id", "api_key_id"], ["api_key.agency_id", "api_key.id"]),
        Index(None, "agency_id", "occurred_at", "id"),
    )

    occurred_at: Mapped[datetime] = mapped_column(server_default=func.now())
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[UUID | None]
    user_id: Mapped[UUID | None]
    api_key_id: Mapped[UUID | None]
    request_id: Mapped[str | None] = mapped_column(String(128))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
