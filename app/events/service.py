"""The event log: every change appends one event in the transaction that makes it.

The timeline shows each event's details (ids and field names); the event feed and webhooks send
its snapshot, the object as `GET` answered then, which is emptied after the feed's retention.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import ColumnElement, or_, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Principal
from app.core.clock import Clock
from app.core.errors import CursorExpired
from app.core.pagination import PageParams, decode_values, encode_cursor, paginate
from app.core.requests import current_request_id
from app.events.catalogue import CATALOGUE
from app.models import Event

MAX_UUID = UUID(int=(1 << 128) - 1)


def record_event(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    event_type: str,
    object_id: UUID,
    *,
    snapshot: BaseModel | dict[str, Any],
    application_id: UUID | None = None,
    **data: Any,
) -> Event:
    """Append `event_type` (`<object>.<verb>`, e.g. `candidate.updated`) about `object_id`.

    `snapshot` is the object as its `GET` answers now (the feed's and webhooks' `data`); `data`
    holds details for the timeline. Every type is in the published catalogue."""
    if event_type not in CATALOGUE:
        raise ValueError(f"{event_type} is not in the event catalogue")
    if isinstance(snapshot, BaseModel):
        snapshot = snapshot.model_dump(mode="json")
    event = Event(
        agency_id=principal.agency_id,
        occurred_at=clock.now(),
        type=event_type,
        object_type=event_type.split(".", 1)[0],
        object_id=object_id,
        application_id=application_id,
        user_id=principal.user_id,
        api_key_id=principal.api_key_id,
        request_id=current_request_id.get(),
        data=data,
        snapshot=snapshot,
    )
    session.add(event)
    return event


async def application_timeline(
    session: AsyncSession, principal: Principal, application_id: UUID, params: PageParams
) -> tuple[list[Event], str | None]:
    """The application's events, newest first."""
    stmt = select(Event).where(
        Event.agency_id == principal.agency_id, Event.application_id == application_id
    )
    return await paginate(session, stmt, [Event.occurred_at, Event.id], params, descending=True)


@dataclass(frozen=True)
class FeedPosition:
    """Where a reader of the feed stands: after the event `(txid, id)`, read at `at`."""

    txid: int
    event_id: UUID
    at: datetime

    def encode(self) -> str:
        return encode_cursor([self.txid, self.event_id, self.at])

    @classmethod
    def decode(cls, cursor: str) -> "FeedPosition":
        txid, event_id, at = decode_values(cursor, [int, UUID, datetime])
        return cls(txid, event_id, at)


async def feed(
    session: AsyncSession,
    principal: Principal,
    now: datetime,
    after: FeedPosition | None,
    types: Sequence[str],
    limit: int,
    retention: timedelta,
) -> tuple[list[Event], FeedPosition]:
    """The agency's events after `after`, oldest first, and where to resume.

    Gap-free: only events of transactions older than every one still running are served (their
    `txid` is below the snapshot's xmin), so none can later commit before the returned position.
    """
    horizon = now - retention
    if after is not None and after.at < horizon:
        raise CursorExpired(
            f"This cursor is from {after.at.isoformat()}; events are kept {retention.days} days."
        )
    visible_below = int(
        await session.scalar(select(text("pg_snapshot_xmin(pg_current_snapshot())::text::bigint")))
        or 0
    )
    stmt = select(Event).where(
        Event.agency_id == principal.agency_id,
        Event.txid < visible_below,
        Event.occurred_at >= horizon,
    )
    if after is not None:
        stmt = stmt.where(tuple_(Event.txid, Event.id) > tuple_(after.txid, after.event_id))
    if types:
        stmt = stmt.where(or_(*(_of_type(t) for t in types)))
    rows = list((await session.scalars(stmt.order_by(Event.txid, Event.id).limit(limit))).all())
    if len(rows) == limit:
        last = rows[-1]
        return rows, FeedPosition(last.txid, last.id, last.occurred_at)
    # Everything visible was read: resume after the last transaction that can still have
    # written events the reader has not seen (none below `visible_below` is left).
    return rows, FeedPosition(visible_below - 1, MAX_UUID, now)


def _of_type(pattern: str) -> ColumnElement[bool]:
    """`candidate.updated`, or every type of an object with `candidate.*`."""
    if pattern.endswith(".*"):
        return Event.type.startswith(pattern[:-1], autoescape=True)
    return Event.type == pattern
