"""Typed identifiers. Only the auth layer mints an `AgencyId` from a verified credential."""

import os
import time
from typing import NewType
from uuid import UUID

AgencyId = NewType("AgencyId", UUID)
UserId = NewType("UserId", UUID)


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
