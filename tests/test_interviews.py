"""Interviews: a panel of the vacancy's client's contacts, a start before the end, cancellation
of interviews not yet held, filters relative to the clock, and the events the timeline reads."""

import uuid
from datetime import datetime, timedelta

from fastapi import FastAPI
from sqlalchemy import select

from app.core.clock import FixedClock
from app.core.db import set_tenant
from app.core.ids import AgencyId
from app.models import Event
from tests.support.interviews import (
    interview_body,
    list_ids,
    list_interviews,
    make_scene,
    schedule,
    slot,
)
from tests.support.problems import assert_problem
from tests.support.records import (
    read,
)
from tests.support.tenants import Tenant


async def events_of(app: FastAPI, agency_id: uuid.UUID, object_id: str) -> list[Event]:
    async with app.state.sessions() as session, session.begin():
        await set_tenant(session, AgencyId(agency_id))
        rows = await session.scalars(
            select(Event)
            .where(Event.agency_id == agency_id, Event.object_id == uuid.UUID(object_id))
            .order_by(Event.id)
        )
        return list(rows.all())


# --- Scheduling ---------------------------------------------------------------------------------


async def test_schedule_with_a_panel_of_the_clients_contacts(
    agency_a: Tenant, clock: FixedClock
) -> None:
    scene = await make_scene(agency_a.admin)
    panel = list(reversed(scene.contact_ids))
    body = interview_body(scene, clock, interviewer_ids=panel)

    response = await agency_a.admin.post("/v1/interviews", json=body)

    assert response.status_code == 201, response.text
    made = response.json()
    assert made["interviewer_ids"] == panel
    assert made["status"] == "scheduled"
    assert made["cancelled_at"] is None
    assert made["application_id"] == scene.application_id
    assert datetime.fromisoformat(made["starts_at"]) == datetime.fromisoformat(body["starts_at"])
    assert datetime.fromisoformat(made["ends_at"]) == datetime.fromisoformat(body["ends_at"])
    again, _ = await read(agency_a.admin, f"/v1/interviews/{made['id']}")
    assert again["interviewer_ids"] == panel
    assert again == made


async def test_interviewer_of_another_client_is_refused(
    agency_a: Tenant, clock: FixedClock
) -> None:
    scene = await make_scene(agency_a.admin)
    body = interview_body(scene, clock, interviewer_ids=[scene.contact_ids[0], scene.stranger_id])

    response = await agency_a.admin.post("/v1/interviews", json=body)

    problem = assert_problem(response, 422, "interviewer-not-at-client")
    assert [e["field"] for e in problem["errors"]] == ["interviewer_ids"]
    assert scene.stranger_id in problem["detail"]
    assert scene.contact_ids[0] not in problem["detail"]
    assert await list_interviews(agency_a.admin) == []


async def test_interviewer_of_another_agency_is_refused(
    agency_a: Tenant, agency_b: Tenant, clock: FixedClock
) -> None:
    scene = await make_scene(agency_a.admin)
    foreign = await make_scene(agency_b.admin)
    body = interview_body(scene, clock, interviewer_ids=[foreign.contact_ids[0]])

    response = await agency_a.admin.post("/v1/interviews", json=body)

    assert_problem(response, 422, "interviewer-not-at-client")
    assert await list_interviews(agency_a.admin) == []


async def test_application_of_another_agency_is_refused(
    agency_a: Tenant, agency_b: Tenant, clock: FixedClock
) -> None:
    foreign = await make_scene(agency_b.admin)

    response = await agency_a.admin.post("/v1/interviews", json=interview_body(foreign, clock))

    problem = assert_problem(response, 422, "reference-not-found")
    assert [e["field"] for e in problem["errors"]] == ["application_id"]
    assert await list_interviews(agency_a.admin) == []
    assert await list_interviews(agency_b.admin) == []


async def test_end_not_after_start_is_refused(agency_a: Tenant, clock: FixedClock) -> None:
    scene = await make_scene(agency_a.admin)
    starts = clock.now() + timedelta(days=1)
    windows = [starts, starts - timedelta(minutes=30)]

    for ends in windows:
        body = interview_body(scene, clock, starts_at=starts.isoformat(), ends_at=ends.isoformat())
        response = await agency_a.admin.post("/v1/interviews", json=body)

        problem = assert_problem(response, 422, "inconsistent-values")
        assert [e["field"] for e in problem["errors"]] == ["ends_at"], problem

    assert await list_interviews(agency_a.admin) == []


