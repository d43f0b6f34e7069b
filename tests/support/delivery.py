"""A worker in the test's own process and clock, and reading the outbox as its agency."""

import random
from typing import Any
from uuid import UUID

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.clock import Clock
from app.core.db import tenant_transaction
from app.core.ids import AgencyId
from app.core.settings import Settings
from app.delivery.mail import Mailbox, Transport
from app.delivery.outbox import RetryPolicy
from app.delivery.webhooks import WebhookPolicy
from app.delivery.worker import Worker, WorkerOptions
from app.feedback.links import FeedbackLinks
from app.models import Message
from app.webhooks.secrets import WebhookSecrets
from tests.support.tenants import Tenant

DEFAULT_SENDER = Mailbox("Afterview Test", "noreply@afterview.test")
RETRY = RetryPolicy(max_attempts=8, base_seconds=600)


def make_worker(
    app: FastAPI,
    clock: Clock,
    transport: Transport,
    sessions: async_sessionmaker[AsyncSession] | None = None,
    **options: Any,
) -> Worker:
    """A worker on the app's database (or its own `sessions`) and clock; `options` override
    WorkerOptions."""
    hooks = WebhookPolicy(
        WebhookSecrets(app.state.jwt_secret),
        Settings().webhook_retry_delays,
        allow_private=app.state.settings.webhooks_allow_private,
    )
    settings = {
        "default_sender": DEFAULT_SENDER,
        "retry": RETRY,
        "webhook_policy": hooks,
        **options,
    }
    return Worker(
        sessions or app.state.sessions,
        transport,
        clock,
        FeedbackLinks(app.state.jwt_secret, app.state.settings.public_url),
        WorkerOptions(**settings),
        rng=random.Random(7),
    )


async def outbox_rows(tenant: Tenant, **where: Any) -> list[Message]:
    """The agency's message rows (every column, as the database holds them), oldest first."""
    stmt = select(Message).where(Message.agency_id == tenant.agency_id)
    for column, value in where.items():
        stmt = stmt.where(getattr(Message, column) == value)
    async with tenant_transaction(tenant.app.state.sessions, AgencyId(tenant.agency_id)) as s:
        return list((await s.scalars(stmt.order_by(Message.created_at, Message.id))).all())


async def outbox_row(tenant: Tenant, message_id: UUID | str) -> Message:
    rows = await outbox_rows(tenant, id=UUID(str(message_id)))
    assert len(rows) == 1, f"no message {message_id}"
    return rows[0]
