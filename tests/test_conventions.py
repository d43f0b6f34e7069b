"""Conventions every route shares: problem documents, strict bodies, request ids, health."""

from fastapi import FastAPI
from httpx import AsyncClient

from app.core.db import create_engine
from app.core.settings import Settings
from app.main import create_app
from tests.conftest import JWT_SECRET
from tests.support.problem_log import wear_problem_log
from tests.support.problems import assert_problem
from tests.support.tenants import Tenant, new_client


async def test_unknown_route_is_a_404_problem(anon: AsyncClient) -> None:
    response = await anon.get("/v1/no-such-thing")
    assert_problem(response, 404, "not-found")


async def test_wrong_method_is_a_405_problem(agency_a: Tenant) -> None:
    response = await agency_a.admin.put("/v1/users")
    assert_problem(response, 405, "method-not-allowed")
    assert "GET" in response.headers["allow"]


async def test_missing_credentials_is_a_401_problem(anon: AsyncClient) -> None:
    response = await anon.get("/v1/users")
    assert_problem(response, 401, "authentication-required")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_validation_errors_name_each_field(agency_a: Tenant) -> None:
    response = await agency_a.admin.post(
        "/v1/users", json={"email": "not-an-email", "name": "", "password": "short"}
    )
    body = assert_problem(response, 422, "validation-error")
    fields = {e["field"] for e in body["errors"]}
    assert fields == {"email", "name", "password"}
    assert all(e["location"] == "body" and e["message"] for e in body["errors"])


async def test_unknown_body_fields_are_refused(agency_a: Tenant) -> None:
    before = (await agency_a.admin.get("/v1/users")).json()["items"]
    response = await agency_a.admin.post(
        "/v1/users",
        json={
            "email": "new.person@example.com",
            "name": "New Person",
            "password": "a-long-enough-password",
            "is_superuser": True,
        },
    )
    assert_problem(response, 422, "validation-error")
    assert [e["field"] for e in response.json()["errors"]] == ["is_superuser"]
    assert (await agency_a.admin.get("/v1/users")).json()["items"] == before


async def test_malformed_json_is_a_400_problem(agency_a: Tenant) -> None:
    response = await agency_a.admin.post(
        "/v1/users", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert_problem(response, 400, "malformed-request")


async def test_500_reveals_no_internals(fresh_app: FastAPI, agency_a: Tenant) -> None:
    async def explode() -> None:
        raise RuntimeError("secret internal detail: password=hunter2")

    fresh_app.add_api_route("/v1/_explode", explode)
    async with new_client(fresh_app) as client:
        response = await client.get("/v1/_explode", headers={"X-Request-ID": "trace-500"})
    assert_problem(response, 500, "internal-error")
    assert response.headers["x-request-id"] == "trace-500"
    assert "hunter2" not in response.text and "RuntimeError" not in response.text
    assert response.json()["request_id"] == "trace-500"


async def test_request_id_is_echoed_or_generated(anon: AsyncClient) -> None:
    echoed = await anon.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    generated = await anon.get("/healthz")
    assert len(generated.headers["x-request-id"]) == 32
    hostile = await anon.get("/healthz", headers={"X-Request-ID": "x" * 300})
    assert hostile.headers["x-request-id"] != "x" * 300
    assert len(hostile.headers["x-request-id"]) == 32
    problem = await anon.get("/v1/users", headers={"X-Request-ID": "req-401"})
    assert problem.headers["x-request-id"] == "req-401"
    assert problem.json()["request_id"] == "req-401"


async def test_health_and_readiness(anon: AsyncClient) -> None:
    assert (await anon.get("/healthz")).json() == {"status": "ok"}
    ready = await anon.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["database"] == "ok"


async def test_readiness_fails_without_a_database() -> None:
    dead = create_engine("postgresql://nobody@127.0.0.1:1/none")
    app = wear_problem_log(
        create_app(
            Settings(database_url="postgresql://nobody@127.0.0.1:1/none"),
            engine=dead,
            jwt_secret=JWT_SECRET,
        )
    )
    try:
        async with new_client(app) as client:
            assert (await client.get("/healthz")).status_code == 200
            response = await client.get("/readyz")
        assert_problem(response, 503, "service-unavailable")
    finally:
        await dead.dispose()


async def test_pagination_limit_is_capped(agency_a: Tenant) -> None:
    assert (await agency_a.admin.get("/v1/users", params={"limit": 200})).status_code == 200
    response = await agency_a.admin.get("/v1/users", params={"limit": 201})
    assert_problem(response, 422, "validation-error")
    assert [e["field"] for e in response.json()["errors"]] == ["limit"]
    zero = await agency_a.admin.get("/v1/users", params={"limit": 0})
    assert_problem(zero, 422, "validation-error")


async def test_pagination_walks_every_row_once(agency_a: Tenant) -> None:
    for _ in range(6):
        await agency_a.add_user()
    expected = {u["id"] for u in (await agency_a.admin.get("/v1/users")).json()["items"]}
    assert len(expected) == 7
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await agency_a.admin.get("/v1/users", params=params)).json()
        seen += [u["id"] for u in page["items"]]
        pages += 1
        cursor = page["next"]
        if cursor is None:
            break
    assert pages == 3
    assert sorted(seen) == sorted(expected) and len(seen) == len(set(seen))


async def test_a_forged_cursor_is_a_422(agency_a: Tenant) -> None:
    for cursor in ("garbage", "W10", "WyJub3QtYS1kYXRlIiwiMSJd"):
        response = await agency_a.admin.get("/v1/users", params={"cursor": cursor})
        assert_problem(response, 422, "cursor-invalid")
        assert response.json()["errors"][0]["field"] == "cursor"
