"""Webhook endpoints and their deliveries: the rules behind `/v1/webhook-endpoints`."""

import os
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.core.auth import Principal
from app.core.clock import Clock
from app.core.errors import (
    DeliveryPending,
    NotFound,
    ServiceUnavailable,
    WebhookUrlRefused,
)
from app.core.etag import ensure_match
from app.core.events import record_event
from app.core.ids import new_row_id
from app.core.pagination import PageParams, paginate
from app.core.records import get_owned, hold
from app.core.timestamps import touch
from app.models import DeliveryState, Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from app.webhooks.guard import Lookup, ResolverUnavailable, UrlRefused, system_lookup, vet
from app.webhooks.schemas import (
    WebhookAttemptRead,
    WebhookDeliveryRead,
    WebhookEndpointCreate,
    WebhookEndpointRead,
    WebhookEndpointUpdate,
)
from app.webhooks.secrets import ROTATION_OVERLAP, WebhookSecrets

RESOLVER_RETRY_AFTER_SECONDS = 10
MISSING_ENDPOINT = "No webhook endpoint with that id."


@dataclass(frozen=True)
class WebhookConfig:
    secrets: WebhookSecrets
    allow_private: bool
    lookup: Lookup = system_lookup


def _salt() -> bytes:
    return os.urandom(32)


async def _check_url(url: str, config: WebhookConfig) -> None:
    try:
        await vet(url, config.allow_private, config.lookup)
    except UrlRefused as exc:
        raise WebhookUrlRefused.at_field("url", str(exc)) from None
    except ResolverUnavailable as exc:
        problem = ServiceUnavailable(f"The URL's host could not be checked just now ({exc}).")
        problem.headers["Retry-After"] = str(RESOLVER_RETRY_AFTER_SECONDS)
        raise problem from None


async def create_endpoint(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    config: WebhookConfig,
    data: WebhookEndpointCreate,
) -> tuple[WebhookEndpoint, str]:
    """The endpoint and its signing secret (shown once)."""
    url = str(data.url)
    await _check_url(url, config)
    now = clock.now()
    endpoint = WebhookEndpoint(
        agency_id=principal.agency_id,
        id=new_row_id("webhook_endpoint"),
        url=url,
        event_types=data.event_types,
        description=data.description,
        enabled=data.enabled,
        secret_salt=_salt(),
        created_at=now,
        updated_at=now,
    )
    session.add(endpoint)
    await session.flush()
    audit.record(
        session, principal, clock, "webhook_endpoint.created", ("webhook_endpoint", endpoint.id)
    )
    return endpoint, config.secrets.current(endpoint)


async def get_endpoint(
    session: AsyncSession, principal: Principal, endpoint_id: UUID
) -> WebhookEndpoint:
    return await get_owned(session, WebhookEndpoint, principal, endpoint_id, MISSING_ENDPOINT)


async def list_endpoints(session: AsyncSession, principal: Principal) -> list[WebhookEndpoint]:
    found = await session.scalars(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.agency_id == principal.agency_id)
        .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
    )
    return list(found.all())


async def update_endpoint(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    config: WebhookConfig,
    endpoint_id: UUID,
    changes: WebhookEndpointUpdate,
    if_match: str | None,
) -> WebhookEndpoint:
    endpoint = await get_endpoint(session, principal, endpoint_id)
    ensure_match(if_match, endpoint.version)
    fields: dict[str, Any] = changes.model_dump(exclude_unset=True)
    if "url" in fields:
        fields["url"] = str(changes.url)
        await _check_url(fields["url"], config)
    if fields.get("enabled") is True:
        endpoint.disabled_reason, endpoint.failing_since = None, None
    changed = sorted(k for k, v in fields.items() if getattr(endpoint, k) != v)
    for name in changed:
        setattr(endpoint, name, fields[name])
    if changed:
        touch(endpoint, clock.now())
        await session.flush()
        audit.record(
            session,
            principal,
            clock,
            "webhook_endpoint.updated",
            ("webhook_endpoint", endpoint.id),
            fields=changed,
        )
    return endpoint


async def delete_endpoint(
    session: AsyncSession, principal: Principal, clock: Clock, endpoint_id: UUID
) -> None:
    """The endpoint and its deliveries go; the events stay in the feed."""
    endpoint = await get_endpoint(session, principal, endpoint_id)
    # A worker settling a delivery locks it, then its endpoint. The cascade would lock the
    # endpoint, then its deliveries: the two deadlocked. Take the deliveries first, as it does.
    await session.execute(
        select(WebhookDelivery.id)
        .where(
            WebhookDelivery.agency_id == principal.agency_id,
            WebhookDelivery.endpoint_id == endpoint.id,
        )
        .order_by(WebhookDelivery.id)
        .with_for_update()
    )
    audit.record(
        session, principal, clock, "webhook_endpoint.deleted", ("webhook_endpoint", endpoint.id)
    )
    await session.delete(endpoint)
    await session.flush()


