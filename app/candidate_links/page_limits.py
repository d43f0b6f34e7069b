"""The candidate page's limits, counted where the login's are (`limit_store`: PostgreSQL or
Redis), per link and per client address:

- requests: at most `LINK_PER_MINUTE` a minute to one link and `ADDRESS_PER_MINUTE` from one
  address (the quota's fixed one-minute window);
- failures, as the login counts wrong passwords: a forged or unknown link counts against the
  address, a form without its link's CSRF token against the link and the address; after 10 in
  15 minutes, that link or address is refused until the window moves on.

Either refusal is a 429 page with `Retry-After`."""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from app.core import rate_limits
from app.core.errors import TooManyAttempts
from app.core.limit_store import LimitStore

LINK_PER_MINUTE = 30
ADDRESS_PER_MINUTE = 60
LINK, ADDRESS = "cand_link", "cand_addr"
"""The failure scopes (the login's are `account` and `address`: these never mix with them)."""


def _digest(kind: str, value: str) -> bytes:
    return hashlib.sha256(f"candidate-page:{kind}:{value}".encode()).digest()


@dataclass(frozen=True)
class PageLimits:
    store: LimitStore
    now: datetime
    address: str | None

    def _address(self) -> list[tuple[str, bytes, int]]:
        if self.address is None:
            return []
        return [(ADDRESS, _digest(ADDRESS, self.address), ADDRESS_PER_MINUTE)]

    def _link(self, link_id: UUID) -> list[tuple[str, bytes, int]]:
        return [(LINK, _digest(LINK, str(link_id)), LINK_PER_MINUTE)]

    async def admit(self, link_id: UUID | None = None) -> None:
        """Count this request against the address, or (`link_id`) against the link; raise 429
        `too-many-attempts` after too many failures, `rate-limited` over the quota."""
        for scope, digest, per_minute in self._link(link_id) if link_id else self._address():
            wait = await self.store.login_wait(scope, digest, self.now)
            if wait is not None:
                problem = TooManyAttempts(f"Too many failed attempts; try again in {wait} s.")
                problem.headers["Retry-After"] = str(wait)
                raise problem
            await rate_limits.hit(self.store, digest, per_minute, self.now)

    async def failed(self, link_id: UUID | None = None) -> None:
        """A forged link (the address) or a form without its token (the link and address)."""
        keys = [*self._address(), *(self._link(link_id) if link_id else [])]
        if keys:
            await self.store.record_login_failure([(s, d) for s, d, _ in keys], self.now)
