"""`updated_at` only moves forward: every write stamps a row strictly later than before, so an
integrator resuming with `updated_after=<the last updated_at it saw>` sees every change, even
two within one clock tick. Row by row (`touch`) or in one UPDATE (`stamp`, `update_rows`)."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Interval,
    func,
    literal,
    literal_column,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.orm.attributes import flag_modified

from app.models.base import TenantOwned, Timestamps, Versioned

TICK = timedelta(microseconds=1)
"""The smallest step PostgreSQL's `timestamptz` keeps."""
_TICK_SQL = literal_column("interval '1 microsecond'", Interval())

RowT = TypeVar("RowT", bound=TenantOwned)


def later(previous: datetime | None, now: datetime) -> datetime:
    """`now`, or one tick past `previous` when the clock has not moved beyond it."""
    return now if previous is None else max(now, previous + TICK)


def touch(row: Timestamps, now: datetime) -> None:
    """Stamp a row being written (new or loaded) strictly later than before. The UPDATE is
    certain even when nothing else changed, so a `Versioned` row's version (ETag) moves on."""
    row.updated_at = later(row.updated_at, now)
    flag_modified(row, "updated_at")


def later_sql(column: InstrumentedAttribute[datetime], now: datetime) -> ColumnElement[datetime]:
    """`later` in SQL, for a bulk UPDATE: GREATEST(now, updated_at + 1 µs)."""
    return func.greatest(literal(now, DateTime(timezone=True)), column + _TICK_SQL)


def stamp(model: type[Timestamps], now: datetime) -> dict[str, Any]:
    """The values every bulk UPDATE of `model` adds: a later `updated_at`, and the next version
    when the model has one (a bulk UPDATE bypasses the ORM's version counter)."""
    values: dict[str, Any] = {"updated_at": later_sql(model.updated_at, now)}
    if issubclass(model, Versioned):
        values["version"] = model.version + 1
    return values


async def update_rows(
    session: AsyncSession,
    model: type[RowT],
    agency_id: UUID,
    where: Sequence[ColumnElement[bool]],
    values: dict[str, Any],
    now: datetime,
) -> list[RowT]:
    """One UPDATE of the agency's `model` rows matching `where`, stamped; the rows it changed,
    as they are now (any already in the session refreshed), in id order."""
    statement = (
        update(model)
        .where(model.agency_id == agency_id, *where)
        .values(**values, **stamp(model, now))  # type: ignore[arg-type]
        .returning(model.id)
        .execution_options(synchronize_session=False)
    )
    ids = (await session.scalars(statement)).all()
    if not ids:
        return []
    rows = await session.scalars(
        select(model)
        .where(model.agency_id == agency_id, model.id.in_(ids))
        .order_by(model.id)
        .execution_options(populate_existing=True)
    )
    return list(rows.all())
