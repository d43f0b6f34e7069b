"""`FastRecordCreates` answers a record's `POST` exactly as the record's FastAPI route does,
writes the same rows, and leaves every request it does not fully understand to that route
(issue 11).

Each case asks twice: once the app as served (the fast lane in front), once a twin app built
from the same settings, database and clock with the fast lane taken out (the route alone).
The two answers name different new records, so the fast answer's ids are swapped for the
route's before the bodies are compared byte for byte.
"""

import json
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.candidates.schemas import CandidateCreate
from app.candidates.service import candidates
from app.core.clock import FixedClock
from app.core.db import driver_connection, set_tenant, tenant_transaction
from app.core.errors import ExternalIdTaken
from app.core.fast_creates import FastRecordCreates
from app.core.ids import AgencyId
from app.core.provision import DatabaseUrls
from app.core.record_routes import RECORD_CREATES
from app.core.records import RecordService
from app.models import Event
from tests.support.lanes import (
    LIMIT,
    Lanes,
    counted_lanes,
    early_in_a_minute,
    fresh_token,
    headers_alike,
    problems_alike,
    swapped_body,
)
from tests.support.records import (
    make_application,
    make_candidate,
    make_client,
    make_contact,
    make_vacancy,
    read,
)
from tests.support.tenants import Tenant, make_tenant, new_client

Json = dict[str, Any]


@pytest.fixture
async def lanes(
    engine: AsyncEngine,
    clock: FixedClock,
    database_urls: DatabaseUrls,
    monkeypatch: pytest.MonkeyPatch,
) -> Lanes:
    return counted_lanes(engine, clock, database_urls, FastRecordCreates, monkeypatch)


@pytest.fixture
async def tenant(lanes: Lanes, clock: FixedClock) -> AsyncIterator[Tenant]:
    early_in_a_minute(clock)
    async with make_tenant(lanes.served, clock, "Fast Create Agency") as made:
        yield made


def _encoded(body: Json) -> bytes:
    return json.dumps(body).encode()


# Each kind's body; two calls give two bodies that may both be created (an application's pair
# of candidate and vacancy is unique, so each gets a candidate of its own).
BodyMaker = Callable[[Tenant], Awaitable[Json]]


async def _candidate(t: Tenant) -> Json:
    return {"first_name": "Amara", "last_name": "Okafor", "email": "amara@example.com"}


async def _owned_candidate(t: Tenant) -> Json:
    return {**await _candidate(t), "owner_id": str(t.admin_id)}


async def _client(t: Tenant) -> Json:
    return {"name": "Harbour Logistics", "external_id": f"crm-{secrets.token_hex(4)}"}


async def _plain_client(t: Tenant) -> Json:
    return {"name": "Harbour Logistics"}


async def _vacancy(t: Tenant) -> Json:
    client = await make_client(t)
    contact = await make_contact(t, client["id"])
    return {"client_id": client["id"], "title": "Analyst", "hiring_contact_id": contact["id"]}


async def _application(t: Tenant) -> Json:
    vacancy = await make_vacancy(t)
    return {"candidate_id": (await make_candidate(t))["id"], "vacancy_id": vacancy["id"]}


async def _interview(t: Tenant) -> Json:
    application = await make_application(t)
    vacancy, _ = await read(t.admin, f"/v1/vacancies/{application['vacancy_id']}")
    contact = await make_contact(t, vacancy["client_id"])
    return {
        "application_id": application["id"],
        "starts_at": "2030-03-04T09:00:00+00:00",
        "ends_at": "2030-03-04T10:00:00+00:00",
        "format": "in_person",
        "round": 2,
        "interviewer_ids": [contact["id"]],
    }


BODIES: dict[str, BodyMaker] = {
    "/v1/applications": _application,
    "/v1/candidates": _candidate,
    "/v1/clients": _client,
    "/v1/interviews": _interview,
    "/v1/vacancies": _vacancy,
}