async def test_naive_datetimes_are_refused(agency_a: Tenant, clock: FixedClock) -> None:
    scene = await make_scene(agency_a.admin)
    starts = (clock.now() + timedelta(days=1)).replace(tzinfo=None)

    response = await agency_a.admin.post(
        "/v1/interviews",
        json=interview_body(
            scene,
            clock,
            starts_at=starts.isoformat(),
            ends_at=(starts + timedelta(hours=1)).isoformat(),
        ),
    )

    problem = assert_problem(response, 422, "validation-error")
    assert "starts_at" in [e["field"] for e in problem["errors"]], problem
    assert await list_interviews(agency_a.admin) == []


# --- Changing -----------------------------------------------------------------------------------


async def test_patch_moving_the_end_before_the_start_is_refused(
    agency_a: Tenant, clock: FixedClock
) -> None:
    scene = await make_scene(agency_a.admin)
    made = await schedule(agency_a.admin, scene, clock)
    path = f"/v1/interviews/{made['id']}"
    before = await read(agency_a.admin, path)
    too_early = datetime.fromisoformat(made["starts_at"]) - timedelta(minutes=5)

    response = await agency_a.admin.patch(
        path, json={"ends_at": too_early.isoformat()}, headers={"If-Match": before[1]}
    )

    problem = assert_problem(response, 422, "inconsistent-values")
    assert [e["field"] for e in problem["errors"]] == ["ends_at"]
    assert await read(agency_a.admin, path) == before


async def test_patch_moves_the_interview(agency_a: Tenant, clock: FixedClock) -> None:
    scene = await make_scene(agency_a.admin)
    made = await schedule(agency_a.admin, scene, clock)
    path = f"/v1/interviews/{made['id']}"
    _, etag = await read(agency_a.admin, path)
    new_slot = slot(clock, timedelta(days=3), hours=2)

    response = await agency_a.admin.patch(path, json=new_slot, headers={"If-Match": etag})

    assert response.status_code == 200, response.text
    after, _ = await read(agency_a.admin, path)
    assert datetime.fromisoformat(after["starts_at"]) == datetime.fromisoformat(
        new_slot["starts_at"]
    )
    assert datetime.fromisoformat(after["ends_at"]) == datetime.fromisoformat(new_slot["ends_at"])


async def test_patch_replaces_the_panel(agency_a: Tenant, clock: FixedClock) -> None:
    scene = await make_scene(agency_a.admin)
    first, second = scene.contact_ids
    made = await schedule(agency_a.admin, scene, clock, interviewer_ids=[first])
    path = f"/v1/interviews/{made['id']}"
    _, etag = await read(agency_a.admin, path)
    clock.set(clock.now() + timedelta(minutes=1))

    response = await agency_a.admin.patch(
        path, json={"interviewer_ids": [second, first]}, headers={"If-Match": etag}
    )

    assert response.status_code == 200, response.text
    assert response.json()["interviewer_ids"] == [second, first]
    after, new_etag = await read(agency_a.admin, path)
    assert after["interviewer_ids"] == [second, first]
    assert datetime.fromisoformat(after["updated_at"]) == clock.now()
    assert new_etag != etag

    emptied = await agency_a.admin.patch(
        path, json={"interviewer_ids": []}, headers={"If-Match": new_etag}
    )

    assert emptied.status_code == 200, emptied.text
    assert (await read(agency_a.admin, path))[0]["interviewer_ids"] == []


