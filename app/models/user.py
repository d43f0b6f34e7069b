from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantOwned, Timestamps, Versioned


class Role(StrEnum):
    admin = "admin"
    consultant = "consultant"


class User(TenantOwned, Timestamps, Versioned, Base):
    """A consultant or admin of one agency. Suspended (`active` false) or removed, never
    deleted: history keeps the name. A removed user's email may be given to a new user."""

    __tablename__ = "app_user"
    __table_args__ = (
        Index(
            "uq_app_user_agency_id_email",
            "agency_id",
            "email",
            unique=True,
            postgresql_where=text("removed_at IS NULL"),
        ),
        CheckConstraint("role IN ('admin', 'consultant')", name="role"),
    )

    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, server_default="true")
    last_login_at: Mapped[datetime | None]
    daily_digest: Mapped[bool] = mapped_column(Boolean, server_default="true")
    """Receives the 08:00 email of their overdue worklist items."""
    tokens_valid_after: Mapped[datetime | None]
    """Access tokens issued before this (a password change) no longer count."""
    removed_at: Mapped[datetime | None]
    """Set by `DELETE /v1/users/{id}`: the user is gone from the user routes, not from history."""
