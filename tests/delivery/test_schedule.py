"""The schedule runs itself: feedback chases and link expiry, the 08:00 daily digest, and the
idempotency-key sweep; each due item exactly once though four workers (each with its own
connections) run the schedule at the same moment."""

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.clock import FixedClock
from app.core.db import create_engine, session_factory, tenant_transaction
from app.core.ids import AgencyId
from app.core.provision import DatabaseUrls
from app.delivery.mail import MailboxTransport
from app.delivery.schedule import ScheduleReport
from app.delivery.worker import Worker
from app.models import Event, IdempotencyKey, MessageStatus, ScheduledRun, WebhookDelivery
from tests.support.delivery import make_worker, outbox_rows
from tests.support.feedback import scene as feedback_scene
from tests.support.follow_ups import FIRST_NAME, LAST_NAME, Scene, finish, schedule, set_agency
from tests.support.receiver import webhook_receiver
from tests.support.records import at, list_items
from tests.support.tenants import Tenant, login, new_client

WORKERS = 4
TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture
async def worker_sessions(
    database_urls: DatabaseUrls,
) -> AsyncIterator[list[async_sessionmaker[AsyncSession]]]:
    """Four workers' worth of connection pools (separate engines, so they really race)."""
    engines = [create_engine(database_urls.runtime, pool_size=2) for _ in range(WORKERS)]
    yield [session_factory(engine) for engine in engines]
    for engine in engines:
        await engine.dispose()


@pytest.fixture
def racers(
    app: FastAPI,
    clock: FixedClock,
    worker_sessions: list[async_sessionmaker[AsyncSession]],
    tmp_path: Path,
) -> list[Worker]:
    """Four workers on the test's clock, each on its own pool, writing mail to a folder."""
    return [make_worker(app, clock, MailboxTransport(tmp_path), s) for s in worker_sessions]


async def race(racers: list[Worker]) -> ScheduleReport:
    """All of them run the schedule at once; their reports, added up."""
    reports = await asyncio.gather(*(worker.run_schedule() for worker in racers))
    return ScheduleReport(
        **{name: sum(getattr(r, name) for r in reports) for name in vars(ScheduleReport())}
    )


async def test_each_chase_goes_out_once_and_the_link_expires_on_time(
    agency_a: Tenant,
    clock: FixedClock,
    racers: list[Worker],
) -> None:
    story = await feedback_scene(agency_a)
    await story.fail()
    request = await story.request()
    assert (request["state"], request["chases_sent"]) == ("requested", 0)

    chases_due = at(request["next_chase_at"])
    clock.set(chases_due - timedelta(seconds=1))
    assert (await race(racers)).chases == 0
    for number in (1, 2, 3):  # the agency's default: three chases, five days apart
        clock.set(chases_due)
        report = await race(racers)
        assert (report.chases, report.failed_agencies) == (1, 0), number
        assert (await race(racers)).chases == 0  # the same moment again: nothing more
        request = await story.request()
        assert (request["state"], request["chases_sent"]) == ("chased", number)
        chases = await story.messages("feedback_chase")
        assert len(chases) == number
        if number < 3:
            chases_due = at(request["next_chase_at"])
    assert request["next_chase_at"] is None

    clock.set(at(request["expires_at"]))
    assert (await race(racers)).chases == 0
    expired = await story.request()
    assert expired["state"] == "expired"
    timeline = await story.api.get(f"/v1/applications/{story.id}/timeline", params={"limit": 200})
    types = [e["type"] for e in timeline.json()["items"]]
    assert types.count("feedback.chased") == 3 and types.count("feedback.expired") == 1


async def next_steps(scene: Scene, expected_by: datetime) -> None:
    response = await scene.client.put(
        f"/v1/interviews/{scene.interview['id']}/next-steps",
        json={
            "kind": "decision",
            "details": "The panel decides this week.",
            "decision_expected_by": expected_by.isoformat(),
        },
    )
    assert response.status_code == 201, response.text


def next_eight_oclock(after: datetime, zone: ZoneInfo) -> datetime:
    local = after.astimezone(zone)
    eight = datetime.combine(local.date(), time(8), tzinfo=zone)
    return eight if eight > local else eight + timedelta(days=1)


