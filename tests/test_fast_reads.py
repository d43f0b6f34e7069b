"""`FastRecordReads` answers a record's `GET` exactly as the record's FastAPI route does, and
leaves every request it does not fully understand to that route (issue 11).

Each case asks twice: once the app as served (the fast lane in front), once a twin app built
from the same settings, database and clock with the fast lane taken out (the route alone).
"""

import json
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest
from httpx import Response
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.clock import FixedClock
from app.core.fast_reads import FastRecordReads
from app.core.provision import DatabaseUrls
from app.core.record_routes import RECORD_READS
from tests.support.lanes import (
    LIMIT,
    Lanes,
    counted_lanes,
    early_in_a_minute,
    fresh_token,
    headers_alike,
    problems_alike,
)
from tests.support.records import (
    make_application,
    make_candidate,
    make_client,
    make_contact,
    make_interview,
    make_referee,
    make_vacancy,
    read,
)
from tests.support.tenants import Tenant, make_tenant, new_client


@pytest.fixture
async def lanes(
    engine: AsyncEngine,
    clock: FixedClock,
    database_urls: DatabaseUrls,
    monkeypatch: pytest.MonkeyPatch,
) -> Lanes:
    return counted_lanes(engine, clock, database_urls, FastRecordReads, monkeypatch)


@pytest.fixture
async def tenant(lanes: Lanes, clock: FixedClock) -> AsyncIterator[Tenant]:
    early_in_a_minute(clock)
    async with make_tenant(lanes.served, clock, "Fast Lane Agency") as made:
        yield made


def assert_alike(fast: Response, route: Response) -> None:
    """Same status, same body, same headers (see `headers_alike`)."""
    assert (fast.status_code, fast.content) == (route.status_code, route.content), (
        fast.text,
        route.text,
    )
    headers_alike(fast, route)


Maker = Callable[[Tenant], Any]


async def _candidate(t: Tenant) -> Any:
    return await make_candidate(t)


async def _referee(t: Tenant) -> Any:
    return await make_referee(t, (await make_candidate(t))["id"])


async def _client(t: Tenant) -> Any:
    return await make_client(t)


async def _contact(t: Tenant) -> Any:
    return await make_contact(t, (await make_client(t))["id"])


async def _vacancy(t: Tenant) -> Any:
    return await make_vacancy(t)


async def _application(t: Tenant) -> Any:
    return await make_application(t)


MAKERS: dict[str, Maker] = {
    "/v1/candidates": _candidate,
    "/v1/referees": _referee,
    "/v1/clients": _client,
    "/v1/contacts": _contact,
    "/v1/vacancies": _vacancy,
    "/v1/applications": _application,
}


def test_every_record_read_by_the_driver_is_covered() -> None:
    served = {path for path, read in RECORD_READS.items() if read.service.reads_by_driver}
    assert served == set(MAKERS)


@pytest.mark.parametrize("prefix", sorted(MAKERS))
async def test_a_record_reads_alike_through_the_fast_lane(
    lanes: Lanes, tenant: Tenant, prefix: str
) -> None:
    record = await MAKERS[prefix](tenant)
    token = await fresh_token(tenant)
    fast, route = await lanes.both(f"{prefix}/{record['id']}", token)
    assert fast.status_code == 200
    assert fast.json() == record  # what the create answered is what the read shows
    assert fast.headers["etag"] == '"1"'
    assert_alike(fast, route)
    assert lanes.fast_answers == 1


async def test_another_agencys_record_and_a_missing_one_are_alike_404s(
    lanes: Lanes, tenant: Tenant, clock: FixedClock
) -> None:
    async with make_tenant(lanes.served, clock, "Other Agency") as other:
        theirs = await make_candidate(other)
    token = await fresh_token(tenant)
    for record_id in (theirs["id"], "7d2c55a2-0c4b-4a40-9a53-1c1f6bb0f3a1"):
        fast, route = await lanes.both(f"/v1/candidates/{record_id}", token)
        assert fast.json()["type"].endswith("/not-found")
        problems_alike(fast, route)
    assert lanes.fast_answers == 2


async def test_a_deactivated_user_is_refused_alike_at_the_next_request(
    lanes: Lanes, tenant: Tenant
) -> None:
    user = await tenant.add_user("consultant")
    async with new_client(tenant.app) as anon:
        login = await anon.post(
            "/v1/auth/token", data={"username": user["email"], "password": user["password"]}
        )
    token = login.json()["access_token"]
    candidate = await make_candidate(tenant)
    path = f"/v1/candidates/{candidate['id']}"
    assert (await lanes.both(path, token))[0].status_code == 200
    _, etag = await read(tenant.admin, f"/v1/users/{user['id']}")
    changed = await tenant.admin.patch(
        f"/v1/users/{user['id']}", json={"active": False}, headers={"If-Match": etag}
    )
    assert changed.status_code == 200
    fast, route = await lanes.both(path, token)
    assert fast.status_code == 401
    assert fast.json()["detail"] == "The user is unknown or deactivated."
    problems_alike(fast, route)
    assert lanes.fast_answers == 2


