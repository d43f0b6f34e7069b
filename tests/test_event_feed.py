"""`GET /v1/events`: every change as a typed event whose `data` is the object as `GET` answered
then; gap-free under transactions that commit out of order; `next` is never null; old cursors
are 410; another agency's events never show."""

import asyncio
import random
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.core.auth import worker_principal
from app.core.clock import FixedClock
from app.core.db import create_engine, session_factory, set_tenant
from app.core.events import record_event
from app.core.ids import AgencyId, new_id
from app.core.provision import DatabaseUrls
from tests.support.problems import assert_problem
from tests.support.records import make_candidate
from tests.support.tenants import Tenant

pytestmark = pytest.mark.horizon  # each reads the feed right after writing (tests/conftest.py)

Json = dict[str, Any]


QUIET_WAIT_SECONDS = 60
_engines: list[AsyncEngine] = []


@pytest.fixture(autouse=True)
def runtime_engine(engine: AsyncEngine) -> Iterator[None]:
    """The engine `read_feed` asks whether the cluster is quiet."""
    _engines.append(engine)
    yield
    _engines.remove(engine)


async def quiet_cluster() -> None:
    """Wait until no transaction is running anywhere on this PostgreSQL server: the feed serves
    only events older than every running one, and another xdist worker's fixtures (creating and
    migrating its databases, seeding) run outside the lock that keeps horizon tests alone."""
    deadline = asyncio.get_running_loop().time() + QUIET_WAIT_SECONDS
    while asyncio.get_running_loop().time() < deadline:
        async with _engines[-1].connect() as conn:
            quiet = await conn.scalar(
                text(
                    "SELECT pg_snapshot_xmin(s) = pg_snapshot_xmax(s) FROM pg_current_snapshot() s"
                )
            )
        if quiet:
            return
        await asyncio.sleep(0.05)


async def read_feed(
    client: AsyncClient, after: str | None = None, *, settle: bool = True, **params: Any
) -> Json:
    """A page of the feed; with `settle`, once every transaction running on the server has
    ended (a test that writes and then reads expects to see what it wrote)."""
    if settle:
        await quiet_cluster()
    query = {**params, **({"after": after} if after else {})}
    response = await client.get("/v1/events", params=query)
    assert response.status_code == 200, response.text
    page: Json = response.json()
    assert isinstance(page["next"], str) and page["next"]
    return page


async def follow(
    client: AsyncClient, after: str | None = None, *, settle: bool = True, **params: Any
) -> tuple[list[Json], str]:
    """Every event from `after` on, page by page; and where to resume."""
    items: list[Json] = []
    for _ in range(100):
        page = await read_feed(client, after, settle=settle, **params)
        items.extend(page["items"])
        after = page["next"]
        if not page["items"]:
            return items, after
    raise AssertionError("the feed never ran dry")


async def test_each_change_is_an_event_carrying_the_object_as_get_answered_then(
    agency_a: Tenant,
) -> None:
    api = await agency_a.integration()
    _, start = await follow(api)
    candidate = await make_candidate(api, first_name="Amara")
    path = f"/v1/candidates/{candidate['id']}"
    current = await api.get(path)
    renamed = await api.patch(
        path, json={"first_name": "Ama"}, headers={"If-Match": current.headers["etag"]}
    )
    assert renamed.status_code == 200, renamed.text
    after_rename = (await api.get(path)).json()
    deleted = await api.delete(path)
    assert deleted.status_code == 204, deleted.text

    events, resume = await follow(api, start)
    assert [e["type"] for e in events] == [
        "candidate.created",
        "candidate.updated",
        "candidate.deleted",
    ]
    created, updated, gone = events
    assert created["data"] == candidate  # as POST (and GET) answered at creation
    assert created["data"]["first_name"] == "Amara"
    assert updated["data"] == after_rename
    assert updated["details"] == {"fields": ["first_name"]}
    assert gone["data"] == after_rename  # as it was just before it went
    for event in events:
        assert event["object_type"] == "candidate"
        assert event["object_id"] == candidate["id"]
        assert event["actor"]["api_key_id"] is not None
    again = await read_feed(api, resume)
    assert again["items"] == [] and again["next"]


async def test_workflow_steps_are_events_and_a_feedback_link_never_leaves_in_one(
    agency_a: Tenant,
) -> None:
    from tests.support.feedback import scene

    story = await scene(agency_a)
    await story.fail()  # unsuccessful: the outcome, then the feedback request to the client
    events, _ = await follow(story.api, types="application.*,feedback.*,message.*")
    kinds = [e["type"] for e in events]
    assert kinds[-2:] == ["application.outcome_recorded", "feedback.requested"]
    request = await story.request()
    feedback_event = events[-1]
    assert feedback_event["data"] == {k: v for k, v in request.items() if k != "client_link"}
    assert "client_link" not in feedback_event["data"]
    assert request["client_link"].split("/")[-1] not in str(events)
    outcome = events[-2]["data"]
    assert (outcome["id"], outcome["status"]) == (story.id, "unsuccessful")


