"""Typed identifiers. Only the auth layer mints an `AgencyId` from a verified credential."""

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, NewType
from uuid import UUID

AgencyId = NewType("AgencyId", UUID)
UserId = NewType("UserId", UUID)

_planned: ContextVar[dict[str, UUID] | None] = ContextVar("planned_ids", default=None)


def new_id() -> UUID:
    """A UUIDv7 (RFC 9562): time-ordered, so new rows land at the right edge of B-tree indexes."""
    unix_ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (unix_ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version 7
    value |= (rand >> 68) << 64 & (0xFFF << 64)  # rand_a, 12 bits
    value |= 0b10 << 62  # RFC 9562 variant
    value |= rand & ((1 << 62) - 1)  # rand_b, 62 bits
    return UUID(int=value)


def new_row_id(table: str) -> UUID:
    """The id of a new row of `table`: the one planned for it (once), else a fresh UUIDv7."""
    planned = _planned.get()
    if planned is not None and table in planned:
        return planned.pop(table)
    return new_id()


def row_id_default(context: Any) -> UUID:
    """Column default for `id`: SQLAlchemy passes the execution context, naming the table."""
    return new_row_id(context.current_column.table.name)


@contextmanager
def planned_ids(**by_table: UUID) -> Iterator[None]:
    """Within the block, the next row inserted into each named table takes the given id.

    Only the demo seed uses this, so that the documentation's examples can name its rows."""
    token = _planned.set({**(_planned.get() or {}), **by_table})
    try:
        yield
    finally:
        _planned.reset(token)
