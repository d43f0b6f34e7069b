from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Boolean, ForeignKeyConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Record, TenantRecord


class Candidate(Record, Base):
    __tablename__ = "candidate"

    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))
    contact_consent: Mapped[bool] = mapped_column(Boolean, server_default="false")
    owner_id: Mapped[UUID | None]
    erased_at: Mapped[datetime | None]
    """Set when the candidate's personal data was anonymised (on request, or by retention)."""

    @classmethod
    def __extra_table_args__(cls) -> tuple[Any, ...]:
        return (
            ForeignKeyConstraint(["agency_id", "owner_id"], ["app_user.agency_id", "app_user.id"]),
            Index(None, "agency_id", "email"),
        )


class Referee(TenantRecord, Base):
    """Someone who will vouch for a candidate; contacted only with `consent_to_contact`."""

    __tablename__ = "referee"
    __table_args__ = (
        ForeignKeyConstraint(
            ["agency_id", "candidate_id"],
            ["candidate.agency_id", "candidate.id"],
            ondelete="CASCADE",
        ),
        Index(None, "agency_id", "candidate_id"),
    )

    candidate_id: Mapped[UUID]
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    relationship: Mapped[str] = mapped_column(String(200))
    consent_to_contact: Mapped[bool] = mapped_column(Boolean, server_default="false")
