"""Where the request quota and failed logins are counted, so every API process sees the same
numbers: PostgreSQL by default, or Redis when `AFTERVIEW_REDIS_URL` is set.

The PostgreSQL store is `rate_limits` and `auth.throttle`'s tables (windows follow the app's
clock). The Redis store is the `limits` library: a fixed one-minute window for the quota and a
moving 15-minute window for failed logins, in Redis' own time.
"""

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from math import ceil
from typing import Any, Protocol

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import RedisStorage
from limits.aio.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter
from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.models import LoginFailure

QUOTA_WINDOW_SECONDS = 60
LOGIN_MAX_FAILURES = 10
LOGIN_WINDOW_MINUTES = 15
LOGIN_WINDOW = timedelta(minutes=LOGIN_WINDOW_MINUTES)


@dataclass(frozen=True)
class Count:
    """Requests counted in the current window, and seconds until it resets."""

    hits: int
    reset_seconds: int


class LimitStore(Protocol):
    async def count_request(
        self, key: bytes, limit: int, now: datetime, driver: Any = None
    ) -> Count:
        """Count one request of `key`'s quota window. `driver`: an asyncpg connection outside
        any transaction that a store in PostgreSQL may write the count on (saving a checkout)."""
        ...

    async def login_wait(self, scope: str, digest: bytes, now: datetime) -> int | None:
        """Seconds until `scope`'s next attempt is allowed, or None when it is allowed now."""

    async def record_login_failure(self, keys: list[tuple[str, bytes]], now: datetime) -> None: ...

    async def forget_login_failures(self, session: AsyncSession, scope: str, digest: bytes) -> None:
        """Within the successful login's own transaction, where the store is PostgreSQL."""

    async def close(self) -> None: ...


_HIT = (
    "INSERT INTO rate_limit_counter (key_digest, window_start, hits) VALUES ($1, $2, 1) "
    "ON CONFLICT (key_digest, window_start) "
    "DO UPDATE SET hits = rate_limit_counter.hits + 1 RETURNING hits"
)


def _reset_seconds(now: datetime, window: datetime) -> int:
    return max(1, ceil(QUOTA_WINDOW_SECONDS - (now - window).total_seconds()))


class PostgresLimits:
    """Counters in PostgreSQL, each write committed at once on its own connection (no request
    holds a counter's row, and a failed login's rollback cannot erase its failure)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def count_request(
        self, key: bytes, limit: int, now: datetime, driver: Any = None
    ) -> Count:
        window = now.replace(second=0, microsecond=0)
        if driver is not None:
            hits = int(await driver.fetchval(_HIT, key, window))
            return Count(hits, _reset_seconds(now, window))
        async with self.engine.connect() as connection:
            # Straight to the driver, before SQLAlchemy begins a transaction: the upsert is
            # its own (autocommit) transaction, and every request pays for it.
            driver = (await connection.get_raw_connection()).driver_connection
            assert driver is not None
            hits = int(await driver.fetchval(_HIT, key, window))
        return Count(hits, _reset_seconds(now, window))

    async def login_wait(self, scope: str, digest: bytes, now: datetime) -> int | None:
        since = now - LOGIN_WINDOW
        async with self.engine.connect() as connection:
            count, oldest = (
                await connection.execute(
                    select(func.count(), func.min(LoginFailure.failed_at)).where(
                        LoginFailure.scope == scope,
                        LoginFailure.key_digest == digest,
                        LoginFailure.failed_at > since,
                    )
                )
            ).one()
        if count < LOGIN_MAX_FAILURES:
            return None
        return max(1, ceil((oldest - since).total_seconds()))

    async def record_login_failure(self, keys: list[tuple[str, bytes]], now: datetime) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(
                insert(LoginFailure),
                [
                    {"scope": scope, "key_digest": digest, "failed_at": now}
                    for scope, digest in keys
                ],
            )

    async def forget_login_failures(self, session: AsyncSession, scope: str, digest: bytes) -> None:
        await session.execute(
            delete(LoginFailure).where(
                LoginFailure.scope == scope, LoginFailure.key_digest == digest
            )
        )

    async def close(self) -> None:
        """The engine belongs to the app, which disposes of it."""


class RedisLimits:
    """Counters in Redis through `limits` (its clock, not the app's: windows are real time)."""

    def __init__(self, url: str) -> None:
        self.storage = RedisStorage(_async_uri(url), implementation="redispy")
        self.quota = FixedWindowRateLimiter(self.storage)
        self.logins = MovingWindowRateLimiter(self.storage)
        self.failures: RateLimitItem = RateLimitItemPerMinute(
            LOGIN_MAX_FAILURES, LOGIN_WINDOW_MINUTES, namespace="afterview-login"
        )

    def _quota_item(self, limit: int) -> RateLimitItem:
        return RateLimitItemPerMinute(limit, namespace="afterview-quota")

    async def count_request(
        self, key: bytes, limit: int, now: datetime, driver: Any = None
    ) -> Count:
        item = self._quota_item(limit)
        allowed = await self.quota.hit(item, key.hex())
        stats = await self.quota.get_window_stats(item, key.hex())
        hits = limit - stats.remaining if allowed else limit + 1
        return Count(hits, max(1, ceil(stats.reset_time - time.time())))

    async def login_wait(self, scope: str, digest: bytes, now: datetime) -> int | None:
        if await self.logins.test(self.failures, scope, digest.hex()):
            return None
        stats = await self.logins.get_window_stats(self.failures, scope, digest.hex())
        return max(1, ceil(stats.reset_time - time.time()))

    async def record_login_failure(self, keys: list[tuple[str, bytes]], now: datetime) -> None:
        for scope, digest in keys:
            await self.logins.hit(self.failures, scope, digest.hex())

    async def forget_login_failures(self, session: AsyncSession, scope: str, digest: bytes) -> None:
        await self.logins.clear(self.failures, scope, digest.hex())

    async def close(self) -> None:
        """Connections close with the process; `limits` keeps no other resource open."""


def _async_uri(url: str) -> str:
    """`redis://…` as `limits` names its asyncio storage: `async+redis://…`."""
    return url if url.startswith("async+") else "async+" + url