async def test_a_panel_change_changes_the_etag_even_within_the_same_instant(
    agency_a: Tenant, clock: FixedClock
) -> None:
    """Only the panel changes and the clock has not moved: the ETag must still change, or a
    writer holding the old ETag would overwrite the new panel unawares."""
    scene = await make_scene(agency_a.admin)
    first, second = scene.contact_ids
    made = await schedule(agency_a.admin, scene, clock, interviewer_ids=[first])
    path = f"/v1/interviews/{made['id']}"
    _, etag = await read(agency_a.admin, path)

    response = await agency_a.admin.patch(
        path, json={"interviewer_ids": [second]}, headers={"If-Match": etag}
    )
    stale = await agency_a.admin.patch(
        path, json={"interviewer_ids": [first]}, headers={"If-Match": etag}
    )

    assert response.status_code == 200, response.text
    assert response.headers["etag"] != etag
    assert_problem(stale, 412, "stale-etag")
    assert (await read(agency_a.admin, path))[0]["interviewer_ids"] == [second]


async def test_patch_panel_with_a_stranger_is_refused(agency_a: Tenant, clock: FixedClock) -> None:
    scene = await make_scene(agency_a.admin)
    made = await schedule(agency_a.admin, scene, clock, interviewer_ids=scene.contact_ids)
    path = f"/v1/interviews/{made['id']}"
    before = await read(agency_a.admin, path)

    response = await agency_a.admin.patch(
        path, json={"interviewer_ids": [scene.stranger_id]}, headers={"If-Match": before[1]}
    )

    assert_problem(response, 422, "interviewer-not-at-client")
    assert await read(agency_a.admin, path) == before


# --- Cancelling ---------------------------------------------------------------------------------


async def test_cancel_a_future_interview_keeps_it_as_cancelled(
    app: FastAPI, agency_a: Tenant, clock: FixedClock
) -> None:
    client = await agency_a.integration()
    scene = await make_scene(client)
    made = await schedule(client, scene, clock, interviewer_ids=scene.contact_ids)
    path = f"/v1/interviews/{made['id']}"
    clock.set(clock.now() + timedelta(minutes=10))

    response = await client.delete(path)

    assert response.status_code == 204, response.text
    after, _ = await read(client, path)
    assert after["status"] == "cancelled"
    assert datetime.fromisoformat(after["cancelled_at"]) == clock.now()
    assert after["interviewer_ids"] == scene.contact_ids
    events = await events_of(app, agency_a.agency_id, made["id"])
    assert [e.type for e in events] == ["interview.created", "interview.cancelled"]
    assert {e.application_id for e in events} == {uuid.UUID(scene.application_id)}


async def test_cancelling_twice_is_harmless(
    app: FastAPI, agency_a: Tenant, clock: FixedClock
) -> None:
    client = await agency_a.integration()
    scene = await make_scene(client)
    made = await schedule(client, scene, clock)
    path = f"/v1/interviews/{made['id']}"
    assert (await client.delete(path)).status_code == 204
    first = await read(client, path)
    clock.set(clock.now() + timedelta(minutes=10))

    response = await client.delete(path)

    assert response.status_code == 204, response.text
    assert await read(client, path) == first
    events = await events_of(app, agency_a.agency_id, made["id"])
    assert [e.type for e in events].count("interview.cancelled") == 1


async def test_an_interview_that_has_started_cannot_be_cancelled(
    app: FastAPI, agency_a: Tenant, clock: FixedClock
) -> None:
    client = await agency_a.integration()
    scene = await make_scene(client)
    made = await schedule(client, scene, clock)
    path = f"/v1/interviews/{made['id']}"
    clock.set(datetime.fromisoformat(made["starts_at"]) + timedelta(minutes=1))
    before = await read(client, path)

    response = await client.delete(path)

    assert_problem(response, 409, "interview-already-held")
    assert await read(client, path) == before
    assert before[0]["status"] == "scheduled"
    events = await events_of(app, agency_a.agency_id, made["id"])
    assert [e.type for e in events] == ["interview.created"]


async def test_interview_starting_exactly_now_cannot_be_cancelled(
    agency_a: Tenant, clock: FixedClock
) -> None:
    client = await agency_a.integration()
    scene = await make_scene(client)
    made = await schedule(client, scene, clock)
    path = f"/v1/interviews/{made['id']}"
    clock.set(datetime.fromisoformat(made["starts_at"]))

    response = await client.delete(path)

    assert_problem(response, 409, "interview-already-held")
    assert (await read(client, path))[0]["status"] == "scheduled"


