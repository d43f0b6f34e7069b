"""`afterview worker` as real processes against a real SMTP server: several racing over one
outbox, one killed mid-send, the wake-up at commit, and the refusals at start."""

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from app.core.clock import FixedClock
from app.core.db import tenant_transaction
from app.core.ids import AgencyId, new_id
from app.core.provision import DatabaseUrls
from app.messages.service import message_id_header
from app.models import Message, MessageKind, MessageStatus, RecipientType
from tests.conftest import JWT_SECRET, TestDatabase
from tests.support.processes import WorkerProcess, cli_env, run_cli
from tests.support.receiver import webhook_receiver
from tests.support.records import make_candidate
from tests.support.smtp import ACCEPT, SmtpSink, smtp_sink
from tests.support.tenants import Tenant

MAIL_FROM = "Afterview <noreply@afterview.test>"


def worker_env(urls: DatabaseUrls, sink: SmtpSink, **settings: str) -> dict[str, str]:
    return cli_env(
        DATABASE_URL=urls.runtime,
        AFTERVIEW_JWT_SECRET=JWT_SECRET,
        AFTERVIEW_PUBLIC_URL="http://afterview.test",
        AFTERVIEW_SMTP_URL=sink.url,
        AFTERVIEW_MAIL_FROM=MAIL_FROM,
        AFTERVIEW_LOG_JSON="true",
        **settings,
    )


async def queue_raw(tenant: Tenant, clock: FixedClock, count: int) -> list[Message]:
    """`count` outbox rows due now, as the steps leave them (one commit)."""
    now = clock.now()
    rows = []
    for n in range(count):
        message_id = new_id()
        rows.append(
            Message(
                agency_id=tenant.agency_id,
                id=message_id,
                kind=MessageKind.feedback_request,
                status=MessageStatus.queued,
                dedupe_key=f"race:{message_id}",
                recipient_type=RecipientType.contact,
                recipient_id=new_id(),
                to_address=f"contact{n}@client.example.com",
                to_name=f"Contact {n}",
                subject=f"Feedback request {n}",
                body="A few lines on the candidate would help them greatly.",
                message_id_header=message_id_header(message_id, None),
                next_attempt_at=now,
                created_at=now,
                updated_at=now,
            )
        )
    async with tenant_transaction(tenant.app.state.sessions, AgencyId(tenant.agency_id)) as s:
        s.add_all(rows)
    return rows


async def statuses(*tenants: Tenant) -> Counter[str]:
    counts: Counter[str] = Counter()
    for tenant in tenants:
        async with tenant_transaction(
            tenant.app.state.sessions, AgencyId(tenant.agency_id)
        ) as session:
            rows = await session.execute(
                select(Message.status, func.count())
                .where(Message.agency_id == tenant.agency_id)
                .group_by(Message.status)
            )
            counts.update({str(status): n for status, n in rows})
    return counts


async def wait_until(check: Callable[[], Any], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"not within {within}s: {what}")


def superuser_on(test_database: TestDatabase, urls: DatabaseUrls) -> str:
    """A superuser URL on the test's own database (to hold locks and watch backends)."""
    name = make_url(urls.runtime).database
    return make_url(test_database.superuser_url).set(database=name).render_as_string(False)


def arrive(sink: SmtpSink, count: int, workers: list[WorkerProcess], within: float) -> None:
    """Wait for `count` accepted messages; fail at once if a worker exits meanwhile."""
    deadline = time.monotonic() + within
    while not sink.wait_for(count, timeout=0.5):
        for worker in workers:
            assert worker.process.poll() is None, f"a worker exited:\n{worker.output()}"
        assert time.monotonic() < deadline, f"{len(sink.snapshot())} of {count} arrived"


def backends(watcher: psycopg.Connection, where: str) -> int:
    """How many sessions on the test's database match `where` (pg_stat_activity columns)."""
    row = watcher.execute(
        f"SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND {where}"
    ).fetchone()
    return int(row[0]) if row else 0


