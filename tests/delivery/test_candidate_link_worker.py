"""The worker sends the candidate their link when an interview ends (issue 13): only for agencies
with `candidate_links` on, a candidate with `contact_consent`, an application still open, an
interview held (not cancelled) and ended within `candidate_link_days`, and once per interview,
however many workers run the schedule at once. The mail is read at a real SMTP server."""

import asyncio
import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.clock import FixedClock
from app.core.db import create_engine, session_factory, set_tenant
from app.core.ids import AgencyId
from app.core.provision import DatabaseUrls
from app.delivery.mail import SmtpConfig, SmtpTransport
from app.models import Event, MessageKind, MessageStatus
from tests.support.delivery import make_worker, outbox_rows
from tests.support.records import events_of, set_application_status
from tests.support.smtp import smtp_sink
from tests.support.tenants import Tenant
from tests.test_candidate_links import (
    CLIENT,
    PUBLIC_URL,
    ROLE,
    Scene,
    link_rows,
    scene,
    set_agency,
    visit,
)

LINK = re.compile(re.escape(PUBLIC_URL) + r"/candidate/[A-Za-z0-9_\-.]+")
WORKERS = 4


async def link_mail(tenant: Tenant) -> list[str]:
    """The candidate-link emails in the agency's outbox: each one's recipient."""
    rows = await outbox_rows(tenant, kind=MessageKind.candidate_link)
    return [row.to_address for row in rows]


async def test_the_worker_emails_the_link_once_and_only_where_the_rules_allow(
    agency_a: Tenant, agency_b: Tenant, clock: FixedClock
) -> None:
    await set_agency(agency_a, candidate_links=True)
    due = await scene(agency_a, clock)
    no_consent = await scene(agency_a, clock, consent=False)
    closed = await scene(agency_a, clock)
    await set_application_status(agency_a, closed.application["id"], "withdrawn")
    not_ended = await scene(agency_a, clock, ended=False)
    long_ago = await scene(agency_a, clock, starts_in=-timedelta(days=4))  # past the link's life
    cancelled = await scene(agency_a, clock, starts_in=timedelta(minutes=1))
    response = await agency_a.admin.delete(f"/v1/interviews/{cancelled.interview['id']}")
    assert response.status_code == 204
    setting_off = await scene(agency_b, clock)  # agency B keeps the default: off
    clock.set(clock.now() + timedelta(hours=1, minutes=2))  # past the cancelled one's end

    with smtp_sink() as sink:
        worker = make_worker(agency_a.app, clock, SmtpTransport(SmtpConfig.from_url(sink.url)))
        assert (await worker.run_schedule()).candidate_links == 1
        await worker.deliver_all()
        assert (await worker.run_schedule()).candidate_links == 0  # once per interview
        await worker.deliver_all()
        await worker.close()

    candidates = {s.candidate["email"] for s in (due, no_consent, closed, not_ended, long_ago)}
    candidates |= {cancelled.candidate["email"], setting_off.candidate["email"]}
    received = [mail for mail in sink.snapshot() if set(mail.recipients) & candidates]
    assert [mail.recipients for mail in received] == [(due.candidate["email"],)]
    (mail,) = received
    body = mail.message.get_content()
    assert ROLE in mail.message["Subject"]
    assert ROLE in body and CLIENT in body and "within a day" in body
    (url,) = LINK.findall(body)
    opened = await visit(agency_a, url.rsplit("/", 1)[1], clock.now())
    assert str(opened.interview.id) == due.interview["id"]
    assert opened.principal.via == "candidate"

    (row,) = await link_rows(agency_a)  # none for the others
    assert str(row.interview_id) == due.interview["id"]
    assert (row.issued_by, row.emailed_at, row.generation) == (None, clock.now(), 1)
    (sent,) = await outbox_rows(agency_a, kind=MessageKind.candidate_link)
    assert (sent.status, sent.to_address) == (MessageStatus.sent, due.candidate["email"])
    issued = await events_of(agency_a, "candidate_link.issued")
    assert [(e["user_id"], e["data"]["emailed"]) for e in issued] == [(None, True)]
    assert await link_rows(agency_b) == [] and await link_mail(agency_b) == []
    # The email carried the link; its event (the feed, webhooks) shows it without the token.
    (snapshot,) = await snapshots_of(agency_a, "message.sent", sent.id)
    assert url not in json.dumps(snapshot)
    assert snapshot["body"] == sent.body.replace(url, url.rsplit("/", 1)[0] + "/[redacted]")