async def test_a_cancelled_interview_cannot_change(agency_a: Tenant, clock: FixedClock) -> None:
    scene = await make_scene(agency_a.admin)
    made = await schedule(agency_a.admin, scene, clock)
    path = f"/v1/interviews/{made['id']}"
    assert (await agency_a.admin.delete(path)).status_code == 204
    before = await read(agency_a.admin, path)

    response = await agency_a.admin.patch(
        path, json={"format": "phone"}, headers={"If-Match": before[1]}
    )

    assert_problem(response, 409, "interview-cancelled")
    assert await read(agency_a.admin, path) == before


async def test_another_agency_cannot_cancel(
    agency_a: Tenant, agency_b: Tenant, clock: FixedClock
) -> None:
    scene = await make_scene(agency_a.admin)
    made = await schedule(agency_a.admin, scene, clock)
    path = f"/v1/interviews/{made['id']}"
    before = await read(agency_a.admin, path)

    response = await agency_b.admin.delete(path)

    assert_problem(response, 404, "not-found")
    assert await read(agency_a.admin, path) == before


# --- Filters ------------------------------------------------------------------------------------


async def test_filter_by_application(agency_a: Tenant, clock: FixedClock) -> None:
    scene = await make_scene(agency_a.admin)
    other = await make_scene(agency_a.admin)
    mine = await schedule(agency_a.admin, scene, clock)
    theirs = await schedule(agency_a.admin, other, clock)

    assert await list_ids(agency_a.admin, application_id=scene.application_id) == {mine["id"]}
    assert await list_ids(agency_a.admin, application_id=other.application_id) == {theirs["id"]}
    assert await list_ids(agency_a.admin, application_id=str(uuid.uuid4())) == set()


async def test_filter_by_status_relative_to_now(agency_a: Tenant, clock: FixedClock) -> None:
    client = await agency_a.integration()
    scene = await make_scene(client)
    start = clock.now()
    held = await schedule(client, scene, clock, **slot(clock, timedelta(days=1)))
    upcoming = await schedule(client, scene, clock, **slot(clock, timedelta(days=2)))
    dropped = await schedule(client, scene, clock, **slot(clock, timedelta(days=3)))
    assert (await client.delete(f"/v1/interviews/{dropped['id']}")).status_code == 204

    assert await list_ids(client, status="scheduled") == {held["id"], upcoming["id"]}
    assert await list_ids(client, status="completed") == set()

    clock.set(start + timedelta(days=1, hours=2))  # `held` ended an hour ago

    assert await list_ids(client, status="scheduled") == {upcoming["id"]}
    assert await list_ids(client, status="completed") == {held["id"]}
    assert await list_ids(client, status="cancelled") == {dropped["id"]}
    assert await list_ids(client) == {held["id"], upcoming["id"], dropped["id"]}
    bad = await client.get("/v1/interviews", params={"status": "held"})
    assert_problem(bad, 422, "validation-error")


async def test_filter_by_start_time_range(agency_a: Tenant, clock: FixedClock) -> None:
    scene = await make_scene(agency_a.admin)
    first = await schedule(agency_a.admin, scene, clock, **slot(clock, timedelta(days=1)))
    second = await schedule(agency_a.admin, scene, clock, **slot(clock, timedelta(days=2)))
    third = await schedule(agency_a.admin, scene, clock, **slot(clock, timedelta(days=3)))
    day = timedelta(days=1)
    second_start = datetime.fromisoformat(second["starts_at"])

    assert await list_ids(agency_a.admin, starts_after=second["starts_at"]) == {
        second["id"],
        third["id"],
    }
    assert await list_ids(agency_a.admin, starts_before=second["starts_at"]) == {first["id"]}
    assert await list_ids(
        agency_a.admin,
        starts_after=(second_start - day / 2).isoformat(),
        starts_before=(second_start + day / 2).isoformat(),
    ) == {second["id"]}
    assert (
        await list_ids(agency_a.admin, starts_after=(second_start + day * 5).isoformat()) == set()
    )
    naive = await agency_a.admin.get(
        "/v1/interviews", params={"starts_after": second_start.replace(tzinfo=None).isoformat()}
    )
    assert_problem(naive, 422, "validation-error")
