"""The candidate's signed link to an interview's steps 2-4 (no account)."""

from datetime import datetime
from uuid import UUID

from sqlalchemy import ForeignKeyConstraint, Index, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantRecord


class CandidateLink(TenantRecord, Base):
    """The one live link of an interview (a unique `(agency_id, interview_id)`). The row is the
    truth: a token names the row and its `generation`; issuing again bumps the generation (the
    old token answers 410), revoking sets `revoked_at`."""

    __tablename__ = "candidate_link"
    __table_args__ = (
        ForeignKeyConstraint(
            ["agency_id", "interview_id"], ["interview.agency_id", "interview.id"]
        ),
        ForeignKeyConstraint(
            ["agency_id", "application_id"], ["application.agency_id", "application.id"]
        ),
        ForeignKeyConstraint(["agency_id", "issued_by"], ["app_user.agency_id", "app_user.id"]),
        UniqueConstraint("agency_id", "interview_id"),
        Index(None, "agency_id", "application_id"),
    )

    interview_id: Mapped[UUID]
    application_id: Mapped[UUID]
    generation: Mapped[int] = mapped_column(Integer, server_default="1")
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    emailed_at: Mapped[datetime | None]
    """When the link's email was queued (None: the consultant passes the URL on)."""
    issued_by: Mapped[UUID | None]
    """The user who issued it; None when the worker did."""
