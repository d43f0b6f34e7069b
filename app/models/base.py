"""Declarative base, constraint naming convention and the mixins tenant tables share."""

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import DateTime, ForeignKey, Index, Integer, MetaData, String, func, text
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from app.core.ids import row_id_default

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: DateTime(timezone=True)}


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Versioned:
    """A `version` counter bumped by every UPDATE (and checked in its WHERE clause): the ETag."""

    version: Mapped[int] = mapped_column(Integer, server_default="1")

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805 - a declared_attr takes the class
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]


class TenantOwned:
    """A row that belongs to one agency: `(agency_id, id)` is its primary key.

    Every foreign key between tenant tables is composite and includes `agency_id`, so a row can
    never point at another agency's row, and the table can be distributed by `agency_id`.
    """

    agency_id: Mapped[UUID] = mapped_column(
        ForeignKey("agency.id", ondelete="RESTRICT"), primary_key=True
    )
    id: Mapped[UUID] = mapped_column(primary_key=True, default=row_id_default)


class TenantRecord(TenantOwned, Timestamps, Versioned):
    """A tenant row with timestamps and an ETag version."""


class Record(TenantRecord):
    """A tenant record an ATS syncs: an optional `external_id`, unique per agency and kind, and
    an index for incremental sync by `(updated_at, id)`."""

    external_id: Mapped[str | None] = mapped_column(String(200))

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:  # noqa: N805
        return (
            Index(
                f"uq_{cls.__tablename__}_agency_id_external_id",  # type: ignore[attr-defined]
                "agency_id",
                "external_id",
                unique=True,
                postgresql_where=text("external_id IS NOT NULL"),
            ),
            Index(None, "agency_id", "updated_at", "id"),
            *cls.__extra_table_args__(),
        )

    @classmethod
    def __extra_table_args__(cls) -> tuple[Any, ...]:
        return ()
