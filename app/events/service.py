"""The event log: every change appends one event in the transaction that makes it.

Events carry ids and field names only, never personal data: the timeline, the event feed and
webhooks are all built on them.
"""

from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Principal
from app.core.clock import Clock
from app.core.pagination import PageParams, paginate
from app.core.requests import current_request_id
from app.models import Event


def record_event(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    event_type: str,
    object_id: UUID,
    *,
    application_id: UUID | None = None,
    **data: Any,
) -> Event:
    """Append `event_type` (`<object>.<verb>`, e.g. `candidate.updated`) about `object_id`."""
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
