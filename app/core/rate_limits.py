"""Request rate limits per API key and per user: a fixed one-minute window, counted where every
API process sees it (`limit_store`: PostgreSQL, or Redis). Announced on every response (IETF
httpapi `RateLimit-Policy`/`RateLimit`); over the quota, 429 `rate-limited` with `Retry-After`."""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import RateLimited
from app.core.limit_store import QUOTA_WINDOW_SECONDS, LimitStore
from app.models import RateLimitCounter

WINDOW = timedelta(seconds=QUOTA_WINDOW_SECONDS)
POLICY = "default"


@dataclass(frozen=True)
class Quota:
    limit: int
    remaining: int
    reset_seconds: int

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Policy": policy_header(self.limit),
            "RateLimit": f'"{POLICY}";r={self.remaining};t={self.reset_seconds}',
        }


def policy_header(limit: int) -> str:
    return f'"{POLICY}";q={limit};w={int(WINDOW.total_seconds())}'


def credential_key(kind: str, credential: str) -> bytes:
    """`user:<id>` or `key:<the key>`, as a digest (a key's secret is never stored)."""
    return hashlib.sha256(f"{kind}:{credential}".encode()).digest()


async def hit(
    store: LimitStore, key: bytes, limit: int, now: datetime, driver: Any = None
) -> Quota:
    """Count one request; raise 429 when this one is over the quota. (`driver`: see
    `LimitStore.count_request`.)"""
    count = await store.count_request(key, limit, now, driver)
    reset = count.reset_seconds
    quota = Quota(limit, max(limit - count.hits, 0), reset)
    if count.hits > limit:
        problem = RateLimited(f"More than {limit} requests this minute; wait {reset} s.")
        problem.headers.update({**quota.headers(), "Retry-After": str(reset)})
        raise problem
    return quota


async def sweep(session: AsyncSession, now: datetime) -> None:
    """Windows that ended count for nothing: the worker deletes them (PostgreSQL store)."""
    await session.execute(
        delete(RateLimitCounter).where(RateLimitCounter.window_start < now - 2 * WINDOW)
    )
