"""Webhook deliveries seen from the worker: claim due ones across agencies, sign and post each
(Standard Webhooks v1), record the attempt, retry on the schedule, and disable an endpoint that
has been failing for five days (its agency's admins are emailed).

As with mail, a claim is a lease: a worker that dies loses it and the delivery is sent again,
with the same `webhook-id` (the event's id), so the receiver can drop the copy."""

import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.agency.service import get_agency
from app.core.auth import Principal
from app.core.clock import Clock, SystemClock
from app.core.ids import AgencyId, new_id
from app.core.timestamps import touch
from app.messages.service import Recipient, queue_message
from app.models import (
    DeliveryState,
    Event,
    MessageKind,
    RecipientType,
    Role,
    User,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from app.webhooks.guard import Lookup, ResolverUnavailable, UrlRefused, system_lookup, vet
from app.webhooks.secrets import WebhookSecrets

_CLAIM = text(
    "SELECT agency_id, id, lease_token FROM claim_webhook_deliveries(:at, :batch, :lease)"
)
TIMEOUT_SECONDS = 10.0
EXCERPT_BYTES = 1024
DISABLE_AFTER = timedelta(days=5)
USER_AGENT = "Afterview-Webhooks/1"


@dataclass(frozen=True)
class WebhookClaim:
    agency_id: AgencyId
    delivery_id: UUID
    token: UUID


@dataclass(frozen=True)
class WebhookPolicy:
    secrets: WebhookSecrets
    retry_delays: tuple[timedelta, ...]
    allow_private: bool
    wall_clock: Clock = field(default_factory=SystemClock)
    """`webhook-timestamp` is when the request leaves, by the real clock: receivers hold it
    against theirs to refuse replays."""
    lookup: Lookup = system_lookup


@dataclass(frozen=True)
class Post:
    """A signed request, ready to go."""

    url: str
    headers: dict[str, str]
    body: str


@dataclass(frozen=True)
class Answer:
    """What came back (or why nothing did)."""

    status_code: int | None
    duration_ms: int
    excerpt: str | None
    error: str | None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


async def claim_due(
    session: AsyncSession, now: datetime, batch: int, lease_seconds: int
) -> list[WebhookClaim]:
    rows = await session.execute(_CLAIM, {"at": now, "batch": batch, "lease": lease_seconds})
    return [WebhookClaim(AgencyId(row.agency_id), row.id, row.lease_token) for row in rows]


async def prepare(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    claim: WebhookClaim,
    policy: WebhookPolicy,
) -> Post | None:
    """The signed request for a claimed delivery; None when there is nothing to send (the lease
    was lost, or the endpoint was disabled meanwhile: then the delivery fails)."""
    delivery = await _held(session, principal, claim)
    if delivery is None:
        return None
    endpoint = await _endpoint(session, principal, delivery.endpoint_id)
    if not endpoint.enabled:
        _settle(clock, delivery, DeliveryState.failed)
        delivery.last_error = "the endpoint is disabled"
        return None
    event = await session.scalar(
        select(Event).where(Event.agency_id == principal.agency_id, Event.id == delivery.event_id)
    )
    assert event is not None  # the composite foreign key guarantees it
    now, sent_at = clock.now(), policy.wall_clock.now()
    body = json.dumps(
        {"type": event.type, "timestamp": event.occurred_at.isoformat(), "data": event.snapshot},
        separators=(",", ":"),
    )
    message_id = str(event.id)
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": policy.secrets.signature(endpoint, now, message_id, sent_at, body),
    }
    return Post(endpoint.url, headers, body)


async def post(
    client: httpx.AsyncClient, request: Post, allow_private: bool, lookup: Lookup = system_lookup
) -> Answer:
    """POST to the vetted address (never one the URL's host resolves to only later), without
    following redirects; 10 s at most; keep the first 1 KB of the answer."""
    started = time.perf_counter()
    try:
        target = await vet(request.url, allow_private, lookup)
    except UrlRefused as exc:
        return Answer(None, _ms(started), None, f"refused: the URL {exc}")
    except ResolverUnavailable as exc:
        return Answer(None, _ms(started), None, f"DNS: {exc}")
    parts = urlsplit(request.url)
    address = f"[{target.address}]" if ":" in target.address else target.address
    pinned = urlunsplit(parts._replace(netloc=f"{address}:{target.port}"))
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    headers = {**request.headers, "host": parts.netloc.rsplit("@", 1)[-1]}
    try:
        async with client.stream(
            "POST", pinned, content=request.body, headers=headers, extensions=extensions
        ) as response:
            excerpt = await _first_bytes(response)
            return Answer(response.status_code, _ms(started), excerpt, None)
    except httpx.TimeoutException:
        return Answer(None, _ms(started), None, f"no answer within {TIMEOUT_SECONDS:.0f} s")
    except httpx.HTTPError as exc:
        return Answer(None, _ms(started), None, f"{type(exc).__name__}: {exc}"[:500])