async def test_over_the_quota_is_the_same_429(lanes: Lanes, tenant: Tenant) -> None:
    candidate = await make_candidate(tenant)
    token = await fresh_token(tenant)
    path = f"/v1/candidates/{candidate['id']}"
    for _ in range(LIMIT // 2):
        fast, route = await lanes.both(path, token)
        assert_alike(fast, route)
    fast, route = await lanes.both(path, token)
    assert fast.status_code == 429
    problems_alike(fast, route)
    for header in ("retry-after", "ratelimit", "ratelimit-policy"):
        assert fast.headers[header] == route.headers[header]
    assert lanes.fast_answers == LIMIT // 2 + 1


async def test_what_the_fast_lane_does_not_take_goes_to_the_route(
    lanes: Lanes, tenant: Tenant, clock: FixedClock
) -> None:
    candidate = await make_candidate(tenant)
    interview = await make_interview(tenant, (await make_application(tenant))["id"])
    key = (await tenant.api_key())["key"]
    later = await tenant.add_user("consultant")
    token = await fresh_token(tenant)
    path = f"/v1/candidates/{candidate['id']}"
    cases: list[tuple[str, str, dict[str, str]]] = [
        (path, key, {}),  # an API key
        (path, token, {"On-Behalf-Of": str(tenant.admin_id)}),  # refused for people
        (path, "not-a-token", {}),
        (path, token + "x", {}),  # a bad signature
        (f"/v1/candidates/{candidate['id'].replace('-', '')}", token, {}),  # not canonical
        (f"/v1/interviews/{interview['id']}", token, {}),  # its read is not one statement
        ("/v1/candidates/not-a-uuid", token, {}),
    ]
    for target, credential, headers in cases:
        fast, route = await lanes.both(target, credential, **headers)
        assert fast.status_code == route.status_code, target
        if fast.status_code == 200:
            assert fast.json() == route.json()
        else:
            problems_alike(fast, route)
    clock.set(clock.now() + timedelta(days=2))  # every token has expired
    fast, route = await lanes.both(path, token)
    assert fast.json()["type"].endswith("/token-expired")
    problems_alike(fast, route)
    assert lanes.fast_answers == 0
    # …and with none of that, the fast lane answers.
    fresh = await fresh_token(tenant, later)
    assert (await lanes.both(path, fresh))[0].status_code == 200
    assert lanes.fast_answers == 1


async def test_the_access_line_names_the_route_and_the_caller(
    lanes: Lanes, tenant: Tenant, capfd: pytest.CaptureFixture[str]
) -> None:
    candidate = await make_candidate(tenant)
    token = await fresh_token(tenant)
    capfd.readouterr()
    fast, route = await lanes.both(f"/v1/candidates/{candidate['id']}", token)
    logged = [json.loads(line) for line in capfd.readouterr().err.splitlines()]
    lines = [line for line in logged if line["event"] == "request"]
    assert [line["request_id"] for line in lines] == [
        fast.headers["x-request-id"],
        route.headers["x-request-id"],
    ]
    for line in lines:
        assert line["route"] == "/v1/candidates/{record_id}"
        assert line["status"] == 200
        assert line["agency_id"] == str(tenant.agency_id)
        assert "user_id" in line
    assert lines[0]["user_id"] == lines[1]["user_id"]


PLAIN_LISTS = ["/v1/applications", "/v1/candidates", "/v1/clients", "/v1/vacancies"]


def test_the_plain_lists_are_the_ones_registered() -> None:
    assert sorted(path for path, read in RECORD_READS.items() if read.plain_list) == PLAIN_LISTS


@pytest.mark.parametrize("prefix", PLAIN_LISTS)
async def test_pages_of_a_list_read_alike_through_the_fast_lane(
    lanes: Lanes, tenant: Tenant, prefix: str
) -> None:
    made = [await MAKERS[prefix](tenant) for _ in range(3)]
    token = await fresh_token(tenant)
    fast, route = await lanes.both(f"{prefix}?limit=2", token)
    assert_alike(fast, route)
    first = fast.json()
    assert len(first["items"]) == 2 and first["next"]
    fast, route = await lanes.both(f"{prefix}?cursor={first['next']}&limit=2", token)
    assert_alike(fast, route)
    shown = {item["id"] for item in first["items"] + fast.json()["items"]}
    assert {record["id"] for record in made} <= shown
    fast, route = await lanes.both(prefix, token)  # the default limit: everything, no cursor
    assert_alike(fast, route)
    assert fast.json()["next"] is None
    assert lanes.fast_answers == 3


async def test_a_list_the_fast_lane_does_not_take_goes_to_the_route(
    lanes: Lanes, tenant: Tenant
) -> None:
    await make_candidate(tenant)
    token = await fresh_token(tenant)
    cursor = (await lanes.both("/v1/candidates?limit=1", token))[0].json()["next"]
    taken = lanes.fast_answers
    for query in [
        "limit=0",
        "limit=201",
        "limit=ten",
        "limit=007",
        "limit=5&limit=6",
        "cursor=not-a-cursor",
        f"cursor={cursor}%3D",
        "name=Ada",
        "updated_after=2020-01-01T00:00:00Z",
        "limit",
    ]:
        fast, route = await lanes.both(f"/v1/candidates?{query}", token)
        assert fast.status_code == route.status_code, query
        if fast.status_code == 200:
            assert_alike(fast, route)
        else:
            problems_alike(fast, route)
    assert lanes.fast_answers == taken
