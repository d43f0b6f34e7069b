"""Request rate limits per API key and per user: a fixed one-minute window counted in
PostgreSQL (one upsert, committed at once, so no request holds the counter's row), shared by
every API process. Announced on every response (IETF httpapi `RateLimit-Policy`/`RateLimit`);
over the quota, 429 `rate-limited` with `Retry-After`."""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.core.errors import RateLimited
from app.models import RateLimitCounter

WINDOW = timedelta(minutes=1)
POLICY = "default"
_HIT = text(
    "INSERT INTO rate_limit_counter (key_digest, window_start, hits) VALUES (:key, :window, 1) "
    "ON CONFLICT (key_digest, window_start) "
    "DO UPDATE SET hits = rate_limit_counter.hits + 1 RETURNING hits"
)


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


async def hit(engine: AsyncEngine, key: bytes, limit: int, now: datetime) -> Quota:
    """Count one request; raise 429 when this one is over the quota."""
    window = now.replace(second=0, microsecond=0)
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        hits = int((await autocommit.execute(_HIT, {"key": key, "window": window})).scalar_one())
    reset = max(1, int((window + WINDOW - now).total_seconds() + 0.999))
    quota = Quota(limit, max(limit - hits, 0), reset)
    if hits > limit:
        problem = RateLimited(f"More than {limit} requests this minute; wait {reset} s.")
        problem.headers.update({**quota.headers(), "Retry-After": str(reset)})
        raise problem
    return quota


async def sweep(session: AsyncSession, now: datetime) -> None:
    """Windows that ended count for nothing: the worker deletes them."""
    await session.execute(
        delete(RateLimitCounter).where(RateLimitCounter.window_start < now - 2 * WINDOW)
    )
