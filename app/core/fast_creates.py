"""`POST /v1/<records>` for a logged-in person, answered without FastAPI's per-request machinery:
the commonest write an agency front-end or an ATS sync sends (issue 11).

As with `FastRecordReads`, it is the same request, not a second implementation of one: the
body is parsed as FastAPI parses it (`json.loads`) and validated by the route's own create
schema; the token read by `read_access_token`, the quota counted by `count_request` before the
transaction, the transaction scoped to the agency and the person checked by
`enter_as_person(_on)`, problems rendered by `problem_response`, and the answer made by the
route's response schema with the route's 201, `Location` and `ETag`. The record is written in
one of two ways, both the record service's own:
- `RecordService.create_row` on the driver, when `creates_by_driver` says the domain adds no
  rule and the body names nothing to look up (a candidate or a client without an owner or an
  external id): the row and its event, as `create_shown` writes them, without the session;
- `RecordService.create_shown` in a session otherwise (the domain's `check`, the external id,
  the event).
What it saves is FastAPI's route matching, dependency solving and response validation, and on
the driver SQLAlchemy's session too (bench/http.py).

Anything else goes on to the route with its body replayed, which answers it as before: an API
key, On-Behalf-Of, a token that is not a valid one, an `Idempotency-Key` (the route stores the
answer), a query string, a body that is not JSON or that the schema refuses (the route's 422
names the fields). tests/test_fast_creates.py checks both paths answer alike.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ValidationError
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.auth import as_person_on_driver, before_begin, count_request, enter_as_person
from app.core.db import request_transaction
from app.core.errors import Problem, problem_response
from app.core.etag import etag_of
from app.core.fast_reads import ListRoute, person_claims
from app.core.guards import replay_body
from app.core.records import RecordService
from app.core.security import TokenClaims
from app.core.state import state_of

_DELEGATED_HEADERS = ("idempotency-key", "on-behalf-of")


@dataclass(frozen=True)
class RecordCreate:
    """A record's `POST {path}` route: its service and the schemas it reads and answers."""

    service: RecordService[Any]
    path: str
    create: type[BaseModel]
    read: type[BaseModel]


class FastRecordCreates:
    """ASGI middleware, innermost (beside `FastRecordReads`): inside the request id, the input
    guard (which has read the body already) and CORS."""

    def __init__(self, app: ASGIApp, creates: Mapping[str, RecordCreate]) -> None:
        self.app = app
        self.creates = dict(creates)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self._route(scope)
        claims = person_claims(scope) if route is not None else None
        if route is None or claims is None:
            await self.app(scope, receive, send)
            return
        body = await _body(receive)
        data = _validated(route.create, body)
        if data is None:  # the route says what is wrong with it
            await self.app(scope, replay_body(body, receive), send)
            return
        # `route_template` reads the route's `path`, for the access log and the metric.
        scope["route"] = ListRoute(route.path)
        response = await self._answer(Request(scope), route, data, claims)
        await response(scope, receive, send)

    def _route(self, scope: Scope) -> RecordCreate | None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["query_string"]:
            return None
        route = self.creates.get(scope["path"])
        if route is None:
            return None
        headers = Headers(scope=scope)
        if any(name in headers for name in _DELEGATED_HEADERS):
            return None
        kind = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        return route if kind == "application/json" else None

    async def _answer(
        self, request: Request, route: RecordCreate, data: BaseModel, claims: TokenClaims
    ) -> Response:
        try:
            if route.service.creates_by_driver(data):
                shown, record_id, version = await _by_driver(request, route, data, claims)
            else:
                shown, record_id, version = await _by_session(request, route, data, claims)
        except Problem as problem:
            return problem_response(request, problem)
        headers = {"Location": f"{route.path}/{record_id}", "ETag": etag_of(version)}
        return Response(
            shown.model_dump_json(by_alias=True),
            status_code=201,
            media_type="application/json",
            headers=headers,
        )


async def _by_driver(
    request: Request, route: RecordCreate, data: BaseModel, claims: TokenClaims
) -> tuple[BaseModel, UUID, int]:
    """A create with nothing to look up first, on the driver (`RecordService.create_row`)."""
    async with as_person_on_driver(request, claims) as (driver, principal):
        clock = state_of(request.app).clock
        return await route.service.create_row(driver, principal, clock, data)


async def _by_session(
    request: Request, route: RecordCreate, data: BaseModel, claims: TokenClaims
) -> tuple[BaseModel, UUID, int]:
    """Any other create, in a session (`RecordService.create_shown`)."""
    state = state_of(request.app)
    async with request_transaction(state.sessions) as session:
        # Counted before the database transaction begins, as the route counts it: a refusal
        # still counts.
        await count_request(request, state.clock, claims, await before_begin(session))
        principal = await enter_as_person(session, request, claims)
        record, shown = await route.service.create_shown(session, principal, state.clock, data)
        return shown, record.id, record.version


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message: Message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _validated(schema: type[BaseModel], body: bytes) -> BaseModel | None:
    """The body as the route would take it (`json.loads`, then the schema), or None."""
    try:
        return schema.model_validate(json.loads(body))
    except (ValueError, ValidationError):  # JSONDecodeError and UnicodeDecodeError among them
        return None
    except RecursionError:  # nested deeper than the parser goes: the route answers 400
        return None
