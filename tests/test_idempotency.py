"""`Idempotency-Key` on every POST: a replay answers the stored response with exactly one side
effect; a key is scoped to its agency and credential, refused for another request, 409 while in
flight, stores nothing for a failed request, and is kept for at least 24 hours."""

import asyncio
import json
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from httpx import AsyncClient, Response
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.routing import BaseRoute

from app.core.clock import FixedClock
from app.core.db import set_tenant
from app.core.idempotency import IdempotencyDep, idempotency
from app.core.ids import AgencyId
from tests.support.problems import assert_problem
from tests.support.tenants import Tenant, unique_email

REPLAYED = "idempotent-replayed"
# No credential to scope a key to: logging in, and the client's one-time feedback form, as JSON
# and as an HTML page (a second submission is a 410, so a retry cannot record twice).
# Logging in, and the forms of the pages a signed link opens (a form is sent once: a second
# answers "already sent").
UNKEYED_POSTS = {
    "/v1/auth/token",
    "/v1/public/feedback/{token}",
    "/feedback/{token}",
    "/candidate/{token}/debrief",
    "/candidate/{token}/decision",
    "/candidate/{token}/thanks",
    "/candidate/{token}/interviewer-note",
}


def new_key() -> str:
    return f"idem-{secrets.token_hex(8)}"


def keyed(key: str) -> dict[str, str]:
    return {"Idempotency-Key": key}


def candidate_body(**overrides: Any) -> dict[str, Any]:
    return {
        "first_name": "Amara",
        "last_name": f"Okafor-{secrets.token_hex(3)}",
        "email": unique_email("candidate"),
        **overrides,
    }


def client_body() -> dict[str, Any]:
    return {"name": f"Harbour Logistics {secrets.token_hex(4)}"}


def user_body() -> dict[str, Any]:
    return {
        "email": unique_email("idem-user"),
        "name": "Priya Shah",
        "password": secrets.token_urlsafe(18),
        "role": "consultant",
    }


def api_key_body() -> dict[str, Any]:
    return {"name": f"ATS sync {secrets.token_hex(4)}"}


@dataclass(frozen=True)
class Creation:
    """A POST that creates something, and how to find what it created in its list."""

    path: str
    make_body: Callable[[], dict[str, Any]]
    field: str
    """The body field that identifies the created object in the list."""
    list_filter: str | None
    """The list's query parameter filtering on `field`, if it has one."""


CREATIONS = [
    Creation("/v1/candidates", candidate_body, "email", "email"),
    Creation("/v1/clients", client_body, "name", "name"),
    Creation("/v1/users", user_body, "email", "email"),
    Creation("/v1/api-keys", api_key_body, "name", None),
]
CREATION_IDS = [c.path.removeprefix("/v1/") for c in CREATIONS]


async def count_created(client: AsyncClient, creation: Creation, body: dict[str, Any]) -> int:
    """How many objects in the list carry `body`'s identifying field value."""
    value = body[creation.field]
    params: dict[str, str | int] = {"limit": 200}
    if creation.list_filter is not None:
        params[creation.list_filter] = value
    response = await client.get(creation.path, params=params)
    assert response.status_code == 200, response.text
    assert response.json()["next"] is None
    return sum(1 for item in response.json()["items"] if item[creation.field] == value)