async def test_the_daily_digest_goes_out_once_at_eight_local_to_those_who_want_it(
    agency_a: Tenant,
    clock: FixedClock,
    racers: list[Worker],
) -> None:
    await set_agency(agency_a, timezone="Asia/Tokyo")
    keen = await agency_a.add_user("consultant", name="Priya Shah")
    quiet = await agency_a.add_user("consultant", name="Tom Reid")
    opted_out = await (await agency_a.client_as(quiet)).patch(
        "/v1/me", json={"daily_digest": False}
    )
    assert opted_out.status_code == 200, opted_out.text
    assert opted_out.json()["daily_digest"] is False
    scenes = [await schedule(agency_a, clock, consultant=c) for c in (keen, quiet)]
    await finish(clock, *scenes)
    for scene in scenes:
        await next_steps(scene, scene.ends_at + timedelta(hours=1))
    api = await agency_a.integration()

    eight = next_eight_oclock(scenes[0].ends_at + timedelta(hours=2), TOKYO)
    clock.set(eight - timedelta(minutes=1))
    assert (await race(racers)).digests == 0
    clock.set(eight)
    assert (await race(racers)).digests == 1
    clock.set(eight + timedelta(hours=3))
    assert (await race(racers)).digests == 0  # once a day

    (digest,) = [m for m in await list_items(api, "/v1/messages") if m["kind"] == "daily_digest"]
    assert (digest["to"], digest["recipient_id"]) == (keen["email"], keen["id"])
    assert "Chase the client: the decision date has passed" in digest["body"]
    assert f"{FIRST_NAME} {LAST_NAME}" in digest["body"]
    assert scenes[0].application["id"] not in digest["body"]  # names, not ids
    expected_by = (scenes[0].ends_at + timedelta(hours=1)).astimezone(TOKYO)
    assert expected_by.strftime("%a %d %b %H:%M") in digest["body"]  # the agency's wall clock
    # Also overdue by then, when 08:00 came more than a day after the interview: the debrief
    # and the thank-you follow-up (both due 24 hours after its end).
    count = 3 if eight > scenes[0].ends_at + timedelta(hours=24) else 1
    assert (
        digest["subject"] == f"{count} overdue {'items' if count > 1 else 'item'} on your worklist"
    )
    assert sum(line.startswith("- ") for line in digest["body"].splitlines()) == count

    clock.set(eight + timedelta(days=1))
    assert (await race(racers)).digests == 1
    digests = [m for m in await list_items(api, "/v1/messages") if m["kind"] == "daily_digest"]
    assert [m["to"] for m in digests] == [keen["email"]] * 2

    rows = await outbox_rows(agency_a, kind="daily_digest")
    assert {r.status for r in rows} == {MessageStatus.queued}
    assert all(r.message_id_header and r.reply_to_address is None for r in rows)


@pytest.fixture
def one_in_the_morning(clock: FixedClock) -> None:
    """The clock at tomorrow 01:00 UTC before the agency is made (taken before `agency_a`): the
    test's steps fall before or after the day's 03:00 and 08:00 runs as it says, whatever the
    time of day the suite runs at."""
    clock.set((clock.now() + timedelta(days=1)).replace(hour=1, minute=0, second=0))