WAYS: list[tuple[str, BodyMaker, str]] = [
    ("/v1/applications", _application, "session"),
    ("/v1/candidates", _candidate, "driver"),  # nothing to look up
    ("/v1/candidates", _owned_candidate, "session"),  # an owner to look up
    ("/v1/clients", _client, "session"),  # an external id to look up
    ("/v1/clients", _plain_client, "driver"),
    ("/v1/interviews", _interview, "session"),
    ("/v1/vacancies", _vacancy, "session"),
]
"""Each kind's create, and how the fast lane writes it: by `create_row` on the driver or by
`create_shown` in a session (the route always writes in a session)."""


@pytest.fixture
def ways(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """How each create was written, in order: "driver" or "session"."""
    taken: list[str] = []
    for name, way in (("create_row", "driver"), ("create_shown", "session")):
        method = getattr(RecordService, name)

        def counted(*args: Any, _method: Any = method, _way: str = way, **kwargs: Any) -> Any:
            taken.append(_way)
            return _method(*args, **kwargs)

        monkeypatch.setattr(RecordService, name, counted)
    return taken


def test_every_record_create_is_registered(lanes: Lanes) -> None:
    """Every `POST` the record routes declare (by their operation id) is in the registry."""
    paths = lanes.served.openapi()["paths"]
    labels = {RECORD_CREATES[p].service.label for p in RECORD_CREATES}
    declared = {
        path
        for path, operations in paths.items()
        if operations.get("post", {}).get("operationId") in {f"create_{x}" for x in labels}
    }
    assert set(RECORD_CREATES) == declared == set(BODIES) == {path for path, *_ in WAYS}


def _flat(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _differences(fast: Json, route: Json) -> dict[str, str]:
    """The fast body's values (ids) that differ from the route's, mapped to the route's."""
    pairs = (zip(_flat(fast[k]), _flat(route[k]), strict=True) for k in fast)
    return {f: r for pair in pairs for f, r in pair if f != r}


async def _event_of(tenant: Tenant, object_id: str) -> Json:
    async with tenant.app.state.sessions() as session, session.begin():
        await set_tenant(session, AgencyId(tenant.agency_id))
        events = (
            await session.scalars(select(Event).where(Event.object_id == UUID(object_id)))
        ).all()
    assert len(events) == 1
    event = events[0]
    return {
        "type": event.type,
        "occurred_at": event.occurred_at,
        "user_id": event.user_id,
        "api_key_id": event.api_key_id,
        "request_id": event.request_id,
        "via_link": event.via_link,
        "application_id": event.application_id,
        "data": event.data,
        "snapshot": event.snapshot,
        "txid": event.txid,
    }


@pytest.mark.parametrize(("path", "body", "way"), WAYS, ids=[f"{p}-{w}" for p, b, w in WAYS])
async def test_a_record_is_created_alike_through_the_fast_lane(
    lanes: Lanes, tenant: Tenant, ways: list[str], path: str, body: BodyMaker, way: str
) -> None:
    bodies = (await body(tenant), await body(tenant))
    token = await fresh_token(tenant)
    del ways[:]  # what making the bodies wrote
    fast, route = await lanes.both_posted(path, token, (_encoded(bodies[0]), _encoded(bodies[1])))
    assert (fast.status_code, route.status_code) == (201, 201), (fast.text, route.text)
    assert lanes.taken == [True]
    assert ways == [way, "session"]
    made, routed = fast.json(), route.json()
    swap = _differences(made, routed)
    sent = {v for value in bodies[0].values() for v in _flat(value)}
    assert made["id"] in swap and set(swap) <= sent | {made["id"]}  # ids, and only ids
    assert swapped_body(fast, swap) == route.content
    assert fast.headers["location"] == f"{path}/{made['id']}"
    assert fast.headers["etag"] == '"1"'
    headers_alike(fast, route, swap=swap)
    # What the record reads as afterwards, and the event each wrote, are alike too.
    assert (await read(tenant.admin, f"{path}/{made['id']}"))[0] == made
    fast_event = await _event_of(tenant, made["id"])
    route_event = await _event_of(tenant, routed["id"])
    assert fast_event.pop("request_id") == fast.headers["x-request-id"]
    assert route_event.pop("request_id") == route.headers["x-request-id"]
    assert fast_event.pop("snapshot") == made
    assert route_event.pop("snapshot") == routed
    assert fast_event.pop("txid") != route_event.pop("txid")  # each its own transaction
    fast_application, route_application = (
        str(e.pop("application_id")) for e in (fast_event, route_event)
    )
    assert swap.get(fast_application, fast_application) == route_application
    assert fast_event == route_event
    assert fast_event["type"] == f"{RECORD_CREATES[path].service.label}.created"


async def test_problems_the_rules_raise_are_alike(
    lanes: Lanes, tenant: Tenant, clock: FixedClock
) -> None:
    async with make_tenant(lanes.served, clock, "Other Agency") as other:
        theirs = (await other.add_user("consultant"))["id"]
    taken = await make_candidate(tenant, external_id="ats-7")
    token = await fresh_token(tenant)
    cases: list[tuple[str, Json, str]] = [
        ("/v1/candidates", {**await _candidate(tenant), "owner_id": theirs}, "reference-not-found"),
        (
            "/v1/candidates",
            {**await _candidate(tenant), "external_id": "ats-7"},
            "external-id-taken",
        ),
        ("/v1/vacancies", {"client_id": taken["id"], "title": "Analyst"}, "reference-not-found"),
    ]
    for path, body, slug in cases:
        fast, route = await lanes.both_posted(path, token, (_encoded(body), _encoded(body)))
        assert fast.json()["type"].endswith(f"/{slug}"), fast.text
        problems_alike(fast, route)
    assert lanes.taken == [True] * len(cases)


async def test_a_duplicate_on_the_driver_is_the_problem_its_index_names(
    tenant: Tenant, clock: FixedClock
) -> None:
    """`create_row` maps a unique violation as `create_shown` does (the fast lane sends it no
    external id, so the index is reached here directly)."""
    await make_candidate(tenant, external_id="ats-9")
    data = CandidateCreate.model_validate({**await _candidate(tenant), "external_id": "ats-9"})

    async def create_on_the_driver() -> None:  # in a transaction scoped to the agency
        sessions = tenant.app.state.sessions
        async with tenant_transaction(sessions, AgencyId(tenant.agency_id)) as session:
            driver = await driver_connection(session)
            await candidates.create_row(driver, tenant.admin_principal(), clock, data)

    with pytest.raises(ExternalIdTaken):
        await create_on_the_driver()


async def test_a_duplicate_application_is_the_same_409(lanes: Lanes, tenant: Tenant) -> None:
    first = await make_application(tenant)
    body = _encoded({"candidate_id": first["candidate_id"], "vacancy_id": first["vacancy_id"]})
    fast, route = await lanes.both_posted(
        "/v1/applications", await fresh_token(tenant), (body, body)
    )
    assert fast.status_code == 409
    problems_alike(fast, route)
    assert lanes.taken == [True]


async def test_a_deactivated_user_is_refused_alike_at_the_next_request(
    lanes: Lanes, tenant: Tenant
) -> None:
    user = await tenant.add_user("consultant")
    token = await fresh_token(tenant, user)
    body = _encoded(await _candidate(tenant))
    assert (await lanes.both_posted("/v1/candidates", token, (body, body)))[0].status_code == 201
    _, etag = await read(tenant.admin, f"/v1/users/{user['id']}")
    changed = await tenant.admin.patch(
        f"/v1/users/{user['id']}", json={"active": False}, headers={"If-Match": etag}
    )
    assert changed.status_code == 200
    fast, route = await lanes.both_posted("/v1/candidates", token, (body, body))
    assert fast.status_code == 401
    assert fast.json()["detail"] == "The user is unknown or deactivated."
    problems_alike(fast, route)
    assert lanes.taken == [True, True]


async def test_over_the_quota_is_the_same_429_and_nothing_is_written(
    lanes: Lanes, tenant: Tenant
) -> None:
    token = await fresh_token(tenant)
    body = _encoded({"name": "Quota Client"})
    for _ in range(LIMIT // 2):
        fast, route = await lanes.both_posted("/v1/clients", token, (body, body))
        assert (fast.status_code, route.status_code) == (201, 201)
    fast, route = await lanes.both_posted("/v1/clients", token, (body, body))
    assert fast.status_code == 429
    problems_alike(fast, route)
    for header in ("retry-after", "ratelimit", "ratelimit-policy"):
        assert fast.headers[header] == route.headers[header]
    assert lanes.taken == [True] * (LIMIT // 2 + 1)
    names = [c["name"] for c in (await tenant.admin.get("/v1/clients?limit=200")).json()["items"]]
    assert names.count("Quota Client") == LIMIT  # the refused two wrote nothing


async def test_what_the_fast_lane_does_not_take_goes_to_the_route(
    lanes: Lanes, tenant: Tenant
) -> None:
    key = (await tenant.api_key())["key"]
    token = await fresh_token(tenant)
    good = _encoded(await _candidate(tenant))
    cases: list[tuple[str, str, bytes, dict[str, str]]] = [
        ("/v1/candidates", key, good, {}),  # an API key
        ("/v1/candidates", token, good, {"On-Behalf-Of": str(tenant.admin_id)}),
        ("/v1/candidates", "not-a-token", good, {}),
        ("/v1/candidates", token + "x", good, {}),  # a bad signature
        ("/v1/candidates?x=1", token, good, {}),  # a query string
        ("/v1/candidates", token, good, {"Content-Type": "text/plain"}),
        ("/v1/candidates", token, b'{"first_name": "Amara"', {}),  # not JSON
        ("/v1/candidates", token, b"[]", {}),  # JSON, not an object
        ("/v1/candidates", token, _encoded({"first_name": "Amara"}), {}),  # fields missing
        ("/v1/candidates", token, _encoded({**json.loads(good), "email": "nope"}), {}),
        ("/v1/candidates", token, "ü".encode("latin-1"), {}),  # not UTF-8
        ("/v1/candidates", token, b"[" * 100_000, {}),  # nested deeper than the parser goes
        ("/v1/candidates", token, b'{"a":' * 50_000, {}),
        ("/v1/referees", token, good, {}),  # no such list route
    ]
    for path, credential, body, headers in cases:
        fast, route = await lanes.both_posted(path, credential, (body, body), **headers)
        assert fast.status_code == route.status_code, (path, headers, fast.text)
        if fast.status_code == 201:
            assert fast.json().keys() == route.json().keys()
        else:
            problems_alike(fast, route)
    assert lanes.taken == [False] * len(cases)
    # …and with none of that, the fast lane answers.
    assert (await lanes.both_posted("/v1/candidates", token, (good, good)))[0].status_code == 201
    assert lanes.taken[-1]


async def test_an_idempotency_key_goes_to_the_route_which_replays_the_first_answer(
    lanes: Lanes, tenant: Tenant
) -> None:
    token = await fresh_token(tenant)
    body = _encoded({"name": "Keyed Client"})
    before = lanes.fast_answers
    async with new_client(lanes.served, token) as client:
        headers = {"Idempotency-Key": "k-1", "Content-Type": "application/json"}
        first = await client.post("/v1/clients", content=body, headers=headers)
        again = await client.post("/v1/clients", content=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert lanes.fast_answers == before  # the route stored the first answer and replayed it


async def test_the_access_line_names_the_route_and_the_caller(
    lanes: Lanes, tenant: Tenant, capfd: pytest.CaptureFixture[str]
) -> None:
    token = await fresh_token(tenant)
    body = _encoded({"name": "Logged Client"})
    capfd.readouterr()
    fast, route = await lanes.both_posted("/v1/clients", token, (body, body))
    logged = [json.loads(line) for line in capfd.readouterr().err.splitlines()]
    lines = [line for line in logged if line["event"] == "request"]
    assert [line["request_id"] for line in lines] == [
        fast.headers["x-request-id"],
        route.headers["x-request-id"],
    ]
    for line in lines:
        assert line["route"] == "/v1/clients"
        assert line["status"] == 201
        assert line["agency_id"] == str(tenant.agency_id)
    assert lines[0]["user_id"] == lines[1]["user_id"]
    assert lanes.taken == [True]