async def test_types_filter_and_unknown_types(agency_a: Tenant) -> None:
    api = await agency_a.integration()
    _, start = await follow(api)
    candidate = await make_candidate(api)
    client = await api.post("/v1/clients", json={"name": "Harbour Logistics"})
    assert client.status_code == 201

    only, _ = await follow(api, start, types="client.created")
    assert [(e["type"], e["object_id"]) for e in only] == [("client.created", client.json()["id"])]
    both, _ = await follow(api, start, types="candidate.*, client.*")
    assert [e["object_id"] for e in both] == [candidate["id"], client.json()["id"]]

    for wrong in ("candidate.exploded", "nonsense.*", "candidate"):
        response = await api.get("/v1/events", params={"types": wrong})
        problem = assert_problem(response, 422, "validation-error")
        assert problem["errors"][0]["field"] == "types"


async def test_next_is_never_null_and_pages_hold_limit_events(agency_a: Tenant) -> None:
    api = await agency_a.integration()
    first = await read_feed(api)  # a new agency: nothing yet, but somewhere to resume from
    created = [await make_candidate(api) for _ in range(5)]
    pages = []
    after = first["next"]
    while True:
        page = await read_feed(api, after, limit=2)
        after = page["next"]
        if not page["items"]:
            break
        pages.append([e["object_id"] for e in page["items"]])
    assert pages == [
        [c["id"] for c in created[0:2]],
        [c["id"] for c in created[2:4]],
        [c["id"] for c in created[4:5]],
    ]


async def test_a_cursor_older_than_the_feed_keeps_is_410(
    agency_a: Tenant, clock: FixedClock
) -> None:
    api = await agency_a.integration()
    await make_candidate(api)
    page = await read_feed(api)
    clock.set(clock.now() + timedelta(days=30, seconds=-1))
    assert (await read_feed(api, page["next"]))["items"] == []
    clock.set(clock.now() + timedelta(seconds=2))
    assert_problem(
        await api.get("/v1/events", params={"after": page["next"]}), 410, "cursor-expired"
    )
    assert_problem(
        await api.get("/v1/events", params={"after": "not-a-cursor"}), 422, "cursor-invalid"
    )
    fresh = await read_feed(api)  # without a cursor: what is kept (nothing that old)
    assert fresh["items"] == []


async def test_the_feed_needs_the_events_scope_and_shows_no_other_agency(
    agency_a: Tenant, agency_b: Tenant
) -> None:
    a_api, b_api = await agency_a.integration(), await agency_b.integration()
    a_candidate = await make_candidate(a_api)
    b_events, _ = await follow(b_api)
    assert a_candidate["id"] not in str(b_events)
    assert all(e["object_id"] != a_candidate["id"] for e in b_events)

    narrow = await agency_a.integration(scopes=["records:read"])
    assert_problem(await narrow.get("/v1/events"), 403, "insufficient-scope")
    consultant = await agency_a.consultant()
    assert (await consultant.get("/v1/events")).status_code == 200


async def test_ten_writers_committing_out_of_order_never_make_a_reader_skip(
    agency_a: Tenant, clock: FixedClock, database_urls: DatabaseUrls
) -> None:
    """Ten transactions each append an event, all open at once, and commit in a shuffled
    order; between commits a reader follows `next`. An event whose transaction is younger than
    one still running stays hidden until that one ends, so the reader sees every event exactly
    once, in transaction order, whatever the order of the commits."""
    api = await agency_a.integration()
    _, after = await follow(api)
    engine = create_engine(database_urls.runtime, pool_size=10, max_overflow=0)
    agency = AgencyId(agency_a.agency_id)
    writers: list[tuple[AsyncSession, UUID]] = []
    seen: list[str] = []
    try:
        for n in range(10):  # begin in order: their txids ascend
            session = session_factory(engine)()
            await session.begin()
            await set_tenant(session, agency)
            event = record_event(
                session,
                worker_principal(agency),
                clock,
                "candidate.updated",
                new_id(),
                snapshot={"writer": n},
                fields=["first_name"],
            )
            await session.flush()
            writers.append((session, event.id))
        order = list(range(10))
        random.Random(8).shuffle(order)
        visible_after_each = []
        for n in order:
            await writers[n][0].commit()
            items, after = await follow(api, after, settle=False)  # read while they commit
            seen.extend(e["id"] for e in items)
            visible_after_each.append(len(seen))
        # What another xdist worker's transaction still held back shows once it has ended.
        items, after = await follow(api, after)
        seen.extend(e["id"] for e in items)
    finally:
        for session, _ in writers:
            await session.close()
        await engine.dispose()

    written = [str(event_id) for _, event_id in writers]
    assert seen == written  # every one, once, in transaction order
    # Until the oldest writer committed, nothing could be served.
    assert visible_after_each[: order.index(0)] == [0] * order.index(0)
