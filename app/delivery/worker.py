"""`afterview worker`: sends the outbox and runs the schedule until told to stop.

It wakes on LISTEN/NOTIFY (a trigger notifies `afterview_outbox` when a message is queued, at
commit) and polls every `worker_poll_seconds` as a net. Any number of workers may run: claims
are leased with SKIP LOCKED, so each due message goes to one of them.
"""

import asyncio
import contextlib
import random
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import cache, partial
from uuid import UUID

import asyncpg
import httpx
import structlog
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core import metrics
from app.core.auth import worker_principal
from app.core.clock import Clock
from app.core.db import tenant_transaction
from app.delivery import outbox, webhooks
from app.delivery.mail import DeliveryFailed, Mailbox, Transport
from app.delivery.schedule import DEFAULT_EVENT_RETENTION, ScheduleReport, run_schedule
from app.feedback.links import FeedbackLinks
from app.models import DeliveryState, MessageStatus

log = structlog.get_logger("afterview.worker")

NOTIFY_CHANNEL = "afterview_outbox"
SCHEDULE_INTERVAL_SECONDS = 30.0
LISTEN_RETRY_SECONDS = 5.0


@cache
def _webhook_tls() -> ssl.SSLContext:
    """The TLS settings httpx would make for each client (certifi's roots, none from the
    environment), made once per process: loading the roots costs ~25 ms a client."""
    return httpx.create_ssl_context(trust_env=False)


@dataclass(frozen=True)
class WorkerOptions:
    default_sender: Mailbox
    retry: outbox.RetryPolicy
    batch_size: int = 100
    lease_seconds: int = 300
    concurrency: int = 8
    poll_seconds: float = 5.0
    schedule_interval_seconds: float = SCHEDULE_INTERVAL_SECONDS
    event_retention: timedelta = DEFAULT_EVENT_RETENTION
    webhook_policy: webhooks.WebhookPolicy | None = None
    """None: this worker sends mail only."""