async def finish(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    claim: WebhookClaim,
    answer: Answer,
    policy: WebhookPolicy,
) -> DeliveryState | None:
    """Record the attempt; succeed, schedule the next one, or give up. None when the lease was
    lost meanwhile."""
    delivery = await _held(session, principal, claim)
    if delivery is None:
        return None
    now = clock.now()
    retry_at = _retry_at(delivery.attempts, now, policy) if not answer.succeeded else None
    session.add(
        WebhookAttempt(
            agency_id=principal.agency_id,
            id=new_id(),
            delivery_id=delivery.id,
            attempt=delivery.attempts,
            attempted_at=now,
            status_code=answer.status_code,
            duration_ms=answer.duration_ms,
            response_excerpt=answer.excerpt,
            error=answer.error,
            next_attempt_at=retry_at,
        )
    )
    delivery.last_status_code, delivery.last_error = answer.status_code, answer.error
    if answer.succeeded:
        _settle(clock, delivery, DeliveryState.succeeded)
        delivery.delivered_at = now
        await _endpoint_succeeded(session, principal, delivery.endpoint_id, now)
    else:
        state = DeliveryState.pending if retry_at else DeliveryState.failed
        _settle(clock, delivery, state)
        delivery.next_attempt_at = retry_at
        await _endpoint_failed(session, principal, clock, delivery.endpoint_id)
    await session.flush()
    return DeliveryState(delivery.state)


async def release(session: AsyncSession, principal: Principal, claim: WebhookClaim) -> None:
    """Give a claimed, unsent delivery back (the worker is stopping): the attempt uncounted."""
    delivery = await _held(session, principal, claim)
    if delivery is not None:
        delivery.lease_until = delivery.lease_token = None
        delivery.attempts = max(delivery.attempts - 1, 0)
        await session.flush()


def _retry_at(attempts: int, now: datetime, policy: WebhookPolicy) -> datetime | None:
    """After attempt `attempts` (1-based): the next try, or None when the schedule is spent."""
    if attempts > len(policy.retry_delays):
        return None
    return now + policy.retry_delays[attempts - 1]


async def _held(
    session: AsyncSession, principal: Principal, claim: WebhookClaim
) -> WebhookDelivery | None:
    found: WebhookDelivery | None = await session.scalar(
        select(WebhookDelivery)
        .where(
            WebhookDelivery.agency_id == principal.agency_id,
            WebhookDelivery.id == claim.delivery_id,
            WebhookDelivery.state == DeliveryState.pending,
            WebhookDelivery.lease_token == claim.token,
        )
        .with_for_update()
    )
    return found


async def _endpoint(
    session: AsyncSession, principal: Principal, endpoint_id: UUID
) -> WebhookEndpoint:
    endpoint = await session.scalar(
        select(WebhookEndpoint).where(
            WebhookEndpoint.agency_id == principal.agency_id, WebhookEndpoint.id == endpoint_id
        )
    )
    assert endpoint is not None  # deliveries go with their endpoint (ON DELETE CASCADE)
    return endpoint


def _settle(clock: Clock, delivery: WebhookDelivery, state: DeliveryState) -> None:
    now = clock.now()
    delivery.state = state
    touch(delivery, now)
    delivery.lease_until = delivery.lease_token = None
    if state != DeliveryState.pending:
        delivery.next_attempt_at = None


async def _endpoint_succeeded(
    session: AsyncSession, principal: Principal, endpoint_id: UUID, now: datetime
) -> None:
    # Bookkeeping, not a change anyone made: the endpoint's ETag (version) stays.
    await session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.agency_id == principal.agency_id, WebhookEndpoint.id == endpoint_id)
        .values(failing_since=None, last_success_at=now)
        .execution_options(synchronize_session=False)
    )


async def _endpoint_failed(
    session: AsyncSession, principal: Principal, clock: Clock, endpoint_id: UUID
) -> None:
    """Start the failing clock; five days of failures disable the endpoint."""
    now = clock.now()
    endpoint = await session.scalar(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.agency_id == principal.agency_id, WebhookEndpoint.id == endpoint_id)
        # NO KEY UPDATE: events fanning out (FOR KEY SHARE) need not wait for this.
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    assert endpoint is not None
    if endpoint.failing_since is None:
        await session.execute(
            update(WebhookEndpoint)
            .where(
                WebhookEndpoint.agency_id == principal.agency_id, WebhookEndpoint.id == endpoint_id
            )
            .values(failing_since=now)
            .execution_options(synchronize_session=False)
        )
        return
    if endpoint.enabled and now - endpoint.failing_since >= DISABLE_AFTER:
        endpoint.enabled = False
        touch(endpoint, now)
        endpoint.disabled_reason = (
            f"Every delivery failed since {endpoint.failing_since.isoformat()}: disabled after "
            f"{DISABLE_AFTER.days} days. Fix the receiver, then enable it again."
        )
        await session.flush()
        await _tell_admins(session, principal, clock, endpoint)


async def _tell_admins(
    session: AsyncSession, principal: Principal, clock: Clock, endpoint: WebhookEndpoint
) -> None:
    agency = await get_agency(session, principal)
    zone = ZoneInfo(agency.timezone)
    assert endpoint.failing_since is not None
    admins = await session.scalars(
        select(User).where(
            User.agency_id == principal.agency_id, User.active, User.role == Role.admin
        )
    )
    for admin in admins.all():
        await queue_message(
            session,
            principal,
            clock,
            MessageKind.webhook_disabled,
            Recipient(RecipientType.user, admin.id, admin.email, admin.name),
            {
                "agency_name": agency.sender_name or agency.name,
                "endpoint_url": endpoint.url,
                "endpoint_description": endpoint.description or "",
                "failing_since": endpoint.failing_since.astimezone(zone).strftime(
                    "%a %d %b %Y %H:%M"
                ),
            },
            dedupe_key=f"webhook_disabled:{endpoint.id}:{endpoint.failing_since.isoformat()}",
            related={"webhook_endpoint_id": str(endpoint.id)},
        )


async def _first_bytes(response: httpx.Response) -> str | None:
    kept = b""
    async for chunk in response.aiter_raw():
        kept += chunk
        if len(kept) >= EXCERPT_BYTES:
            break
    return kept[:EXCERPT_BYTES].decode("utf-8", errors="replace") or None


def _ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
