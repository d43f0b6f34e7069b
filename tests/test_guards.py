"""Bad input never reaches a 500: oversize bodies are 413 before they are read, a NUL anywhere
is 422, out-of-range instants are 422, absurd tokens are 401; and an error response leaves the
kept-alive connection serving the next request."""

import gzip
import http.client
import json
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import jwt
import pytest
import uvicorn
from fastapi import FastAPI
from httpx import AsyncClient

from app.core.security import JWT_ALGORITHM, JWT_AUDIENCE
from app.core.settings import Settings
from app.main import create_app
from tests.conftest import JWT_SECRET
from tests.support.problems import assert_problem
from tests.support.processes import free_port
from tests.support.records import list_ids, make_candidate
from tests.support.tenants import Tenant

MIB = 1024 * 1024


async def test_a_body_over_the_limit_is_413_before_it_is_read(
    agency_a: Tenant, anon: AsyncClient
) -> None:
    before = await list_ids(agency_a.admin, "/v1/candidates")
    big = json.dumps({"first_name": "A", "last_name": "x" * MIB, "email": "a@example.com"})
    problem = assert_problem(
        await agency_a.admin.post(
            "/v1/candidates", content=big, headers={"content-type": "application/json"}
        ),
        413,
        "payload-too-large",
    )
    assert problem["max_bytes"] == MIB

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(2 * 1024):
            yield b"x" * 1024

    streamed = await agency_a.admin.post(
        "/v1/candidates", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_problem(streamed, 413, "payload-too-large")
    for public in ("/v1/auth/token", "/feedback/anything", "/v1/public/feedback/anything"):
        response = await anon.post(
            public,
            content=b"a" * (MIB + 1),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert_problem(response, 413, "payload-too-large")
    assert await list_ids(agency_a.admin, "/v1/candidates") == before


@pytest.mark.parametrize("coding", ["gzip", "br", "deflate, gzip"])
async def test_a_compressed_body_is_a_415_that_says_so(agency_a: Tenant, coding: str) -> None:
    """Not a NUL in the body (gzip's header has one), nor JSON that does not parse."""
    before = await list_ids(agency_a.admin, "/v1/candidates")
    body = gzip.compress(json.dumps({"first_name": "A", "last_name": "B"}).encode())
    response = await agency_a.admin.post(
        "/v1/candidates",
        content=body,
        headers={"content-type": "application/json", "content-encoding": coding},
    )
    problem = assert_problem(response, 415, "unsupported-content-encoding")
    assert coding in problem["detail"]
    assert await list_ids(agency_a.admin, "/v1/candidates") == before
    plain = await agency_a.admin.post(
        "/v1/candidates",
        json={"first_name": "A", "last_name": "B", "email": "a@example.com"},
        headers={"content-encoding": "identity"},
    )
    assert plain.status_code == 201, plain.text


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "field", "location"),
    [
        (
            "POST",
            "/v1/candidates",
            {
                "content": b'{"first_name": "A\\u0000", "last_name": "B", "email": "a@b.com"}',
                "headers": {"content-type": "application/json"},
            },
            "body",
            "body",
        ),
        ("GET", "/v1/candidates", {"params": {"name": "Am\x00ara"}}, "query", "query"),
        ("GET", "/v1/candidates/%00", {}, "path", "path"),
        (
            "GET",
            "/v1/candidates",
            {"headers": {"x-request-id": "a\x00b"}},
            "x-request-id",
            "header",
        ),
    ],
    ids=["json-body", "query", "path", "header"],
)
async def test_a_nul_anywhere_is_a_422(
    agency_a: Tenant,
    method: str,
    path: str,
    kwargs: dict[str, object],
    field: str,
    location: str,
) -> None:
    before = await list_ids(agency_a.admin, "/v1/candidates")
    response = await agency_a.admin.request(method, path, **kwargs)  # type: ignore[arg-type]
    problem = assert_problem(response, 422, "validation-error")
    assert problem["errors"] == [
        {"field": field, "location": location, "message": "must not contain NUL characters"}
    ]
    assert await list_ids(agency_a.admin, "/v1/candidates") == before


async def test_a_nul_in_a_form_is_a_422_and_an_escaped_one_is_just_text(
    agency_a: Tenant, anon: AsyncClient
) -> None:
    login = await anon.post(
        "/v1/auth/token",
        content=f"username={agency_a.admin_email}%00&password=x".encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert_problem(login, 422, "validation-error")
    page = await anon.post(
        "/feedback/some-token",
        content=b"strengths=a%00&gaps=b",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert_problem(page, 422, "validation-error")
    # A backslash followed by "u0000" is text, not a NUL.
    literal = await make_candidate(agency_a, last_name="Okafor \\u0000")
    assert literal["last_name"] == "Okafor \\u0000"


@pytest.mark.parametrize(
    "instant",
    ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "1800-01-01T00:00:00+00:00"],
)
async def test_instants_out_of_range_are_422(agency_a: Tenant, instant: str) -> None:
    listing = await agency_a.admin.get("/v1/candidates", params={"updated_after": instant})
    problem = assert_problem(listing, 422, "validation-error")
    assert problem["errors"][0]["field"] == "updated_after"
    report = await agency_a.admin.get(
        "/v1/reports/post-interview", params={"from": instant, "to": instant}
    )
    assert_problem(report, 422, "validation-error")


async def test_a_token_that_expires_in_the_year_10_to_the_30_is_just_invalid(
    agency_a: Tenant, anon: AsyncClient
) -> None:
    now = int(datetime.now(UTC).timestamp())
    for claims in ({"exp": 10**30, "iat": now}, {"exp": now + 60, "iat": -(10**30)}):
        token = jwt.encode(
            {
                "sub": str(agency_a.admin_id),
                "agency": str(agency_a.agency_id),
                "aud": JWT_AUDIENCE,
                **claims,
            },
            JWT_SECRET,
            algorithm=JWT_ALGORITHM,
        )
        response = await anon.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert_problem(response, 401, "invalid-token")


@pytest.fixture
def served_app() -> Iterator[int]:
    """A real HTTP server (uvicorn, in a thread) for an app with one route that breaks."""
    app: FastAPI = create_app(
        Settings(database_url="postgresql://nobody@127.0.0.1:1/none"), jwt_secret=JWT_SECRET
    )

    @app.get("/test-only/breaks", include_in_schema=False)
    async def breaks() -> None:
        raise RuntimeError("a bug")

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = datetime.now(UTC) + timedelta(seconds=10)
    while not server.started:
        assert datetime.now(UTC) < deadline, "uvicorn did not start"
        threading.Event().wait(0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(10)


def test_after_an_error_the_same_connection_serves_the_next_request(served_app: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", served_app, timeout=10)
    sockets, answers = set(), []
    try:
        for path in ("/test-only/breaks", "/v1/candidates?name=%00", "/readyz", "/healthz"):
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            answers.append((response.status, response.will_close))
            sockets.add(id(connection.sock))
            kind = response.getheader("content-type", "")
            assert kind.startswith(
                "application/problem+json" if response.status >= 400 else "application/json"
            )
    finally:
        connection.close()
    assert answers == [(500, False), (422, False), (503, False), (200, False)]
    assert len(sockets) == 1  # one connection carried all four
