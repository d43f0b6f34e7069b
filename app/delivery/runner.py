"""A worker built from the process settings: its transport, its sender, its own pool."""

import asyncio
from datetime import timedelta

from app.core.clock import Clock, SystemClock
from app.core.db import create_engine, session_factory, to_libpq_url
from app.core.settings import Settings
from app.delivery.mail_settings import default_sender, transport_for
from app.delivery.outbox import RetryPolicy
from app.delivery.webhooks import WebhookPolicy
from app.delivery.worker import Worker, WorkerOptions
from app.feedback.links import FeedbackLinks
from app.webhooks.secrets import WebhookSecrets


def worker_options(settings: Settings, jwt_secret: str | None = None) -> WorkerOptions:
    """The worker's options; it sends webhooks once it knows the server secret they are
    signed with."""
    hooks = (
        WebhookPolicy(
            WebhookSecrets(jwt_secret),
            settings.webhook_retry_delays,
            settings.webhooks_allow_private,
        )
        if jwt_secret
        else None
    )
    return WorkerOptions(
        default_sender=default_sender(settings),
        retry=RetryPolicy(settings.mail_max_attempts, settings.mail_retry_base_seconds),
        batch_size=settings.worker_batch_size,
        lease_seconds=settings.worker_lease_seconds,
        concurrency=settings.worker_concurrency,
        poll_seconds=settings.worker_poll_seconds,
        event_retention=timedelta(days=settings.event_retention_days),
        webhook_policy=hooks,
    )


async def run_worker(
    settings: Settings,
    runtime_url: str,
    jwt_secret: str,
    public_url: str,
    stop: asyncio.Event,
    clock: Clock | None = None,
) -> None:
    """Run one worker, with its own connection pool, until `stop` is set."""
    engine = create_engine(runtime_url, pool_size=settings.worker_concurrency + 2, max_overflow=0)
    try:
        worker = Worker(
            session_factory(engine),
            transport_for(settings),
            clock or SystemClock(),
            FeedbackLinks(jwt_secret, public_url),
            worker_options(settings, jwt_secret),
        )
        await worker.run(stop, to_libpq_url(runtime_url))
    finally:
        await engine.dispose()