async def test_what_expires_is_swept(
    one_in_the_morning: None,
    agency_a: Tenant,
    clock: FixedClock,
    racers: list[Worker],
) -> None:
    """Idempotency keys after 48 h; digest days, finished webhook deliveries and the events'
    snapshots after 30 days (the events themselves stay, for the timeline)."""
    api = await agency_a.integration()
    with webhook_receiver() as receiver:
        hook = await api.post("/v1/webhook-endpoints", json={"url": receiver.url})
        assert hook.status_code == 201, hook.text
        response = await api.post(
            "/v1/clients", json={"name": "Harbour Logistics"}, headers={"Idempotency-Key": "k-1"}
        )
        assert response.status_code == 201, response.text
        assert sum([await worker.deliver_all() for worker in racers]) == 1
    assert receiver.snapshot()[0].body["data"]["id"] == response.json()["id"]

    async def stored(model: type[Any] = IdempotencyKey) -> int:
        async with tenant_transaction(
            agency_a.app.state.sessions, AgencyId(agency_a.agency_id)
        ) as session:
            return int(
                await session.scalar(
                    select(func.count()).where(model.agency_id == agency_a.agency_id)
                )
                or 0
            )

    assert await stored() == 1
    clock.set(clock.now() + timedelta(hours=47))
    assert (await race(racers)).idempotency_keys_swept == 0
    clock.set(clock.now() + timedelta(hours=1, seconds=1))
    assert (await race(racers)).idempotency_keys_swept == 1
    assert await stored() == 0
    replay = await api.post(
        "/v1/clients", json={"name": "Harbour Logistics"}, headers={"Idempotency-Key": "k-1"}
    )
    assert replay.status_code == 201 and replay.json()["id"] != response.json()["id"]

    # The digest days the schedule recorded are kept for 30 days, then swept too.
    ten = next_eight_oclock(clock.now(), ZoneInfo("UTC")) + timedelta(hours=2)
    clock.set(ten)
    await race(racers)
    recorded = await stored(ScheduledRun)
    assert recorded == 2  # the digest's day and retention's
    assert await stored(WebhookDelivery) == 2  # the first delivered; the replay's still due
    clock.set(ten + timedelta(days=31))
    swept = await race(racers)
    assert await stored(ScheduledRun) == 2  # only today's (the digest's and retention's)
    assert await stored(WebhookDelivery) == 1  # a delivery still due is never swept
    assert swept.event_snapshots_purged == 2  # the endpoint's client, and the replay's
    async with tenant_transaction(
        agency_a.app.state.sessions, AgencyId(agency_a.agency_id)
    ) as session:
        snapshots = (
            await session.scalars(
                select(Event.snapshot).where(
                    Event.agency_id == agency_a.agency_id,
                    Event.object_id == UUID(response.json()["id"]),
                )
            )
        ).all()
    assert snapshots == [None]


async def test_retention_erases_candidates_closed_longer_than_the_agency_keeps_them(
    one_in_the_morning: None, agency_a: Tenant, clock: FixedClock, racers: list[Worker]
) -> None:
    await set_agency(agency_a, retention_days=30)
    gone = await feedback_scene(agency_a)
    await gone.fail()  # unsuccessful: closed now
    kept = await feedback_scene(agency_a)  # still active
    api = await agency_a.integration()
    closed_at = clock.now()

    nearly = next_eight_oclock(closed_at + timedelta(days=29), ZoneInfo("UTC")) + timedelta(hours=2)
    clock.set(nearly)  # 10:00, a day or so short of 30 days: the day's run erases nobody
    assert (await race(racers)).erased == 0
    clock.set(closed_at + timedelta(days=31))
    three = next_eight_oclock(clock.now(), ZoneInfo("UTC")) - timedelta(hours=5)
    if three < clock.now():
        three += timedelta(days=1)
    clock.set(three - timedelta(minutes=1))
    assert (await race(racers)).erased == 0  # before 03:00: not yet today's run
    clock.set(three)
    assert (await race(racers)).erased == 1
    assert (await race(racers)).erased == 0  # once a day

    erased = (await api.get(f"/v1/candidates/{gone.candidate['id']}")).json()
    assert erased["first_name"] == "Erased" and erased["email"].endswith("@erased.invalid")
    untouched = (await api.get(f"/v1/candidates/{kept.candidate['id']}")).json()
    assert untouched == kept.candidate | {"updated_at": untouched["updated_at"]}
    export = (await api.get(f"/v1/candidates/{gone.candidate['id']}/export")).json()
    assert export["erased_at"] == three.isoformat()
    async with new_client(
        agency_a.app, await login(agency_a.app, agency_a.admin_email, agency_a.admin_password)
    ) as admin:
        audit = (await admin.get("/v1/audit-entries", params={"limit": 200})).json()
    actions = [entry["action"] for entry in audit["items"]]
    assert actions.count("retention.applied") == 2  # the two days' runs
    assert "candidate.erased" in actions
