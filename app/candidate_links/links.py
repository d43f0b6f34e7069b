"""The candidate's signed link: `/candidate/{token}`, no account.

A token is an HS256 JWT naming the agency, the `candidate_link` row and its generation,
signed with a key derived from the server secret for this purpose alone. The row is the truth:
a token whose generation is not the row's (the link was issued again) or whose row was revoked
answers 410, as does one past the row's `expires_at`."""

import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from uuid import UUID

import jwt
from fastapi import Depends, Request

from app.core.errors import NotFound
from app.core.ids import AgencyId
from app.core.signed_links import SignedLinks
from app.core.state import StateDep

AUDIENCE = "afterview-candidate-link"
PATH = "/candidate"


@dataclass(frozen=True)
class LinkClaims:
    agency_id: AgencyId
    link_id: UUID
    generation: int


class CandidateLinks(SignedLinks):
    """Signs and reads candidate links; `base_url` is where people open them."""

    purpose = b"candidate-link"
    audience = AUDIENCE
    path = PATH

    def token(self, agency_id: UUID, link_id: UUID, generation: int, expires_at: datetime) -> str:
        return self.sign(
            {
                "agency": str(agency_id),
                "link": str(link_id),
                "gen": generation,
                "exp": int(expires_at.timestamp()),
            }
        )

    def read(self, token: str) -> LinkClaims:
        """What a genuine token names; 404 for a forged or malformed one. Expiry is the row's
        to decide (with the injected clock), not the token's."""
        try:
            claims = self.verify(token, ["agency", "link", "gen", "exp"])
            generation = claims["gen"]
            if not isinstance(generation, int) or isinstance(generation, bool):
                raise ValueError("gen")
            return LinkClaims(AgencyId(UUID(claims["agency"])), UUID(claims["link"]), generation)
        except (jwt.PyJWTError, ValueError, TypeError, AttributeError):
            raise NotFound("No candidate link at that address.") from None

    def url(self, token: str) -> str:
        return self.page_url(token)

    def csrf_token(self, link_id: UUID, form: str) -> str:
        """The hidden field a page's form carries: bound to the link and the form."""
        return self.mac(f"csrf:{link_id}:{form}".encode())

    def csrf_ok(self, link_id: UUID, form: str, value: str | None) -> bool:
        return value is not None and hmac.compare_digest(self.csrf_token(link_id, form), value)


async def _links(request: Request, state: StateDep) -> CandidateLinks:
    return CandidateLinks.of(request, state)


CandidateLinksDep = Annotated[CandidateLinks, Depends(_links)]
