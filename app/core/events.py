"""Recording an event: every change appends one, in the transaction that makes it. Reading them
back (the timeline, the feed) is `app/events/`."""

from typing import Any
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Principal
from app.core.clock import Clock
from app.core.event_catalogue import CATALOGUE
from app.core.requests import current_request_id
from app.models import Event


def stamped_by(principal: Principal, clock: Clock) -> dict[str, Any]:
    """What every log row (an event, an audit entry) says of its origin: the agency, when,
    the person or API key acting, and the request."""
    return {
        "agency_id": principal.agency_id,
        "occurred_at": clock.now(),
        "user_id": principal.user_id,
        "api_key_id": principal.api_key_id,
        "request_id": current_request_id.get(),
    }


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
        **stamped_by(principal, clock),
        via_link=principal.via,
        type=event_type,
        object_type=event_type.split(".", 1)[0],
        object_id=object_id,
        application_id=application_id,
        data=data,
        snapshot=snapshot,
    )
    session.add(event)
    return event
