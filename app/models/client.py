from typing import Any
from uuid import UUID

from sqlalchemy import ForeignKeyConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Record


class Client(Record, Base):
    """A company the agency places candidates with."""

    __tablename__ = "client"

    name: Mapped[str] = mapped_column(String(200))


class ClientContact(Record, Base):
    """A person at a client: an interviewer or a hiring manager."""

    __tablename__ = "client_contact"

    client_id: Mapped[UUID]
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    job_title: Mapped[str | None] = mapped_column(String(200))

    @classmethod
    def __extra_table_args__(cls) -> tuple[Any, ...]:
        return (
            ForeignKeyConstraint(
                ["agency_id", "client_id"], ["client.agency_id", "client.id"], ondelete="CASCADE"
            ),
            Index(None, "agency_id", "client_id"),
        )
