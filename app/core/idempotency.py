"""`Idempotency-Key` on POST: the same key and body replay the stored response, with exactly
one side effect; the same key with another body is a 422; a duplicate arriving while the first
is in flight is a 409.

How: the request's own transaction takes a transaction-scoped advisory lock on (agency,
credential, key) — a second request that cannot take it is in flight — and stores the response
in that same transaction, so the response exists exactly when the effects do.
"""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import CurrentPrincipal, Principal
from app.core.clock import Clock
from app.core.deps import ClockDep, SessionDep
from app.core.errors import IdempotencyKeyInFlight, IdempotencyKeyReused
from app.core.state import state_of
from app.models import IdempotencyKey

KEEP_FOR = timedelta(hours=48)
REPLAYED_HEADER = "Idempotent-Replayed"
STORED_HEADERS = ("Location", "ETag")

M = TypeVar("M", bound=BaseModel)


class Replay(Exception):
    """The request was already answered: send the stored response again."""

    def __init__(self, stored: IdempotencyKey) -> None:
        # Copied out now: the session is rolled back before the response is sent.
        self.status = stored.response_status
        self.body = stored.response_body
        self.headers = {**stored.response_headers, REPLAYED_HEADER: "true"}


def replay_response(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Replay)
    return JSONResponse(exc.body, status_code=exc.status, headers=exc.headers)


@dataclass
class Idempotency:
    """Handed to a POST route; `respond` stores what it answers (when a key was sent)."""

    session: AsyncSession
    principal: Principal
    clock: Clock
    key: str | None = None
    credential: str = ""
    request_hash: bytes = b""
    method: str = "POST"
    path: str = ""

    async def respond(
        self,
        response: Response,
        body: M,
        *,
        status_code: int = 200,
        location: str | None = None,
        etag: str | None = None,
        redact: frozenset[str] = frozenset(),
    ) -> M:
        """Set the response's status and headers and, with a key, store the response.

        `redact` names body fields never to be stored (secrets shown once)."""
        response.status_code = status_code
        if location:
            response.headers["Location"] = location
        if etag:
            response.headers["ETag"] = etag
        if self.key is not None:
            stored_body = body.model_dump(mode="json")
            for name in redact:
                stored_body[name] = None
            now = self.clock.now()
            self.session.add(
                IdempotencyKey(
                    agency_id=self.principal.agency_id,
                    credential=self.credential,
                    key=self.key,
                    method=self.method,
                    path=self.path,
                    request_hash=self.request_hash,
                    response_status=status_code,
                    response_body=stored_body,
                    response_headers={
                        h: response.headers[h] for h in STORED_HEADERS if h in response.headers
                    },
                    created_at=now,
                    expires_at=now + KEEP_FOR,
                )
            )
            await self.session.flush()
        return body


def _credential(principal: Principal) -> str:
    if principal.api_key_id is not None:
        return f"key:{principal.api_key_id}"
    return f"user:{principal.user_id}"


def _lock_id(*parts: Any) -> int:
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def idempotency(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    clock: ClockDep,
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=255,
            description="Any unique string (a UUID is ideal). Retrying with the same key and "
            "body returns the first response instead of acting twice. Kept 48 hours.",
        ),
    ] = None,
) -> Idempotency:
    idem = Idempotency(session, principal, clock, path=request.url.path, method=request.method)
    if key is None:
        return idem
    idem.key, idem.credential = key, _credential(principal)
    # Keyed with the server secret: a stored hash of a body holding a password is no oracle.
    mac = hmac.new(state_of(request.app).jwt_secret.encode(), digestmod=hashlib.sha256)
    for part in (request.method, request.url.path, request.url.query):
        mac.update(part.encode() + b"\n")
    mac.update(await request.body())
    idem.request_hash = mac.digest()

    lock = _lock_id(principal.agency_id, idem.credential, key)
    where = (
        IdempotencyKey.agency_id == principal.agency_id,
        IdempotencyKey.credential == idem.credential,
        IdempotencyKey.key == key,
    )
    stored = await session.scalar(select(IdempotencyKey).where(*where))
    if stored is not None and stored.expires_at <= clock.now():
        stored = None
    if not await session.scalar(select(func.pg_try_advisory_xact_lock(lock))):
        # Another request holds the key: the first, still running (409), or a retry of a
        # finished one, which is answered like any retry.
        if stored is None:
            raise IdempotencyKeyInFlight("Wait for the first request to finish, then retry.")
    elif stored is None:  # read again under the lock: the first may have finished just now
        stored = await session.scalar(
            select(IdempotencyKey).where(*where).execution_options(populate_existing=True)
        )
        if stored is not None and stored.expires_at <= clock.now():
            await session.execute(delete(IdempotencyKey).where(*where))
            stored = None
    if stored is None:
        return idem
    if not hmac.compare_digest(stored.request_hash, idem.request_hash):
        raise IdempotencyKeyReused("Use a new Idempotency-Key for a different request.")
    raise Replay(stored)


IdempotencyDep = Annotated[Idempotency, Depends(idempotency)]