async def rotate_secret(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    config: WebhookConfig,
    endpoint_id: UUID,
) -> tuple[WebhookEndpoint, str]:
    """A new secret; deliveries carry both signatures for the next 24 hours."""
    endpoint = await get_endpoint(session, principal, endpoint_id)
    now = clock.now()
    endpoint.previous_secret_salt, endpoint.secret_salt = endpoint.secret_salt, _salt()
    endpoint.previous_secret_until = now + ROTATION_OVERLAP
    touch(endpoint, now)
    await session.flush()
    audit.record(
        session,
        principal,
        clock,
        "webhook_endpoint.secret_rotated",
        ("webhook_endpoint", endpoint.id),
    )
    return endpoint, config.secrets.current(endpoint)


async def send_test(
    session: AsyncSession, principal: Principal, clock: Clock, endpoint_id: UUID
) -> tuple[WebhookDelivery, Event]:
    """A `webhook.test` event delivered to this endpoint only (enabled or not)."""
    endpoint = await get_endpoint(session, principal, endpoint_id)
    # A DELETE running alongside is waited for: then 404, not a delivery for an endpoint gone.
    if not await hold(session, principal, endpoint, key_share=True):
        raise NotFound(MISSING_ENDPOINT)
    event = record_event(
        session,
        principal,
        clock,
        "webhook.test",
        endpoint.id,
        snapshot=WebhookEndpointRead.model_validate(endpoint),
    )
    await session.flush()
    now = clock.now()
    delivery = WebhookDelivery(
        agency_id=principal.agency_id,
        id=new_row_id("webhook_delivery"),
        endpoint_id=endpoint.id,
        event_id=event.id,
        state=DeliveryState.pending,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(delivery)
    await session.flush()
    return delivery, event


async def list_deliveries(
    session: AsyncSession, principal: Principal, endpoint_id: UUID, params: PageParams
) -> tuple[list[WebhookDeliveryRead], str | None]:
    """The endpoint's deliveries, newest first, each with its attempts."""
    await get_endpoint(session, principal, endpoint_id)
    stmt = select(WebhookDelivery).where(
        WebhookDelivery.agency_id == principal.agency_id,
        WebhookDelivery.endpoint_id == endpoint_id,
    )
    page, next_cursor = await paginate(
        session, stmt, [WebhookDelivery.created_at, WebhookDelivery.id], params, descending=True
    )
    return await _reads(session, principal, page), next_cursor


async def retry_delivery(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    endpoint_id: UUID,
    delivery_id: UUID,
) -> WebhookDeliveryRead:
    """Send a finished delivery again, with a fresh set of attempts."""
    await get_endpoint(session, principal, endpoint_id)
    delivery = await get_owned(
        session,
        WebhookDelivery,
        principal,
        delivery_id,
        "No delivery with that id for that endpoint.",
        where=[WebhookDelivery.endpoint_id == endpoint_id],
        lock=True,
    )
    if delivery.state == DeliveryState.pending:
        raise DeliveryPending("It is still being delivered.")
    now = clock.now()
    delivery.state, delivery.attempts, delivery.next_attempt_at = DeliveryState.pending, 0, now
    delivery.lease_until = delivery.lease_token = None
    touch(delivery, now)
    await session.flush()
    audit.record(
        session, principal, clock, "webhook_delivery.retried", ("webhook_delivery", delivery.id)
    )
    (read,) = await _reads(session, principal, [delivery])
    return read


async def _reads(
    session: AsyncSession, principal: Principal, deliveries: list[WebhookDelivery]
) -> list[WebhookDeliveryRead]:
    """The deliveries as the API shows them: with their event's type and every attempt."""
    if not deliveries:
        return []
    rows = await session.execute(
        select(Event.id, Event.type).where(
            Event.agency_id == principal.agency_id,
            Event.id.in_([d.event_id for d in deliveries]),
        )
    )
    types = {row.id: row.type for row in rows}
    attempts = await _attempts(session, principal, [d.id for d in deliveries])
    return [delivery_read(d, types[d.event_id], attempts.get(d.id, [])) for d in deliveries]


async def _attempts(
    session: AsyncSession, principal: Principal, delivery_ids: list[UUID]
) -> dict[UUID, list[WebhookAttempt]]:
    if not delivery_ids:
        return {}
    rows = await session.scalars(
        select(WebhookAttempt)
        .where(
            WebhookAttempt.agency_id == principal.agency_id,
            WebhookAttempt.delivery_id.in_(delivery_ids),
        )
        .order_by(WebhookAttempt.attempted_at.desc(), WebhookAttempt.id.desc())
    )
    found: dict[UUID, list[WebhookAttempt]] = {}
    for attempt in rows:
        found.setdefault(attempt.delivery_id, []).append(attempt)
    return found


def delivery_read(
    delivery: WebhookDelivery, event_type: str, attempts: list[WebhookAttempt]
) -> WebhookDeliveryRead:
    last = attempts[0] if attempts else None
    return WebhookDeliveryRead(
        id=delivery.id,
        event_id=delivery.event_id,
        event_type=event_type,
        state=DeliveryState(delivery.state),
        attempt=delivery.attempts,
        status_code=last.status_code if last else None,
        duration_ms=last.duration_ms if last else None,
        response_excerpt=last.response_excerpt if last else None,
        next_attempt_at=delivery.next_attempt_at
        if delivery.state == DeliveryState.pending
        else None,
        delivered_at=delivery.delivered_at,
        created_at=delivery.created_at,
        attempts=[WebhookAttemptRead.model_validate(a) for a in attempts],
    )