class Worker:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        transport: Transport,
        clock: Clock,
        links: FeedbackLinks,
        options: WorkerOptions,
        *,
        rng: random.Random | None = None,
    ) -> None:
        self.sessions = sessions
        self.transport = transport
        self.clock = clock
        self.links = links
        self.options = options
        self.rng = rng or random.Random()  # noqa: S311 - retry jitter, not a secret
        self._sending = asyncio.Semaphore(options.concurrency)
        self.http = httpx.AsyncClient(
            timeout=webhooks.TIMEOUT_SECONDS,
            follow_redirects=False,
            trust_env=False,  # no proxy from the environment: the address was vetted
            limits=httpx.Limits(max_connections=options.concurrency),
            verify=_webhook_tls(),
        )

    async def deliver_once(self, stop: asyncio.Event | None = None) -> int:
        """Claim one batch of due messages (and webhook deliveries) and settle each. Returns
        how many were claimed."""
        now, batch, lease = self.clock.now(), self.options.batch_size, self.options.lease_seconds
        async with self.sessions() as session, session.begin():
            claims = await outbox.claim_due(session, now, batch, lease)
            hooks = (
                await webhooks.claim_due(session, now, batch, lease)
                if self.options.webhook_policy
                else []
            )
        await asyncio.gather(
            *(
                self._handle(
                    "message",
                    claim.message_id,
                    stop,
                    partial(self._release, claim),
                    partial(self._send, claim),
                )
                for claim in claims
            ),
            *(
                self._handle(
                    "webhook",
                    hook.delivery_id,
                    stop,
                    partial(self._release_webhook, hook),
                    partial(self._send_webhook, hook),
                )
                for hook in hooks
            ),
        )
        return len(claims) + len(hooks)

    async def close(self) -> None:
        await self.transport.close()
        await self.http.aclose()

    async def deliver_all(self, stop: asyncio.Event | None = None) -> int:
        """Deliver until nothing is due (or `stop` is set). Returns how many were claimed."""
        total = 0
        while not (stop and stop.is_set()):
            claimed = await self.deliver_once(stop)
            total += claimed
            if not claimed:
                break
        return total

    async def run_schedule(self) -> ScheduleReport:
        return await run_schedule(
            self.sessions, self.clock, self.links, self.options.event_retention
        )

    async def run(self, stop: asyncio.Event, listen_dsn: str | None) -> None:
        """Deliver and run the schedule until `stop` is set; then finish what is in flight and
        give back what was claimed but not started."""
        wake = asyncio.Event()
        listener = asyncio.create_task(self._listen(listen_dsn, wake, stop)) if listen_dsn else None
        next_schedule = 0.0
        try:
            while not stop.is_set():
                wake.clear()
                try:
                    if time.monotonic() >= next_schedule:
                        next_schedule = time.monotonic() + self.options.schedule_interval_seconds
                        report = await self.run_schedule()
                        if report.chases or report.digests or report.failed_agencies:
                            log.info("schedule", **vars(report))
                    await self.deliver_all(stop)
                except (SQLAlchemyError, OSError) as exc:
                    log.warning("worker_database_error", error=f"{type(exc).__name__}: {exc}")
                except Exception:  # a bug in one pass must not end the worker; the next retries
                    log.exception("worker_pass_failed")
                await _first_of(wake, stop, within=self.options.poll_seconds)
        finally:
            if listener is not None:
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listener
            await self.close()

    async def _handle(
        self,
        what: str,
        object_id: UUID,
        stop: asyncio.Event | None,
        release: Callable[[], Awaitable[None]],
        send: Callable[[], Awaitable[None]],
    ) -> None:
        """Send one claimed item (or give it back when stopping), a few at a time."""
        async with self._sending:
            try:
                await (release() if stop is not None and stop.is_set() else send())
            except (SQLAlchemyError, OSError) as exc:
                # The row keeps its lease and is claimed again once the lease runs out.
                log.warning(
                    f"{what}_interrupted", id=str(object_id), error=f"{type(exc).__name__}: {exc}"
                )

    async def _send(self, claim: outbox.Claim) -> None:
        principal = worker_principal(claim.agency_id)
        async with tenant_transaction(self.sessions, claim.agency_id) as session:
            outgoing = await outbox.prepare(
                session,
                principal,
                self.clock,
                claim,
                self.options.default_sender,
                self.options.retry,
            )
        if outgoing is None:
            return
        failure: DeliveryFailed | None = None
        try:
            await self.transport.send(outgoing)
        except DeliveryFailed as exc:
            failure = exc
        async with tenant_transaction(self.sessions, claim.agency_id) as session:
            status = await outbox.finish(
                session, principal, self.clock, claim, failure, self.options.retry, self.rng
            )
        _count_mail(status, failure)
        log.info(
            "message",
            message_id=str(claim.message_id),
            agency_id=str(claim.agency_id),
            status=str(status),
            error=failure.reason if failure else None,
        )

    async def _send_webhook(self, claim: webhooks.WebhookClaim) -> None:
        policy = self.options.webhook_policy
        assert policy is not None
        principal = worker_principal(claim.agency_id)
        async with tenant_transaction(self.sessions, claim.agency_id) as session:
            request = await webhooks.prepare(session, principal, self.clock, claim, policy)
        if request is None:
            return
        answer = await webhooks.post(self.http, request, policy.allow_private, policy.lookup)
        async with tenant_transaction(self.sessions, claim.agency_id) as session:
            state = await webhooks.finish(session, principal, self.clock, claim, answer, policy)
        outcome = "lost" if state is None else _WEBHOOK_OUTCOMES.get(state, str(state))
        metrics.WEBHOOK_DELIVERIES.labels(outcome).inc()
        log.info(
            "webhook",
            delivery_id=str(claim.delivery_id),
            agency_id=str(claim.agency_id),
            state=str(state),
            status_code=answer.status_code,
            error=answer.error,
        )

    async def _release_webhook(self, claim: webhooks.WebhookClaim) -> None:
        async with tenant_transaction(self.sessions, claim.agency_id) as session:
            await webhooks.release(session, worker_principal(claim.agency_id), claim)

    async def _release(self, claim: outbox.Claim) -> None:
        async with tenant_transaction(self.sessions, claim.agency_id) as session:
            await outbox.release(session, worker_principal(claim.agency_id), claim)

    async def _listen(self, dsn: str, wake: asyncio.Event, stop: asyncio.Event) -> None:
        """Hold a LISTEN connection; reconnect after losing it (polling covers the gap)."""
        while not stop.is_set():
            lost = asyncio.Event()
            try:
                connection = await asyncpg.connect(
                    dsn, server_settings={"application_name": "afterview-worker"}
                )
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("listen_connect_failed", error=f"{type(exc).__name__}: {exc}")
                await _first_of(stop, within=LISTEN_RETRY_SECONDS)
                continue
            try:
                connection.add_termination_listener(lambda _conn, lost=lost: lost.set())
                await connection.add_listener(NOTIFY_CHANNEL, lambda *_: wake.set())
                wake.set()  # anything queued while we were not listening
                await _first_of(stop, lost)
            except (OSError, asyncpg.PostgresError, DBAPIError) as exc:
                log.warning("listen_failed", error=f"{type(exc).__name__}: {exc}")
            finally:
                with contextlib.suppress(OSError, asyncpg.PostgresError):
                    await connection.close(timeout=2)


# Metric outcomes: a message put back in the queue after a failed attempt is `deferred`; a
# webhook delivery left pending after one is `retrying`.
_MAIL_OUTCOMES = {
    MessageStatus.sent: "sent",
    MessageStatus.queued: "deferred",
    MessageStatus.failed: "failed",
}
_WEBHOOK_OUTCOMES = {
    DeliveryState.succeeded: "succeeded",
    DeliveryState.pending: "retrying",
    DeliveryState.failed: "failed",
}


def _count_mail(status: MessageStatus | None, failure: DeliveryFailed | None) -> None:
    """One attempt, by how it ended (`lost`: the lease passed to another worker meanwhile)."""
    outcome = "lost" if status is None else _MAIL_OUTCOMES.get(status, str(status))
    metrics.MAIL_ATTEMPTS.labels(outcome).inc()
    if failure is not None:
        metrics.MAIL_FAILURES.labels("permanent" if failure.permanent else "temporary").inc()


async def _first_of(*events: asyncio.Event, within: float | None = None) -> None:
    """Return when any of `events` is set, or after `within` seconds."""
    waits = [asyncio.create_task(event.wait()) for event in events]
    try:
        await asyncio.wait(waits, timeout=within, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in waits:
            task.cancel()
