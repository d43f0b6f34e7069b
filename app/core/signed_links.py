"""What every signed link shares (the client's feedback form, the candidate's page): an HS256
JWT with its own audience, signed with a key derived from the server secret for that purpose
alone, opened under the public base URL. Each kind decides its claims and what a bad token
means."""

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import jwt
from fastapi import Request

from app.core.state import AppState


@dataclass(frozen=True)
class SignedLinks:
    secret: str
    base_url: str
    purpose: ClassVar[bytes]
    """Derives this kind's key from the secret (changing it invalidates every link)."""
    audience: ClassVar[str]
    path: ClassVar[str]
    """Where a person opens the link: `{base_url}{path}/{token}`."""

    @classmethod
    def of(cls, request: Request, state: AppState) -> Self:
        """Signed with the server secret, opened at the public URL (or this request's base)."""
        return cls(state.jwt_secret, state.settings.public_url or str(request.base_url))

    @property
    def _key(self) -> bytes:
        return hmac.new(self.secret.encode(), self.purpose, hashlib.sha256).digest()

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode({"aud": self.audience, **claims}, self._key, algorithm="HS256")

    def verify(self, token: str, required: list[str]) -> dict[str, Any]:
        """The claims of a token this kind signed (expiry is the caller's to judge, with the
        injected clock); raises `jwt.PyJWTError` for any other."""
        claims: dict[str, Any] = jwt.decode(
            token,
            self._key,
            algorithms=["HS256"],
            audience=self.audience,
            options={"require": required, "verify_exp": False},
        )
        return claims

    def page_url(self, token: str) -> str:
        return f"{self.base_url.rstrip('/')}{self.path}/{token}"

    def mac(self, message: bytes) -> str:
        """A keyed digest for this kind's forms (CSRF tokens)."""
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()
