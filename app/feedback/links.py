"""Signed, expiring links a client contact answers a feedback request through (no account).

A link is an HS256 token naming the agency and the request, signed with a key derived from the
server secret for this purpose alone, and expiring with the request."""

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
from app.core.signed_links import SignedLinks
from app.core.state import StateDep

AUDIENCE = "afterview-feedback-link"


class FeedbackLinks(SignedLinks):
    purpose = b"feedback-link"
    audience = AUDIENCE
    path = "/feedback"

    def token(self, agency_id: UUID, request_id: UUID, expires_at: datetime) -> str:
        claims = {"agency": str(agency_id), "req": str(request_id)}
        return self.sign({**claims, "exp": int(expires_at.timestamp())})

    def url(self, agency_id: UUID, request_id: UUID, expires_at: datetime) -> str:
        """The HTML form a person opens (its JSON twin is `/v1/public/feedback/{token}`)."""
        return self.page_url(self.token(agency_id, request_id, expires_at))

    def read(self, token: str, now: datetime) -> tuple[AgencyId, UUID]:
        """The agency and request a genuine link names; 404 for a forged one, 410 if expired."""
        try:
            claims = self.verify(token, ["agency", "req", "exp"])
            agency_id, request_id = AgencyId(UUID(claims["agency"])), UUID(claims["req"])
            expires_at = datetime.fromtimestamp(int(claims["exp"]), tz=UTC)
        except (jwt.PyJWTError, ValueError, TypeError, OverflowError, OSError):
            raise NotFound("No feedback request at that link.") from None
        if expires_at <= now:
            raise LinkExpired("This link has expired; the agency can send a new one.")
        return agency_id, request_id


async def _links(request: Request, state: StateDep) -> FeedbackLinks:
    return FeedbackLinks.of(request, state)


LinksDep = Annotated[FeedbackLinks, Depends(_links)]


async def link_principal(
    token: str, session: AsyncSession, links: FeedbackLinks, now: datetime
) -> tuple[Principal, UUID]:
    """Whoever holds a genuine, unexpired link acts for its agency, on that request only:
    the principal and the request id, with the transaction scoped to the agency."""
    agency_id, request_id = links.read(token, now)
    await set_tenant(session, agency_id)
    return Principal.link_holder(agency_id, via="client"), request_id
