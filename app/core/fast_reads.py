"""`GET /v1/<records>/{id}` for a logged-in person, answered without FastAPI's per-request
machinery: the commonest request an agency front-end sends (issue 11).

It is the same request, not a second implementation of one: the token is read by
`read_access_token`, the quota counted by `rate_limits.hit`, the person checked by
`person_principal`, the row read by `RecordService.read_row` under `set_config` in one
transaction (both walls: the statement's own agency filter and forced RLS), problems rendered
by `problem_response`, and the body serialised by the route's own response schema. What it
saves is FastAPI's route matching, dependency solving and response validation, and
SQLAlchemy's session: about 70% of the request's CPU (bench/http.py).

Anything else (an API key, On-Behalf-Of, a token that is not a valid one, an id not in canonical
form, another method) goes on to the FastAPI route unchanged, which answers it as before. The
route stays in the OpenAPI document; tests/test_fast_reads.py checks both paths answer alike.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.auth import count_request, person_principal
from app.core.db import SET_TENANT_SQL
from app.core.errors import Problem, problem_response
from app.core.etag import etag_of
from app.core.records import RecordService
from app.core.security import AccessTokenExpired, TokenClaims, looks_like_api_key, read_access_token

_RECORD_PATH = re.compile(
    r"(/v1/[a-z-]+)/([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
)


@dataclass(frozen=True)
class RecordRead:
    """What a record's `GET {path}/{record_id}` route reads, and its template (for the access
    log and the latency metric, which name routes, never raw paths)."""

    service: RecordService[Any]
    path: str  # the route's template: `/v1/candidates/{record_id}`


class FastRecordReads:
    """ASGI middleware, innermost: inside the request id, the input guard and CORS."""

    def __init__(self, app: ASGIApp, reads: Mapping[str, RecordRead]) -> None:
        self.app = app
        self.reads = {path: read for path, read in reads.items() if read.service.reads_by_driver}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        target = self._target(scope)
        claims = self._claims(scope) if target is not None else None
        if target is None or claims is None:
            await self.app(scope, receive, send)
            return
        read, record_id = target
        scope["route"] = read  # `route_template` reads its `path`
        response = await self._answer(Request(scope), read, record_id, claims)
        await response(scope, receive, send)

    def _target(self, scope: Scope) -> tuple[RecordRead, UUID] | None:
        if scope["type"] != "http" or scope["method"] != "GET":
            return None
        match = _RECORD_PATH.fullmatch(scope["path"])
        read = self.reads.get(match.group(1)) if match else None
        return None if read is None or match is None else (read, UUID(match.group(2)))

    def _claims(self, scope: Scope) -> TokenClaims | None:
        """A person's valid access token, with nothing the route would refuse or treat
        differently (those requests go on to the route)."""
        headers = Headers(scope=scope)
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token or looks_like_api_key(token):
            return None
        if "on-behalf-of" in headers:
            return None
        state = scope["app"].state
        try:
            return read_access_token(state.jwt_secret, token, state.clock.now())
        except AccessTokenExpired:
            return None

    async def _answer(
        self, request: Request, read: RecordRead, record_id: UUID, claims: TokenClaims
    ) -> Response:
        state = request.app.state
        try:
            async with state.engine.connect() as connection:
                driver = (await connection.get_raw_connection()).driver_connection
                # Counted in its own (autocommit) statement before the transaction, as the
                # route counts it on a connection of its own: a refusal still counts.
                await count_request(request, state.clock, claims, driver)
                async with driver.transaction():
                    await driver.execute(SET_TENANT_SQL, str(claims.agency_id))
                    principal = await person_principal(driver, request, claims)
                    shown, version = await read.service.read_row(driver, principal, record_id)
        except Problem as problem:
            return problem_response(request, problem)
        return Response(
            shown.model_dump_json(by_alias=True),
            media_type="application/json",
            headers={"ETag": etag_of(version)},
        )
