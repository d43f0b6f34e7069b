"""Login throttling: after 10 failures in 15 minutes for an account, or from a client address,
further attempts are refused (429 `too-many-attempts`, with `Retry-After`) without checking the
password. Failures are written in their own transaction, so the failed login's rollback cannot
erase them, and they count across every API process (PostgreSQL is the shared store)."""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from math import ceil

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.core.errors import TooManyAttempts
from app.models import LoginFailure

MAX_FAILURES = 10
WINDOW = timedelta(minutes=15)


@dataclass(frozen=True)
class LoginKeys:
    account: bytes
    address: bytes | None

    @classmethod
    def of(cls, email: str, address: str | None) -> "LoginKeys":
        return cls(_digest(email.strip().lower()), _digest(address) if address else None)

    def scoped(self) -> list[tuple[str, bytes]]:
        keys = [("account", self.account)]
        if self.address is not None:
            keys.append(("address", self.address))
        return keys


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()


async def ensure_allowed(session: AsyncSession, keys: LoginKeys, now: datetime) -> None:
    """Refuse the attempt when the account or the address is over the limit."""
    for scope, digest in keys.scoped():
        row = (
            await session.execute(
                select(func.count(), func.min(LoginFailure.failed_at)).where(
                    LoginFailure.scope == scope,
                    LoginFailure.key_digest == digest,
                    LoginFailure.failed_at > now - WINDOW,
                )
            )
        ).one()
        count, oldest = row
        if count >= MAX_FAILURES:
            wait = ceil(((oldest + WINDOW) - now).total_seconds())
            problem = TooManyAttempts(
                f"Too many failed logins for this {scope}; try again in {wait} seconds."
            )
            problem.headers["Retry-After"] = str(max(wait, 1))
            raise problem


async def record_failure(engine: AsyncEngine, keys: LoginKeys, now: datetime) -> None:
    """Count a failure, committed at once (the request's own transaction is rolled back)."""
    async with engine.begin() as connection:
        await connection.execute(
            insert(LoginFailure),
            [{"scope": s, "key_digest": d, "failed_at": now} for s, d in keys.scoped()],
        )


async def forget_failures(session: AsyncSession, keys: LoginKeys) -> None:
    """A successful login clears its account's count (not its address's)."""
    await session.execute(
        delete(LoginFailure).where(
            LoginFailure.scope == "account", LoginFailure.key_digest == keys.account
        )
    )


async def sweep(session: AsyncSession, now: datetime) -> int:
    """Failures older than the window count for nothing: the worker deletes them."""
    result = await session.execute(
        delete(LoginFailure).where(LoginFailure.failed_at <= now - WINDOW)
    )
    return int(getattr(result, "rowcount", 0) or 0)
