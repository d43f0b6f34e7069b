import re
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from app.applications.service import applications
from app.core.auth import EventsReader, WorkflowReader
from app.core.deps import ClockDep, SessionDep
from app.core.errors import CursorExpired, InvalidCursor, ValidationFailed
from app.core.event_catalogue import SUBSCRIBABLE, catalogue_markdown, unknown_types
from app.core.pagination import Page, PageQuery
from app.core.problem_docs import raises
from app.core.routing import ApplicationIdPath
from app.core.state import SettingsDep
from app.events.schemas import EventPage, EventRead, TimelineEntry
from app.events.service import FeedPosition, application_timeline, feed

router = APIRouter(tags=["Pipeline"])
feed_router = APIRouter(tags=["Integrations"])

FEED_DESCRIPTION = f"""
Every change to your agency's records and workflow steps, oldest first, for an integration to
follow: pass `next` back as `after` (it is never null) and you never skip an event, even when
transactions commit out of order (an event is served only once no older transaction can still
commit one before it). The same events drive webhooks: an event's `id` is the `webhook-id` of
its deliveries, so you can deduplicate across both. Events are served for
`AFTERVIEW_EVENT_RETENTION_DAYS` (at least 30) days; an older cursor is 410 `cursor-expired`.

`data` is the object as its `GET` answered at that moment:

{catalogue_markdown()}
"""


_ONE_TYPE = "|".join(re.escape(name) for name in SUBSCRIBABLE)
TYPES_PATTERN = f"^ *(?:(?:{_ONE_TYPE})(?: *, *(?:{_ONE_TYPE}))*)? *$"


def _types(raw: str | None) -> list[str]:
    """`types=candidate.updated,follow_up.*`: known types, or every type of a known object."""
    if not raw or not raw.strip(" "):
        return []
    wanted = [name.strip(" ") for name in raw.split(",")]
    unknown = unknown_types(wanted)
    if unknown:
        message = f"not in the event catalogue: {', '.join(unknown)}"
        raise ValidationFailed.at_field("types", message, location="query")
    return wanted


@feed_router.get(
    "/v1/events",
    summary="The event feed: every change, gap-free, to resume from where you left off",
    description=FEED_DESCRIPTION,
    openapi_extra=raises(CursorExpired, InvalidCursor),
)
async def read_event_feed(
    principal: EventsReader,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    after: Annotated[
        str | None,
        Query(max_length=512, description="`next` of the previous page; none: the oldest kept."),
    ] = None,
    types: Annotated[
        str | None,
        Query(
            max_length=2000,
            json_schema_extra={"pattern": TYPES_PATTERN},
            description="Comma-separated types, or `<object>.*`: `application.*,follow_up.sent`.",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="Page size, at most 1000.")] = 100,
) -> EventPage:
    retention = timedelta(days=settings.event_retention_days)
    position = FeedPosition.decode(after) if after else None
    events, resume = await feed(
        session, principal, clock.now(), position, _types(types), limit, retention
    )
    return EventPage(items=[EventRead.of(e) for e in events], next=resume.encode())


@router.get(
    "/v1/applications/{application_id}/timeline",
    summary="Everything that happened to an application, newest first, and who did it",
)
async def read_timeline(
    principal: WorkflowReader,
    session: SessionDep,
    application_id: ApplicationIdPath,
    page: PageQuery,
) -> Page[TimelineEntry]:
    await applications.get(session, principal, application_id)
    events, next_cursor = await application_timeline(session, principal, application_id, page)
    return Page(items=[TimelineEntry.of(e) for e in events], next=next_cursor)
