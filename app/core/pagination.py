"""Keyset pagination: `{"items": [...], "next": <opaque cursor or null>}`, `limit` capped.

The cursor carries the sort key of the last row returned; the next page starts strictly after
it, so rows inserted or updated between calls are neither skipped nor repeated within an order.
"""

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

from fastapi import Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import Select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.core.errors import InvalidCursor

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
SYNC_ORDER_TYPES = (datetime, UUID)
"""What a record list's cursor carries: the last row's `updated_at` and `id`."""

T = TypeVar("T")
Row = TypeVar("Row")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page.",
        examples=["WyIyMDI2LTExLTI1VDEwOjAwOjAwKzAwOjAwIiwiMDE5YTIuLi4iXQ"],
    )


@dataclass(frozen=True)
class PageParams:
    limit: int
    cursor: str | None


async def page_params(
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description=f"Page size, at most {MAX_LIMIT}.")
    ] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None, Query(max_length=1024, description="The `next` value of the previous page.")
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, cursor=cursor)


PageQuery = Annotated[PageParams, Depends(page_params)]


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    return value


_BIGINT = range(-(2**63), 2**63)


def _decode_value(raw: Any, python_type: type) -> Any:
    """One value of a cursor, refused unless the database can compare it with that type."""
    if python_type is datetime and isinstance(raw, str):
        parsed = datetime.fromisoformat(raw)
        if parsed.tzinfo is None:
            raise ValueError("naive datetime")
        parsed.astimezone(UTC)  # OverflowError: in UTC, before year 1 or after 9999
        return parsed
    if python_type is UUID and isinstance(raw, str):
        return UUID(raw)
    if python_type is int and type(raw) is int and raw in _BIGINT:
        return raw
    if python_type is str and isinstance(raw, str) and "\x00" not in raw:
        raw.encode()  # UnicodeEncodeError (a ValueError) for a lone surrogate
        return raw
    raise ValueError(f"unexpected {python_type.__name__}")


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps([_encode_value(v) for v in values], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, columns: Sequence[InstrumentedAttribute[Any]]) -> list[Any]:
    return decode_values(cursor, [c.type.python_type for c in columns])


def decode_values(cursor: str, types: Sequence[type]) -> list[Any]:
    """The values a cursor from `encode_cursor` carries, of `types`; 422 for anything else."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or len(raw) != len(types):
            raise ValueError("wrong shape")
        return [_decode_value(v, t) for v, t in zip(raw, types, strict=True)]
    except (ValueError, TypeError, OverflowError) as exc:  # JSON and Unicode errors too
        message = "not a cursor this list returned"
        raise InvalidCursor.at_field("cursor", message, location="query") from exc


async def paginate(
    session: AsyncSession,
    stmt: Select[Row],
    order_by: Sequence[InstrumentedAttribute[Any]],
    params: PageParams,
    *,
    descending: bool = False,
) -> tuple[list[Row], str | None]:
    """One page of `stmt`, ordered by `order_by` (which must end in a unique column)."""
    if params.cursor:
        after = decode_cursor(params.cursor, order_by)
        key, bound = tuple_(*order_by), tuple_(*after)
        stmt = stmt.where(key < bound if descending else key > bound)
    ordering = [c.desc() if descending else c.asc() for c in order_by]
    rows = list((await session.scalars(stmt.order_by(*ordering).limit(params.limit + 1))).all())
    if len(rows) <= params.limit:
        return rows, None
    rows = rows[: params.limit]
    last = rows[-1]
    return rows, encode_cursor([getattr(last, c.key) for c in order_by])
