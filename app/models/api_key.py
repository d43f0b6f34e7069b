from datetime import datetime
from uuid import UUID

from sqlalchemy import ForeignKeyConstraint, LargeBinary, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantOwned, Timestamps


class ApiKey(TenantOwned, Timestamps, Base):
    """An integration's credential. Only a SHA-256 of the secret is kept (256 random bits)."""

    __tablename__ = "api_key"
    __table_args__ = (
        UniqueConstraint("agency_id", "key_hash"),
        ForeignKeyConstraint(["agency_id", "created_by_id"], ["app_user.agency_id", "app_user.id"]),
    )

    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(64))
    key_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    scopes: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    created_by_id: Mapped[UUID | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
