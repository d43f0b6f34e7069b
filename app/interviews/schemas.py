from typing import Annotated
from uuid import UUID

from annotated_types import Interval
from pydantic import Field, JsonValue, field_validator

from app.core.schemas import (
    WHOLE_NUMBER,
    ExternalId,
    InputModel,
    Instant,
    OutputModel,
    Timestamp,
    UpdateModel,
)
from app.models import InterviewFormat, InterviewStatus

INTERVIEW_EXAMPLE: dict[str, JsonValue] = {
    "application_id": "0196f0b4-4444-7c0e-9a3b-1f2e3d4c5b6a",
    "starts_at": "2026-12-02T10:00:00+00:00",
    "ends_at": "2026-12-02T11:00:00+00:00",
    "round": 1,
    "format": "video",
    "interviewer_ids": ["0196f0b0-2222-7c0e-9a3b-1f2e3d4c5b6a"],
    "external_id": "bullhorn-int-5521",
}
Interviewers = list[UUID]
NO_REPEATS: dict[str, JsonValue] = {"uniqueItems": True}


def _no_repeated_interviewers(ids: list[UUID] | None) -> list[UUID] | None:
    if ids is not None and len(set(ids)) != len(ids):
        raise ValueError("interviewer_ids must not repeat a contact")
    return ids


class InterviewFields(InputModel):
    application_id: UUID
    starts_at: Instant
    ends_at: Instant
    round: Annotated[int, Interval(ge=1, le=50), WHOLE_NUMBER] | None = None
    format: InterviewFormat
    interviewer_ids: Interviewers = Field(
        default_factory=list,
        max_length=20,
        description="Contacts of the vacancy's client who interview, in order.",
        json_schema_extra=NO_REPEATS,
    )

    _no_repeats = field_validator("interviewer_ids")(_no_repeated_interviewers)


class InterviewCreate(InterviewFields):
    model_config = {"json_schema_extra": {"examples": [INTERVIEW_EXAMPLE]}}

    external_id: ExternalId | None = None


class InterviewReplace(InterviewFields):
    model_config = {
        "json_schema_extra": {
            "examples": [{k: v for k, v in INTERVIEW_EXAMPLE.items() if k != "external_id"}]
        }
    }


class InterviewUpdate(UpdateModel):
    """Send only what changes. Requires `If-Match`. A cancelled interview cannot change."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {"starts_at": "2026-12-03T14:00:00+00:00", "ends_at": "2026-12-03T15:00:00+00:00"}
            ]
        }
    }
    nullable = frozenset({"round", "external_id"})

    starts_at: Instant | None = None
    ends_at: Instant | None = None
    round: Annotated[int, Interval(ge=1, le=50), WHOLE_NUMBER] | None = None
    format: InterviewFormat | None = None
    interviewer_ids: Interviewers | None = Field(
        default=None, max_length=20, json_schema_extra=NO_REPEATS
    )
    external_id: ExternalId | None = None

    _no_repeats = field_validator("interviewer_ids")(_no_repeated_interviewers)


class InterviewRead(OutputModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    **INTERVIEW_EXAMPLE,
                    "id": "0196f0b5-5555-7c0e-9a3b-1f2e3d4c5b6a",
                    "status": "scheduled",
                    "cancelled_at": None,
                    "created_at": "2026-11-25T09:30:00+00:00",
                    "updated_at": "2026-11-25T09:30:00+00:00",
                }
            ]
        }
    }

    id: UUID
    application_id: UUID
    starts_at: Timestamp
    ends_at: Timestamp
    round: int | None
    format: InterviewFormat
    interviewer_ids: list[UUID]
    status: InterviewStatus
    cancelled_at: Timestamp | None
    external_id: str | None
    created_at: Timestamp
    updated_at: Timestamp
