"""A worker built from the process settings: its transport, its sender, its own pool."""

import asyncio
from datetime import timedelta
from pathlib import Path

from app.core.clock import Clock, SystemClock
from app.core.db import create_engine, session_factory, to_libpq_url
from app.core.settings import Settings
from app.delivery.mail import Mailbox, MailboxTransport, SmtpConfig, SmtpTransport, Transport
from app.delivery.outbox import RetryPolicy
from app.delivery.webhooks import WebhookPolicy
from app.delivery.worker import Worker, WorkerOptions
from app.feedback.links import FeedbackLinks
from app.webhooks.secrets import WebhookSecrets

LOCAL_SENDER = Mailbox("Afterview", "afterview@localhost")


class MailNotConfigured(RuntimeError):
    """The worker has nowhere to send mail, or no sender to send it as."""


def mailbox_dir(settings: Settings) -> Path | None:
    """Where `.eml` files go when there is no SMTP: the setting, or the embedded data dir."""
    if settings.smtp_url is not None:
        return None
    if settings.mailbox_dir is not None:
        return settings.mailbox_dir.resolve()
    return (settings.data_dir / "mailbox").resolve() if settings.embedded else None


def transport_for(settings: Settings) -> Transport:
    if settings.smtp_url is not None:
        try:
            config = SmtpConfig.from_url(settings.smtp_url.get_secret_value())
        except ValueError as exc:
            raise MailNotConfigured(f"AFTERVIEW_SMTP_URL: {exc}") from None
        return SmtpTransport(config, max_connections=settings.worker_concurrency)
    directory = mailbox_dir(settings)
    if directory is None:
        raise MailNotConfigured(
            "set AFTERVIEW_SMTP_URL to send mail, or AFTERVIEW_MAILBOX_DIR to write .eml files"
        )
    return MailboxTransport(directory)


def default_sender(settings: Settings) -> Mailbox:
    """From, for agencies without a sender_email. With real SMTP it must be set explicitly."""
    if settings.mail_from:
        try:
            return Mailbox.parse(settings.mail_from)
        except ValueError as exc:
            raise MailNotConfigured(f"AFTERVIEW_MAIL_FROM: {exc}") from None
    if settings.smtp_url is not None:
        raise MailNotConfigured(
            "set AFTERVIEW_MAIL_FROM: the sender for agencies without a sender_email"
        )
    return LOCAL_SENDER


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


def check_worker_settings(settings: Settings) -> str:
    """Raise MailNotConfigured with a one-line reason, or describe where mail will go."""
    worker_options(settings)
    return transport_for(settings).describe()


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
