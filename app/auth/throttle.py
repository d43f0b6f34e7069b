"""Login throttling: after 10 failures in 15 minutes for an account, or from a client address,
further attempts are refused (429 `too-many-attempts`, with `Retry-After`) without checking the
password. Failures are counted where every API process sees them (`limit_store`: PostgreSQL,
each failure committed on its own so the failed login's rollback cannot erase it; or Redis)."""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import TooManyAttempts
from app.core.limit_store import LimitStore
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


async def ensure_allowed(store: LimitStore, keys: LoginKeys, now: datetime) -> None:
    """Refuse the attempt when the account or the address is over the limit."""
    for scope, digest in keys.scoped():
        wait = await store.login_wait(scope, digest, now)
        if wait is not None:
            problem = TooManyAttempts(
                f"Too many failed logins for this {scope}; try again in {wait} seconds."
            )
            problem.headers["Retry-After"] = str(wait)
            raise problem


async def record_failure(store: LimitStore, keys: LoginKeys, now: datetime) -> None:
    await store.record_login_failure(keys.scoped(), now)


async def forget_failures(store: LimitStore, session: AsyncSession, keys: LoginKeys) -> None:
    """A successful login clears its account's count (not its address's)."""
    await store.forget_login_failures(session, "account", keys.account)


async def sweep(session: AsyncSession, now: datetime) -> int:
    """Failures older than the window count for nothing: the worker deletes them."""
    result = await session.execute(
        delete(LoginFailure).where(LoginFailure.failed_at <= now - WINDOW)
    )
    return int(getattr(result, "rowcount", 0) or 0)
