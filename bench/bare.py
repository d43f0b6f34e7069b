"""The bare endpoint `bench/http.py` measures the API against: Starlette + asyncpg under the same
uvicorn settings as `afterview serve`, doing the same work per request and nothing more.

Each request verifies the API's HS256 JWT (PyJWT, same audience and required claims), opens a
transaction, sets `app.agency_id` through a bound parameter, and reads or writes as the runtime
role under forced RLS (the agency filter is in the SQL too). Answers are the API's JSON fields,
serialized with the standard library's `json`. Routes:

    GET  /v1/candidates/{id}        one candidate (`ETag` from its version)
    GET  /v1/candidates?limit=50    a page ordered by (updated_at, id), limit + 1 fetched
    POST /v1/candidates             the candidate row and its `candidate.created` event row

    BARE_DATABASE_URL=<runtime url> BARE_JWT_SECRET=<secret> BARE_POOL_SIZE=32 \\
        python -m bench.bare --port 8001 --workers 1
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import jwt
import uvicorn
from asyncpg.pool import PoolConnectionProxy
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.core.db import to_libpq_url
from app.core.ids import new_id
from app.core.security import JWT_ALGORITHM, JWT_AUDIENCE

COLUMNS = (
    "id, first_name, last_name, email, phone, contact_consent, owner_id, external_id, "
    "created_at, updated_at, version"
)
ONE = f"SELECT {COLUMNS} FROM candidate WHERE agency_id = $1 AND id = $2"
PAGE = f"SELECT {COLUMNS} FROM candidate WHERE agency_id = $1 ORDER BY updated_at, id LIMIT $2"
INSERT = (
    "INSERT INTO candidate (agency_id, id, first_name, last_name, email, phone, "
    "contact_consent, owner_id, external_id, created_at, updated_at) "
    f"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING {COLUMNS}"
)
EVENT = (
    "INSERT INTO event (agency_id, id, occurred_at, type, object_type, object_id, user_id, "
    "request_id, data, snapshot) "
    "VALUES ($1, $2, $3, 'candidate.created', 'candidate', $4, $5, $6, '{}'::jsonb, $7::jsonb)"
)
SET_TENANT = "SELECT set_config('app.agency_id', $1, true)"


def _json(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(value, separators=(",", ":"))
    return Response(body, status, headers, media_type="application/json")


def _problem(status: int, title: str) -> Response:
    return Response(
        json.dumps({"type": "about:blank", "title": title, "status": status}),
        status,
        media_type="application/problem+json",
    )


def _read(row: asyncpg.Record) -> dict[str, Any]:
    """The fields of `CandidateRead`, as the API writes them."""
    return {
        "id": str(row["id"]),
        "first_name": row["first_name"],
        "last_name": row["last_name"],
        "email": row["email"],
        "phone": row["phone"],
        "contact_consent": row["contact_consent"],
        "owner_id": str(row["owner_id"]) if row["owner_id"] else None,
        "external_id": row["external_id"],
        "created_at": row["created_at"].isoformat(),
        "updated_at": row["updated_at"].isoformat(),
    }


class Unauthorized(Exception):
    pass


def _claims(request: Request) -> tuple[UUID, UUID]:
    """(agency, user) from a valid bearer token, as `read_access_token` checks it."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        raise Unauthorized
    try:
        claims = jwt.decode(
            token,
            request.app.state.secret,
            algorithms=[JWT_ALGORITHM],
            audience=JWT_AUDIENCE,
            options={"require": ["sub", "agency", "exp", "iat"]},
        )
        return UUID(claims["agency"]), UUID(claims["sub"])
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise Unauthorized from exc


@asynccontextmanager
async def _scoped(
    request: Request, agency: UUID
) -> AsyncIterator[PoolConnectionProxy[asyncpg.Record]]:
    """A pooled connection in a transaction scoped to `agency` (RLS reads the setting)."""
    pool: asyncpg.Pool = request.app.state.pool
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(SET_TENANT, str(agency))
        yield conn


async def get_one(request: Request) -> Response:
    try:
        agency, _user = _claims(request)
    except Unauthorized:
        return _problem(401, "Unauthorized")
    try:
        candidate_id = UUID(request.path_params["candidate_id"])
    except ValueError:
        return _problem(404, "Not found")
    async with _scoped(request, agency) as conn:
        row = await conn.fetchrow(ONE, agency, candidate_id)
    if row is None:
        return _problem(404, "Not found")
    return _json(_read(row), headers={"ETag": f'"{row["version"]}"'})


async def list_page(request: Request) -> Response:
    try:
        agency, _user = _claims(request)
        limit = int(request.query_params.get("limit", "50"))
    except (Unauthorized, ValueError):
        return _problem(401, "Unauthorized")
    async with _scoped(request, agency) as conn:
        rows = await conn.fetch(PAGE, agency, limit + 1)
    cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = [rows[-1]["updated_at"].isoformat(), str(rows[-1]["id"])]
        raw = json.dumps(last, separators=(",", ":")).encode()
        cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return _json({"items": [_read(r) for r in rows], "next": cursor})


async def create(request: Request) -> Response:
    try:
        agency, user = _claims(request)
        body = json.loads(await request.body())
        values = (
            str(body["first_name"]),
            str(body["last_name"]),
            str(body["email"]),
            body.get("phone"),
            bool(body.get("contact_consent", False)),
            UUID(body["owner_id"]) if body.get("owner_id") else None,
            body.get("external_id"),
        )
    except Unauthorized:
        return _problem(401, "Unauthorized")
    except (ValueError, KeyError, TypeError):
        return _problem(422, "Unprocessable")
    now = datetime.now().astimezone()
    async with _scoped(request, agency) as conn:
        row = await conn.fetchrow(INSERT, agency, new_id(), *values, now)
        assert row is not None
        read = _read(row)
        await conn.execute(
            EVENT, agency, new_id(), now, row["id"], user, secrets.token_hex(8), json.dumps(read)
        )
    headers = {"Location": f"/v1/candidates/{read['id']}", "ETag": f'"{row["version"]}"'}
    return _json(read, 201, headers)


def create_app(database_url: str, secret: str, pool_size: int) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.secret = secret
        app.state.pool = await asyncpg.create_pool(
            to_libpq_url(database_url), min_size=1, max_size=pool_size
        )
        try:
            yield
        finally:
            await app.state.pool.close()

    routes = [
        Route("/v1/candidates/{candidate_id}", get_one, methods=["GET"]),
        Route("/v1/candidates", list_page, methods=["GET"]),
        Route("/v1/candidates", create, methods=["POST"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def create_app_from_env() -> Starlette:
    return create_app(
        os.environ["BARE_DATABASE_URL"],
        os.environ["BARE_JWT_SECRET"],
        int(os.environ.get("BARE_POOL_SIZE", "32")),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    # The options `afterview serve` gives uvicorn (loop and http left to "auto" in both).
    options: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "access_log": False,
        "log_level": "warning",
        "log_config": None,
    }
    if args.workers == 1:
        uvicorn.run(create_app_from_env(), **options)
    else:
        uvicorn.run("bench.bare:create_app_from_env", factory=True, workers=args.workers, **options)


if __name__ == "__main__":
    main()