def until(condition: Callable[[], bool], within: float) -> bool:
    """Poll `condition` for up to `within` seconds; whether it came true."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def sent_by(worker: WorkerProcess) -> int:
    return sum(
        1
        for line in worker.output().splitlines()
        if '"event": "message"' in line and '"status": "sent"' in line
    )


MESSAGES, BATCH = 250, 5
"""Fifty claims raced for by four workers (as 1,000 messages in batches of 20 made), with a
quarter of the mail to send."""


async def test_four_workers_deliver_every_message_exactly_once(
    agency_a: Tenant,
    agency_b: Tenant,
    clock: FixedClock,
    database_urls: DatabaseUrls,
    tmp_path: Path,
) -> None:
    queued = [
        *await queue_raw(agency_a, clock, MESSAGES // 2),
        *await queue_raw(agency_b, clock, MESSAGES - MESSAGES // 2),
    ]
    with smtp_sink() as sink, ExitStack() as stack:
        env = worker_env(database_urls, sink, AFTERVIEW_WORKER_BATCH_SIZE=str(BATCH))
        workers = [
            stack.enter_context(WorkerProcess(env, tmp_path / "logs", f"worker-{n}"))
            for n in range(4)
        ]
        started = time.monotonic()
        arrive(sink, MESSAGES, workers, within=180)
        elapsed = time.monotonic() - started

        async def all_sent() -> bool:
            return (await statuses(agency_a, agency_b)) == Counter(sent=MESSAGES)

        await wait_until(all_sent, 30, "every row marked sent")
        for worker in workers:
            assert worker.stop() == 0, worker.output()

    arrived = sink.by_message_id()
    assert len(sink.snapshot()) == MESSAGES
    assert set(arrived) == {m.message_id_header for m in queued}
    assert set(arrived.values()) == {1}, "a message arrived twice"
    assert await statuses(agency_a, agency_b) == Counter(sent=MESSAGES)  # none left `sending`
    shares = [sent_by(worker) for worker in workers]
    assert sum(shares) == MESSAGES
    assert all(share > 0 for share in shares), f"not every worker took part: {shares}"
    print(f"4 workers, {MESSAGES} messages in {elapsed:.1f}s; shares {shares}")


async def test_a_worker_killed_after_the_server_accepted_leads_to_one_redelivery(
    agency_a: Tenant,
    clock: FixedClock,
    database_urls: DatabaseUrls,
    test_database: TestDatabase,
    tmp_path: Path,
) -> None:
    """The server accepts; before the worker can mark the row sent it is killed (SIGKILL). The
    lease runs out, another worker sends it again with the same Message-ID: one redelivery,
    never a lost message."""
    (message,) = await queue_raw(agency_a, clock, 1)
    watcher = psycopg.connect(superuser_on(test_database, database_urls), autocommit=True)
    holder = psycopg.connect(superuser_on(test_database, database_urls))

    def accept_but_hold_the_row(_message_id: str, seen: int) -> str:
        if seen == 0:  # the worker's "mark sent" will wait on this lock
            holder.execute("SELECT 1 FROM message WHERE id = %s FOR UPDATE", (message.id,))
        return ACCEPT

    def workers_waiting_on_a_lock() -> int:
        return backends(watcher, "application_name = 'afterview' AND wait_event_type = 'Lock'")

    try:
        with smtp_sink(accept_but_hold_the_row) as sink:
            env = worker_env(database_urls, sink, AFTERVIEW_WORKER_LEASE_SECONDS="2")
            with WorkerProcess(env, tmp_path / "logs", "first") as first:
                arrive(sink, 1, [first], within=30)
                assert until(lambda: workers_waiting_on_a_lock() == 1, within=15), (
                    "the worker is not marking the row"
                )
                first.kill()
            holder.rollback()
            (row,) = await _rows(agency_a, message.id)
            assert (row.status, row.attempts, row.sent_at) == (MessageStatus.sending, 1, None)

            with WorkerProcess(env, tmp_path / "logs", "second") as second:
                arrive(sink, 2, [second], within=30)

                async def marked_sent() -> bool:
                    (row,) = await _rows(agency_a, message.id)
                    return row.status == MessageStatus.sent

                await wait_until(marked_sent, 15, "the redelivered row marked sent")
                assert second.stop() == 0
    finally:
        holder.close()
        watcher.close()

    assert sink.by_message_id() == Counter({message.message_id_header: 2})
    (row,) = await _rows(agency_a, message.id)
    assert (row.status, row.attempts, row.lease_token) == (MessageStatus.sent, 2, None)


async def _rows(tenant: Tenant, message_id: UUID) -> list[Message]:
    async with tenant_transaction(tenant.app.state.sessions, AgencyId(tenant.agency_id)) as s:
        found = await s.scalars(
            select(Message).where(Message.agency_id == tenant.agency_id, Message.id == message_id)
        )
        return list(found.all())


async def test_a_queued_message_is_picked_up_within_two_seconds_of_its_commit(
    agency_a: Tenant,
    clock: FixedClock,
    database_urls: DatabaseUrls,
    test_database: TestDatabase,
    tmp_path: Path,
) -> None:
    """The worker polls only once a minute here: what wakes it is the NOTIFY at commit."""
    with smtp_sink() as sink:
        env = worker_env(database_urls, sink, AFTERVIEW_WORKER_POLL_SECONDS="60")
        with WorkerProcess(env, tmp_path / "logs") as worker:
            worker.wait_started()
            with psycopg.connect(
                superuser_on(test_database, database_urls), autocommit=True
            ) as watcher:
                listening = until(
                    lambda: (
                        backends(
                            watcher, "application_name = 'afterview-worker' AND state = 'idle'"
                        )
                        == 1
                    ),
                    within=15,
                )
                assert listening, worker.output()
            await asyncio.sleep(0.5)  # past its first delivery pass: now it sleeps on the long poll
            latencies = []
            for n in range(1, 4):
                clock.set(datetime.now(clock.now().tzinfo))
                await queue_raw(agency_a, clock, 1)
                committed = time.monotonic()
                arrive(sink, n, [worker], within=5)
                latencies.append(time.monotonic() - committed)
            assert worker.stop() == 0
    assert max(latencies) < 2.0, latencies
    print(f"pick-up after commit: {', '.join(f'{s * 1000:.0f} ms' for s in latencies)}")


def test_the_worker_refuses_to_start_without_somewhere_to_send_mail(
    database_urls: DatabaseUrls,
) -> None:
    base = {
        "DATABASE_URL": database_urls.runtime,
        "AFTERVIEW_JWT_SECRET": JWT_SECRET,
        "AFTERVIEW_PUBLIC_URL": "http://afterview.test",
    }
    cases = {
        "set AFTERVIEW_SMTP_URL to send mail, or AFTERVIEW_MAILBOX_DIR to write .eml files": {},
        "set AFTERVIEW_MAIL_FROM: the sender for agencies without a sender_email": {
            "AFTERVIEW_SMTP_URL": "smtp://127.0.0.1:2525"
        },
        "AFTERVIEW_SMTP_URL: expected smtp://user:pass@host:port or smtps://…": {
            "AFTERVIEW_SMTP_URL": "http://mail.example.com",
            "AFTERVIEW_MAIL_FROM": MAIL_FROM,
        },
    }
    for reason, extra in cases.items():
        result = run_cli("worker", env=cli_env(**base, **extra))
        assert result.returncode == 1, result
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert lines == [f"afterview: refusing to start the worker: {reason}"], result.stderr

    without_links = {k: v for k, v in base.items() if k != "AFTERVIEW_PUBLIC_URL"}
    result = run_cli("worker", env=cli_env(**without_links, AFTERVIEW_MAILBOX_DIR="/tmp/x"))  # noqa: S108
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "afterview: refusing to start the worker: set AFTERVIEW_PUBLIC_URL (the base of links)"
    )


async def test_a_worker_killed_mid_webhook_leads_to_one_redelivery_with_the_same_id(
    agency_a: Tenant,
    clock: FixedClock,
    database_urls: DatabaseUrls,
    tmp_path: Path,
) -> None:
    """The receiver holds the first request open; the worker sending it is killed. Its lease
    runs out and a second worker delivers the same event again: never lost, same webhook-id."""
    entered, release = threading.Event(), threading.Event()

    def hold_the_first(_webhook_id: str, seen: int) -> int:
        if seen == 0:
            entered.set()
            release.wait(30)
        return 200

    with webhook_receiver(hold_the_first) as receiver, smtp_sink() as sink:
        created = await agency_a.admin.post("/v1/webhook-endpoints", json={"url": receiver.url})
        assert created.status_code == 201, created.text
        receiver.secrets.append(created.json()["secret"])
        candidate = await make_candidate(agency_a)
        env = worker_env(
            database_urls,
            sink,
            AFTERVIEW_WEBHOOKS_ALLOW_PRIVATE="true",
            AFTERVIEW_WORKER_LEASE_SECONDS="2",
        )
        with WorkerProcess(env, tmp_path / "logs", "first") as first:
            assert entered.wait(30), first.output()
            first.kill()
        release.set()  # the dead worker's request is answered; nobody reads the answer
        with WorkerProcess(env, tmp_path / "logs", "second") as second:
            assert receiver.wait_for(2, timeout=30), second.output()
            path = f"/v1/webhook-endpoints/{created.json()['id']}/deliveries"

            async def delivered() -> bool:
                items = (await agency_a.admin.get(path)).json()["items"]
                return bool(items) and items[0]["state"] == "succeeded"

            await wait_until(delivered, 15, "the redelivery recorded")
            assert second.stop() == 0

    first_try, second_try = receiver.snapshot()
    assert first_try.webhook_id == second_try.webhook_id
    assert first_try.body == second_try.body
    assert second_try.body["data"] == candidate
    assert first_try.verified_by == second_try.verified_by == (created.json()["secret"],)
    (record,) = (await agency_a.admin.get(path)).json()["items"]
    assert (record["attempt"], len(record["attempts"])) == (2, 1)  # the dead one left no record
