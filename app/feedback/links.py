"""Signed, expiring links a client contact answers a feedback request through (no account).

A link is an HS256 token naming the agency and the request, signed with a key derived from the
server secret for this purpose alone, and expiring with the request."""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

import jwt
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Principal
from app.core.db import set_tenant
from app.core.errors import LinkExpired, NotFound
from app.core.ids import AgencyId
from app.core.state import StateDep

AUDIENCE = "afterview-feedback-link"


@dataclass(frozen=True)
class FeedbackLinks:
    secret: str
    base_url: str

    @property
    def _key(self) -> bytes:
        return hmac.new(self.secret.encode(), b"feedback-link", hashlib.sha256).digest()

    def token(self, agency_id: UUID, request_id: UUID, expires_at: datetime) -> str:
        claims = {
            "aud": AUDIENCE,
            "agency": str(agency_id),
            "req": str(request_id),
            "exp": int(expires_at.timestamp()),
        }
        return jwt.encode(claims, self._key, algorithm="HS256")

    def url(self, agency_id: UUID, request_id: UUID, expires_at: datetime) -> str:
        """The HTML form a person opens (its JSON twin is `/v1/public/feedback/{token}`)."""
        token = self.token(agency_id, request_id, expires_at)
        return f"{self.base_url.rstrip('/')}/feedback/{token}"

    def read(self, token: str, now: datetime) -> tuple[AgencyId, UUID]:
        """The agency and request a genuine link names; 404 for a forged one, 410 if expired."""
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=["HS256"],
                audience=AUDIENCE,
                options={"require": ["agency", "req", "exp"], "verify_exp": False},
            )
            agency_id, request_id = AgencyId(UUID(claims["agency"])), UUID(claims["req"])
            expires_at = datetime.fromtimestamp(int(claims["exp"]), tz=UTC)
        except (jwt.PyJWTError, ValueError, TypeError, OverflowError, OSError):
            raise NotFound("No feedback request at that link.") from None
        if expires_at <= now:
            raise LinkExpired("This link has expired; the agency can send a new one.")
        return agency_id, request_id


async def _links(request: Request, state: StateDep) -> FeedbackLinks:
    base = state.settings.public_url or str(request.base_url)
    return FeedbackLinks(state.jwt_secret, base)


LinksDep = Annotated[FeedbackLinks, Depends(_links)]


async def link_principal(
    token: str, session: AsyncSession, links: FeedbackLinks, now: datetime
) -> tuple[Principal, UUID]:
    """Whoever holds a genuine, unexpired link acts for its agency, on that request only:
    the principal and the request id, with the transaction scoped to the agency."""
    agency_id, request_id = links.read(token, now)
    await set_tenant(session, agency_id)
    return Principal.link_holder(agency_id, via="client"), request_id
