from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from sqlalchemy import (
    CheckConstraint,
    ColumnElement,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    and_,
)
from sqlalchemy.ext.hybrid import hybrid_method, hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, Record


class OfferLikelihood(StrEnum):
    unknown = "unknown"
    low = "low"
    medium = "medium"
    high = "high"


class ApplicationStatus(StrEnum):
    active = "active"
    offer = "offer"
    placed = "placed"
    unsuccessful = "unsuccessful"
    withdrawn = "withdrawn"


CLOSED_STATUSES = frozenset(
    {ApplicationStatus.withdrawn, ApplicationStatus.unsuccessful, ApplicationStatus.placed}
)
"""An application in one of these takes no further post-interview steps."""


class InterviewFormat(StrEnum):
    in_person = "in_person"
    video = "video"
    phone = "phone"


class InterviewStatus(StrEnum):
    scheduled = "scheduled"
    cancelled = "cancelled"


def one_of(column: str, values: type[StrEnum]) -> CheckConstraint:
    allowed = ", ".join(f"'{v.value}'" for v in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=column)


class Vacancy(Record, Base):
    """A client's role."""

    __tablename__ = "vacancy"

    client_id: Mapped[UUID]
    title: Mapped[str] = mapped_column(String(200))
    hiring_contact_id: Mapped[UUID | None]

    @classmethod
    def __extra_table_args__(cls) -> tuple[Any, ...]:
        return (
            ForeignKeyConstraint(
                ["agency_id", "client_id"], ["client.agency_id", "client.id"], ondelete="CASCADE"
            ),
            ForeignKeyConstraint(
                ["agency_id", "hiring_contact_id"],
                ["client_contact.agency_id", "client_contact.id"],
            ),
            Index(None, "agency_id", "client_id"),
        )


class Application(Record, Base):
    """A candidate put forward for a vacancy. Closed by a decision or an outcome, never deleted."""

    __tablename__ = "application"

    candidate_id: Mapped[UUID]
    vacancy_id: Mapped[UUID]
    consultant_id: Mapped[UUID | None]
    offer_likelihood: Mapped[OfferLikelihood] = mapped_column(String(20), server_default="unknown")
    status: Mapped[ApplicationStatus] = mapped_column(String(20), server_default="active")
    outcome_note: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None]

    @hybrid_property
    def is_open(self) -> bool:
        """Not closed (CLOSED_STATUSES): it still takes steps. Also a SQL condition."""
        return self.status not in CLOSED_STATUSES

    @is_open.inplace.expression
    @classmethod
    def _is_open_sql(cls) -> ColumnElement[bool]:
        return cls.status.not_in(list(CLOSED_STATUSES))

    @classmethod
    def __extra_table_args__(cls) -> tuple[Any, ...]:
        return (
            ForeignKeyConstraint(
                ["agency_id", "candidate_id"], ["candidate.agency_id", "candidate.id"]
            ),
            ForeignKeyConstraint(["agency_id", "vacancy_id"], ["vacancy.agency_id", "vacancy.id"]),
            ForeignKeyConstraint(
                ["agency_id", "consultant_id"], ["app_user.agency_id", "app_user.id"]
            ),
            Index(
                "uq_application_agency_id_candidate_id_vacancy_id",
                "agency_id",
                "candidate_id",
                "vacancy_id",
                unique=True,
            ),
            Index(None, "agency_id", "vacancy_id"),
            Index(None, "agency_id", "consultant_id", "status"),
            one_of("offer_likelihood", OfferLikelihood),
            one_of("status", ApplicationStatus),
        )


class Interview(Record, Base):
    """One round of an application: when, how, and with which of the client's contacts."""

    __tablename__ = "interview"

    application_id: Mapped[UUID]
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    round: Mapped[int | None] = mapped_column(Integer)
    format: Mapped[InterviewFormat] = mapped_column(String(20))
    status: Mapped[InterviewStatus] = mapped_column(String(20), server_default="scheduled")
    cancelled_at: Mapped[datetime | None]
    panel: Mapped[list["InterviewInterviewer"]] = relationship(
        lazy="selectin",
        cascade="all, delete-orphan",
        order_by="InterviewInterviewer.position",
    )

    @property
    def interviewer_ids(self) -> list[UUID]:
        return [member.contact_id for member in self.panel]

    def _ended(self, now: datetime) -> bool:
        """Held and over by `now` (a cancelled interview never ends): what every
        post-interview step, the decision and the worklist wait for."""
        return self.status == InterviewStatus.scheduled and self.ends_at <= now

    def _ended_sql(cls: Any, now: datetime) -> ColumnElement[bool]:  # noqa: N805
        return and_(cls.status == InterviewStatus.scheduled, cls.ends_at <= now)

    has_ended = hybrid_method(_ended, _ended_sql)
    """`interview.has_ended(now)` in Python, `Interview.has_ended(now)` in a query."""

    @classmethod
    def __extra_table_args__(cls) -> tuple[Any, ...]:
        return (
            ForeignKeyConstraint(
                ["agency_id", "application_id"], ["application.agency_id", "application.id"]
            ),
            CheckConstraint("ends_at > starts_at", name="ends_after_start"),
            CheckConstraint("round IS NULL OR round >= 1", name="round_positive"),
            one_of("format", InterviewFormat),
            one_of("status", InterviewStatus),
            Index(None, "agency_id", "application_id", "starts_at"),
            Index(None, "agency_id", "starts_at"),
            Index(None, "agency_id", "ends_at"),  # interviews just ended (candidate links)
        )


class InterviewInterviewer(Base):
    """Which client contacts sit on an interview's panel."""

    __tablename__ = "interview_interviewer"
    __table_args__ = (
        ForeignKeyConstraint(
            ["agency_id", "interview_id"],
            ["interview.agency_id", "interview.id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["agency_id", "contact_id"], ["client_contact.agency_id", "client_contact.id"]
        ),
        Index(None, "agency_id", "contact_id"),
    )

    agency_id: Mapped[UUID] = mapped_column(primary_key=True)
    interview_id: Mapped[UUID] = mapped_column(primary_key=True)
    contact_id: Mapped[UUID] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(Integer, server_default="0")
