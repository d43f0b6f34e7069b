"""The event log, read back: an application's timeline and the agency's feed. Events are
appended by `app.core.events.record_event`, in the transaction of the change they describe.

The timeline shows each event's details (ids and field names); the event feed and webhooks send
its snapshot, the object as `GET` answered then, which is emptied after the feed's retention.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import ColumnElement, or_, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Principal
from app.core.errors import CursorExpired
from app.core.pagination import PageParams, decode_values, encode_cursor, paginate
from app.models import Event

MAX_UUID = UUID(int=(1 << 128) - 1)


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
