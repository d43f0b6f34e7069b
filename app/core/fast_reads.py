"""`GET /v1/<records>/{id}` and the first pages of `GET /v1/<records>` for a logged-in person,
answered without FastAPI's per-request machinery: the commonest requests an agency front-end
sends (issue 11).

It is the same request, not a second implementation of one: the token is read by
`read_access_token`, the quota counted by `rate_limits.hit`, the transaction scoped to the
agency (`set_config` with a bound parameter) and the person checked by `enter_as_person_on`,
the rows read by `RecordService.read_row` / `read_page` in that transaction (both walls: the
statement's own agency filter and forced RLS), problems rendered by `problem_response`, and the
body serialised by the route's own response schema. What it saves is FastAPI's route matching,
dependency solving and response validation, and SQLAlchemy's session: about 70% of the
request's CPU (bench/http.py).

Anything else (an API key, On-Behalf-Of, a token that is not a valid one, an id not in canonical
form, a list with filters or a `limit`/`cursor` the route would refuse, another method) goes on
to the FastAPI route unchanged, which answers it as before. The
route stays in the OpenAPI document; tests/test_fast_reads.py checks both paths answer alike.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from pydantic import BaseModel
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.auth import as_person_on_driver
from app.core.errors import InvalidCursor, Problem, problem_response
from app.core.etag import etag_of
from app.core.pagination import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    SYNC_ORDER_TYPES,
    Page,
    PageParams,
    decode_values,
)
from app.core.records import RecordService
from app.core.security import AccessTokenExpired, TokenClaims, looks_like_api_key, read_access_token
from app.core.state import state_of

_RECORD_PATH = re.compile(
    r"(/v1/[a-z-]+)/([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
)


_LIMIT = re.compile(r"[1-9][0-9]{0,2}")
_CURSOR = re.compile(r"[A-Za-z0-9_\-]{1,1024}")


@dataclass(frozen=True)
class RecordRead:
    """A record's `GET {list_path}/{record_id}` route, and whether `GET {list_path}` with no
    filter lists every record of the agency in sync order (`plain_list`)."""

    service: RecordService[Any]
    list_path: str
    plain_list: bool

    @property
    def path(self) -> str:
        """The item route's template (`route_template` reads it for the access log and the
        latency metric, which name routes, never raw paths)."""
        return f"{self.list_path}/{{record_id}}"


def _page_params(query: bytes) -> PageParams | None:
    """`limit` and `cursor` when they are all the query holds, each once, in a form the route
    accepts (`cursor` one this list could have returned); else None."""
    found = dict[str, str]()
    for name, _, value in (part.partition(b"=") for part in query.split(b"&") if part):
        if name not in (b"limit", b"cursor") or name.decode() in found:
            return None
        found[name.decode()] = value.decode("latin-1")
    limit, cursor = found.get("limit", str(DEFAULT_LIMIT)), found.get("cursor")
    if not _LIMIT.fullmatch(limit) or int(limit) > MAX_LIMIT:
        return None
    if cursor is not None and not (_CURSOR.fullmatch(cursor) and _decodes(cursor)):
        return None
    return PageParams(limit=int(limit), cursor=cursor)


def _page_of(item: type[BaseModel]) -> type[BaseModel]:
    """The list route's response model, `Page[item]` (the same class: Pydantic caches it)."""
    return Page[item]  # type: ignore[valid-type]


def _decodes(cursor: str) -> bool:
    try:
        decode_values(cursor, SYNC_ORDER_TYPES)
    except InvalidCursor:
        return False
    return True


def person_claims(scope: Scope) -> TokenClaims | None:
    """A person's valid access token, with nothing the route would refuse or treat differently
    (those requests go on to the route): the fast lanes' first test."""
    headers = Headers(scope=scope)
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token or looks_like_api_key(token):
        return None
    if "on-behalf-of" in headers:
        return None
    state = state_of(scope["app"])
    try:
        return read_access_token(state.jwt_secret, token, state.clock.now())
    except AccessTokenExpired:
        return None


@dataclass(frozen=True)
class ListRoute:
    """What `route_template` reads for a request a fast lane answers on a list path."""

    path: str


class FastRecordReads:
    """ASGI middleware, innermost: inside the request id, the input guard and CORS."""

    def __init__(self, app: ASGIApp, reads: Mapping[str, RecordRead]) -> None:
        self.app = app
        self.reads = {path: read for path, read in reads.items() if read.service.reads_by_driver}
        self.lists = {path: read for path, read in self.reads.items() if read.plain_list}
        self.pages = {read.list_path: _page_of(read.service.read) for read in self.lists.values()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        target = self._target(scope)
        claims = person_claims(scope) if target is not None else None
        if target is None or claims is None:
            await self.app(scope, receive, send)
            return
        read, wanted = target
        # `route_template` reads the route's `path`, for the access log and the metric.
        scope["route"] = read if isinstance(wanted, UUID) else ListRoute(read.list_path)
        response = await self._answer(Request(scope), read, wanted, claims)
        await response(scope, receive, send)

    def _target(self, scope: Scope) -> tuple[RecordRead, UUID | PageParams] | None:
        if scope["type"] != "http" or scope["method"] != "GET":
            return None
        path = scope["path"]
        if (listed := self.lists.get(path)) is not None:
            params = _page_params(scope["query_string"])
            return None if params is None else (listed, params)
        match = _RECORD_PATH.fullmatch(path)
        read = self.reads.get(match.group(1)) if match else None
        return None if read is None or match is None else (read, UUID(match.group(2)))

    async def _answer(
        self, request: Request, read: RecordRead, wanted: UUID | PageParams, claims: TokenClaims
    ) -> Response:
        try:
            async with as_person_on_driver(request, claims) as (driver, principal):
                if isinstance(wanted, UUID):
                    shown, version = await read.service.read_row(driver, principal, wanted)
                else:
                    rows, cursor = await read.service.read_page(driver, principal, wanted)
        except Problem as problem:
            return problem_response(request, problem)
        if isinstance(wanted, UUID):
            body = shown.model_dump_json(by_alias=True)
            return Response(body, media_type="application/json", headers={"ETag": etag_of(version)})
        page = self.pages[read.list_path].model_validate({"items": rows, "next": cursor})
        return Response(page.model_dump_json(by_alias=True), media_type="application/json")
