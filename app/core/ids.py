"""Typed identifiers. Only the auth layer mints an `AgencyId` from a verified credential."""

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, NewType
from uuid import UUID

AgencyId = NewType("AgencyId", UUID)
UserId = NewType("UserId", UUID)

_planned: ContextVar[dict[str, UUID] | None] = ContextVar("planned_ids", default=None)


_COUNTER_BITS = 74  # rand_a (12 bits) and rand_b (62 bits) read as one number
_last_id = (0, 0)
_last_id_lock = threading.Lock()


def new_id() -> UUID:
    """A UUIDv7 (RFC 9562): time-ordered, so new rows land at the right edge of B-tree indexes.

    Monotonic within the process (RFC 9562 section 6.2, method 3): the 12 bits after the
    millisecond hold its sub-millisecond fraction, and an id made in the same tick as the
    last one (or after the clock stepped back) is the last one plus one. Rows made one after
    another, such as a transaction's events, sort in the order they were made."""
    global _last_id
    unix_ms, sub_ms = divmod(time.time_ns(), 1_000_000)
    sub_ms_bits = sub_ms * 4096 // 1_000_000
    stamp = unix_ms & ((1 << 48) - 1)
    counter = sub_ms_bits << 62 | int.from_bytes(os.urandom(8), "big") >> 2
    with _last_id_lock:
        if (stamp, counter) <= _last_id:
            stamp, counter = _last_id[0], _last_id[1] + 1
            if counter >> _COUNTER_BITS:  # the tick's room is used up: borrow the next one
                stamp, counter = stamp + 1, 0
        _last_id = (stamp, counter)
    value = stamp << 80
    value |= 0x7 << 76  # version 7
    value |= (counter >> 62) << 64  # rand_a, 12 bits
    value |= 0b10 << 62  # RFC 9562 variant
    value |= counter & ((1 << 62) - 1)  # rand_b, 62 bits
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