async def test_an_interview_ends_and_the_next_pass_sends_its_link(
    agency_a: Tenant, clock: FixedClock
) -> None:
    await set_agency(agency_a, candidate_links=True)
    s = await scene(agency_a, clock, ended=False)
    worker = make_worker(agency_a.app, clock, SmtpTransport(SmtpConfig.from_url("smtp://x:1")))

    assert (await worker.run_schedule()).candidate_links == 0
    clock.set(clock.now() + timedelta(hours=3))  # the interview (in an hour, for an hour) ended
    assert (await worker.run_schedule()).candidate_links == 1
    assert await link_mail(agency_a) == [s.candidate["email"]]
    await worker.close()


async def test_a_link_a_consultant_issued_is_not_sent_again_by_the_worker(
    agency_a: Tenant, clock: FixedClock
) -> None:
    await set_agency(agency_a, candidate_links=True)
    s = await scene(agency_a, clock)
    assert (await agency_a.admin.post(s.path)).status_code == 201
    worker = make_worker(agency_a.app, clock, SmtpTransport(SmtpConfig.from_url("smtp://x:1")))

    assert (await worker.run_schedule()).candidate_links == 0
    assert await link_mail(agency_a) == [s.candidate["email"]]
    await worker.close()


@pytest.fixture
async def worker_sessions(
    database_urls: DatabaseUrls,
) -> AsyncIterator[list[async_sessionmaker[AsyncSession]]]:
    """Four workers' worth of connection pools (separate engines, so they really race)."""
    engines = [create_engine(database_urls.runtime, pool_size=2) for _ in range(WORKERS)]
    yield [session_factory(engine) for engine in engines]
    for engine in engines:
        await engine.dispose()


async def test_racing_workers_send_each_link_once(
    agency_a: Tenant,
    clock: FixedClock,
    worker_sessions: list[async_sessionmaker[AsyncSession]],
) -> None:
    await set_agency(agency_a, candidate_links=True)
    scenes: list[Scene] = [await scene(agency_a, clock) for _ in range(3)]
    transport = SmtpTransport(SmtpConfig.from_url("smtp://x:1"))
    racers = [make_worker(agency_a.app, clock, transport, s) for s in worker_sessions]

    reports = await asyncio.gather(*(racer.run_schedule() for racer in racers))

    assert sum(r.candidate_links for r in reports) == 3
    assert sum(r.failed_agencies for r in reports) == 0
    assert sorted(await link_mail(agency_a)) == sorted(s.candidate["email"] for s in scenes)
    rows = await link_rows(agency_a)
    assert sorted(str(r.interview_id) for r in rows) == sorted(s.interview["id"] for s in scenes)
    assert all(r.generation == 1 for r in rows)
    assert len(await events_of(agency_a, "candidate_link.issued")) == 3


async def snapshots_of(agency: Tenant, event_type: str, object_id: UUID) -> list[dict[str, Any]]:
    """The objects as events of `event_type` about `object_id` recorded them (what the feed
    and webhooks send as `data`)."""
    async with agency.app.state.sessions() as session, session.begin():
        await set_tenant(session, AgencyId(agency.agency_id))
        found = await session.scalars(
            select(Event.snapshot).where(
                Event.agency_id == agency.agency_id,
                Event.type == event_type,
                Event.object_id == object_id,
            )
        )
        return [s for s in found.all() if s is not None]