async def candidates_with(client: AsyncClient, **params: str) -> list[dict[str, Any]]:
    response = await client.get("/v1/candidates", params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def idempotency_rows(app: FastAPI, agency_id: UUID) -> list[dict[str, Any]]:
    async with app.state.sessions() as session, session.begin():
        await set_tenant(session, AgencyId(agency_id))
        result = await session.execute(
            text("SELECT * FROM idempotency_key WHERE agency_id = :agency"), {"agency": agency_id}
        )
        return [dict(row) for row in result.mappings().all()]


def stored_texts(row: dict[str, Any]) -> list[str]:
    """Every column of a stored row as text (JSON columns serialised, bytes decoded loosely)."""
    texts = []
    for value in row.values():
        if isinstance(value, bytes | memoryview):
            texts.append(bytes(value).decode("latin-1"))
        elif isinstance(value, dict | list):
            texts.append(json.dumps(value))
        else:
            texts.append(str(value))
    return texts


def assert_fresh(response: Response) -> None:
    """A first answer: created, not a replay."""
    assert response.status_code == 201, response.text
    assert REPLAYED not in response.headers


def assert_replay_of(replay: Response, first: Response) -> None:
    assert replay.status_code == first.status_code, replay.text
    assert replay.headers.get(REPLAYED) == "true"
    assert replay.headers["location"] == first.headers["location"]
    assert replay.headers.get("etag") == first.headers.get("etag")
    assert replay.json() == first.json()


# --- Every POST takes the key -------------------------------------------------------------------


def depends_on(dependant: Dependant, target: Callable[..., Any]) -> bool:
    return any(sub.call is target or depends_on(sub, target) for sub in dependant.dependencies)


def post_routes(routes: list[BaseRoute]) -> dict[str, Dependant]:
    """Every POST API route, flattened out of included routers, with its effective dependant
    (router-level dependencies included)."""
    found = {}
    for context in iter_route_contexts(routes):
        methods = context.methods or set()
        if isinstance(context.original_route, APIRoute) and "POST" in methods:
            assert isinstance(context.dependant, Dependant), context.path
            found[str(context.path)] = context.dependant
    return found


def posts_without_idempotency(routes: list[BaseRoute]) -> list[str]:
    return [
        path
        for path, dependant in post_routes(routes).items()
        if path not in UNKEYED_POSTS and not depends_on(dependant, idempotency)
    ]


async def test_every_post_route_handles_idempotency_keys(app: FastAPI) -> None:
    posts = set(post_routes(app.routes))

    # The walk really reaches the routers' POSTs (a walk that saw none would pass vacuously).
    assert {c.path for c in CREATIONS} | UNKEYED_POSTS <= posts
    assert posts_without_idempotency(app.routes) == []


async def test_the_route_walk_catches_a_post_without_the_dependency() -> None:
    router = APIRouter()

    @router.post("/v1/careless")
    async def careless() -> None:
        return None

    @router.post("/v1/careful")
    async def careful(idem: IdempotencyDep) -> None:
        return None

    app = FastAPI()
    app.include_router(router)

    assert posts_without_idempotency(router.routes) == ["/v1/careless"]
    assert posts_without_idempotency(app.routes) == ["/v1/careless"]


# --- Same key, same request: one effect, the same answer -----------------------------------------


@pytest.mark.parametrize("creation", CREATIONS, ids=CREATION_IDS)
async def test_same_key_and_body_replays_the_first_response(
    agency_a: Tenant, creation: Creation
) -> None:
    body, key = creation.make_body(), new_key()

    first = await agency_a.admin.post(creation.path, json=body, headers=keyed(key))
    replay = await agency_a.admin.post(creation.path, json=body, headers=keyed(key))

    assert_fresh(first)
    assert first.headers["location"] == f"{creation.path}/{first.json()['id']}"
    expected = first.json()
    if creation.path == "/v1/api-keys":  # the secret is shown once, never replayed
        assert expected["key"]
        expected = {**expected, "key": None}
    assert replay.status_code == 201, replay.text
    assert replay.headers.get(REPLAYED) == "true"
    assert replay.headers["location"] == first.headers["location"]
    assert replay.headers.get("etag") == first.headers.get("etag")
    assert replay.json() == expected
    assert await count_created(agency_a.admin, creation, body) == 1


async def test_api_key_secret_is_not_stored_with_the_response(
    app: FastAPI, agency_a: Tenant
) -> None:
    key = new_key()
    created = await agency_a.admin.post("/v1/api-keys", json=api_key_body(), headers=keyed(key))
    assert_fresh(created)
    full_key: str = created.json()["key"]
    secret = full_key.split("_", 2)[2]

    rows = [r for r in await idempotency_rows(app, agency_a.agency_id) if r["key"] == key]

    assert len(rows) == 1
    assert rows[0]["path"] == "/v1/api-keys"
    assert rows[0]["response_body"]["id"] == created.json()["id"]
    assert rows[0]["response_body"]["key"] is None
    for stored in stored_texts(rows[0]):
        assert full_key not in stored
        assert secret not in stored


async def test_user_password_is_not_stored_with_the_response(
    app: FastAPI, agency_a: Tenant
) -> None:
    key, body = new_key(), user_body()
    created = await agency_a.admin.post("/v1/users", json=body, headers=keyed(key))
    assert_fresh(created)

    rows = [r for r in await idempotency_rows(app, agency_a.agency_id) if r["key"] == key]

    assert len(rows) == 1
    assert rows[0]["response_body"]["id"] == created.json()["id"]
    assert "password" not in rows[0]["response_body"]
    for stored in stored_texts(rows[0]):
        assert body["password"] not in stored


# --- Same key, another request -------------------------------------------------------------------


@pytest.mark.parametrize("creation", CREATIONS, ids=CREATION_IDS)
async def test_same_key_with_another_body_is_refused_and_creates_nothing(
    agency_a: Tenant, creation: Creation
) -> None:
    key, body, other = new_key(), creation.make_body(), creation.make_body()
    first = await agency_a.admin.post(creation.path, json=body, headers=keyed(key))
    assert_fresh(first)

    reused = await agency_a.admin.post(creation.path, json=other, headers=keyed(key))

    assert_problem(reused, 422, "idempotency-key-reused")
    assert await count_created(agency_a.admin, creation, other) == 0
    assert await count_created(agency_a.admin, creation, body) == 1
    # The key still answers its own request.
    again = await agency_a.admin.post(creation.path, json=body, headers=keyed(key))
    assert again.headers.get(REPLAYED) == "true"
    assert again.json()["id"] == first.json()["id"]


async def test_same_key_on_another_path_is_refused(agency_a: Tenant) -> None:
    key, client = new_key(), client_body()
    first = await agency_a.admin.post("/v1/candidates", json=candidate_body(), headers=keyed(key))
    assert_fresh(first)

    elsewhere = await agency_a.admin.post("/v1/clients", json=client, headers=keyed(key))

    assert_problem(elsewhere, 422, "idempotency-key-reused")
    assert await count_created(agency_a.admin, CREATIONS[1], client) == 0


# --- Keys belong to one agency and one credential ------------------------------------------------


async def test_keys_are_scoped_to_agency_and_credential(agency_a: Tenant, agency_b: Tenant) -> None:
    key, body = new_key(), candidate_body()
    consultant = await agency_a.consultant()
    integration = await agency_a.integration()

    first = await agency_a.admin.post("/v1/candidates", json=body, headers=keyed(key))
    in_b = await agency_b.admin.post("/v1/candidates", json=body, headers=keyed(key))
    by_consultant = await consultant.post("/v1/candidates", json=body, headers=keyed(key))
    by_api_key = await integration.post("/v1/candidates", json=body, headers=keyed(key))

    for response in (first, in_b, by_consultant, by_api_key):
        assert_fresh(response)
    ids = {r.json()["id"] for r in (first, in_b, by_consultant, by_api_key)}
    assert len(ids) == 4
    assert [c["id"] for c in await candidates_with(agency_b.admin, email=body["email"])] == [
        in_b.json()["id"]
    ]
    in_a = {c["id"] for c in await candidates_with(agency_a.admin, email=body["email"])}
    assert in_a == {first.json()["id"], by_consultant.json()["id"], by_api_key.json()["id"]}
    # Each credential's key still replays its own response.
    for client, original in ((agency_a.admin, first), (integration, by_api_key)):
        replay = await client.post("/v1/candidates", json=body, headers=keyed(key))
        assert_replay_of(replay, original)


# --- In flight -----------------------------------------------------------------------------------


WAITING_LOCKS = text("SELECT count(*) FROM pg_locks WHERE NOT granted")


async def wait_until_blocked(observer: AsyncConnection, request: "asyncio.Task[Response]") -> None:
    """Return once some connection waits on a lock; fail if `request` finishes first."""
    for _ in range(250):
        if request.done():
            raise AssertionError(f"finished without waiting: {request.result().text}")
        if await observer.scalar(WAITING_LOCKS):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the request never waited on the held row")


async def test_duplicate_while_the_first_is_in_flight_is_a_409(
    app: FastAPI, agency_a: Tenant
) -> None:
    key, body = new_key(), candidate_body()

    def post() -> Coroutine[Any, Any, Response]:
        return agency_a.admin.post("/v1/candidates", json=body, headers=keyed(key))

    # Hold the agency row: the new candidate's foreign key check waits on it, so the first
    # request stays inside its transaction, holding the key, until the blocker lets go.
    async with app.state.engine.connect() as blocker:
        await blocker.begin()
        await blocker.execute(
            text("SELECT set_config('app.agency_id', :agency, true)"),
            {"agency": str(agency_a.agency_id)},
        )
        locked = await blocker.scalar(
            text("SELECT id FROM agency WHERE id = :agency FOR UPDATE"),
            {"agency": agency_a.agency_id},
        )
        assert locked == agency_a.agency_id
        first_task = asyncio.create_task(post())
        duplicate_tasks: list[asyncio.Task[Response]] = []
        try:
            await wait_until_blocked(blocker, first_task)
            duplicate_tasks = [asyncio.create_task(post()) for _ in range(3)]
            # Each duplicate must answer at once, without waiting for the first to finish.
            _, still_waiting = await asyncio.wait(duplicate_tasks, timeout=5)
        finally:
            await blocker.rollback()
            first, *duplicates = await asyncio.wait_for(
                asyncio.gather(first_task, *duplicate_tasks), timeout=10
            )

    assert not still_waiting
    for duplicate in duplicates:
        assert_problem(duplicate, 409, "idempotency-key-in-flight")
    assert_fresh(first)
    assert_replay_of(await post(), first)
    assert [c["id"] for c in await candidates_with(agency_a.admin, email=body["email"])] == [
        first.json()["id"]
    ]


async def test_concurrent_identical_requests_create_one_object(agency_a: Tenant) -> None:
    key, body = new_key(), candidate_body()

    responses = await asyncio.gather(
        *(agency_a.admin.post("/v1/candidates", json=body, headers=keyed(key)) for _ in range(5))
    )

    created = [r for r in responses if r.status_code == 201 and REPLAYED not in r.headers]
    assert len(created) == 1, [(r.status_code, r.text) for r in responses]
    for response in responses:
        if response is created[0]:
            continue
        if response.status_code == 409:
            assert_problem(response, 409, "idempotency-key-in-flight")
        else:
            assert_replay_of(response, created[0])
    found = await candidates_with(agency_a.admin, email=body["email"])
    assert [c["id"] for c in found] == [created[0].json()["id"]]


# --- A failed request stores nothing -------------------------------------------------------------


async def test_a_request_refused_by_validation_can_be_retried_with_the_same_key(
    app: FastAPI, agency_a: Tenant
) -> None:
    key, body = new_key(), candidate_body()
    invalid = {name: value for name, value in body.items() if name != "email"}

    refused = await agency_a.admin.post("/v1/candidates", json=invalid, headers=keyed(key))

    assert_problem(refused, 422, "validation-error")
    assert await idempotency_rows(app, agency_a.agency_id) == []
    retried = await agency_a.admin.post("/v1/candidates", json=body, headers=keyed(key))
    assert_fresh(retried)
    assert len(await candidates_with(agency_a.admin, email=body["email"])) == 1


async def test_a_request_refused_by_a_rule_can_be_retried_with_the_same_key(
    app: FastAPI, agency_a: Tenant
) -> None:
    taken, free, key = f"ats-{secrets.token_hex(4)}", f"ats-{secrets.token_hex(4)}", new_key()
    existing = await agency_a.admin.post("/v1/candidates", json=candidate_body(external_id=taken))
    assert existing.status_code == 201, existing.text
    clash = candidate_body(external_id=taken)

    refused = await agency_a.admin.post("/v1/candidates", json=clash, headers=keyed(key))
    refused_again = await agency_a.admin.post("/v1/candidates", json=clash, headers=keyed(key))

    assert_problem(refused, 409, "external-id-taken")
    assert_problem(refused_again, 409, "external-id-taken")
    assert REPLAYED not in refused_again.headers
    assert await idempotency_rows(app, agency_a.agency_id) == []
    retried = await agency_a.admin.post(
        "/v1/candidates", json={**clash, "external_id": free}, headers=keyed(key)
    )
    assert_fresh(retried)
    assert [c["id"] for c in await candidates_with(agency_a.admin, external_id=free)] == [
        retried.json()["id"]
    ]
    assert [c["id"] for c in await candidates_with(agency_a.admin, external_id=taken)] == [
        existing.json()["id"]
    ]


# --- Expiry --------------------------------------------------------------------------------------


async def test_a_key_is_kept_a_day_and_forgotten_after_two(
    agency_a: Tenant, clock: FixedClock
) -> None:
    # An API key, not a short-lived token, so the credential outlives the clock jumps.
    integration = await agency_a.integration()
    key, body, other = new_key(), candidate_body(), candidate_body()
    start = clock.now()
    first = await integration.post("/v1/candidates", json=body, headers=keyed(key))
    assert_fresh(first)

    clock.set(start + timedelta(hours=23))
    replay = await integration.post("/v1/candidates", json=body, headers=keyed(key))
    reused = await integration.post("/v1/candidates", json=other, headers=keyed(key))

    assert_replay_of(replay, first)
    assert_problem(reused, 422, "idempotency-key-reused")

    clock.set(start + timedelta(hours=49))
    fresh = await integration.post("/v1/candidates", json=other, headers=keyed(key))

    assert_fresh(fresh)
    assert fresh.json()["id"] != first.json()["id"]
    assert len(await candidates_with(integration, email=body["email"])) == 1
    assert len(await candidates_with(integration, email=other["email"])) == 1
    again = await integration.post("/v1/candidates", json=other, headers=keyed(key))
    assert_replay_of(again, fresh)


# --- Without a key -------------------------------------------------------------------------------


async def test_post_without_a_key_acts_every_time_and_stores_nothing(
    app: FastAPI, agency_a: Tenant
) -> None:
    body = candidate_body()

    first = await agency_a.admin.post("/v1/candidates", json=body)
    second = await agency_a.admin.post("/v1/candidates", json=body)

    assert_fresh(first)
    assert_fresh(second)
    assert first.json()["id"] != second.json()["id"]
    assert len(await candidates_with(agency_a.admin, email=body["email"])) == 2
    assert await idempotency_rows(app, agency_a.agency_id) == []
