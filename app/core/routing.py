"""Small helpers routers share: query types, and answering with a record and its ETag."""

from typing import Annotated, TypeVar
from uuid import UUID

from fastapi import Path, Query, Response, status
from pydantic import BaseModel

from app.core.etag import set_etag
from app.core.schemas import ExternalId, Instant

M = TypeVar("M", bound=BaseModel)

UpdatedAfter = Annotated[
    Instant | None,
    Query(
        description="Only records changed after this instant (RFC 3339, with offset). To resume "
        "a sync, pass the last `updated_at` you saw less a minute: writes running side by side "
        "commit in any order. `GET /v1/events` never skips a change."
    ),
]
ExternalIdPath = Annotated[ExternalId, Path(description="Your system's id for the record.")]
CandidateIdPath = Annotated[UUID, Path(description="The candidate's id.")]
ClientIdPath = Annotated[UUID, Path(description="The client's id.")]
ApplicationIdPath = Annotated[UUID, Path(description="The application's id.")]
InterviewIdPath = Annotated[UUID, Path(description="The interview's id.")]
ExternalIdQuery = Annotated[
    str | None, Query(max_length=200, description="Only the record with your system's id.")
]


def with_etag(response: Response, body: M, version: int) -> M:
    set_etag(response, version)
    return body


def upserted(response: Response, body: M, version: int, created: bool, location: str) -> M:
    """201 with Location when the PUT created the record, 200 when it replaced it."""
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    if created:
        response.headers["Location"] = location
    return with_etag(response, body, version)
