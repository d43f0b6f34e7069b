from uuid import UUID

from pydantic import Field, JsonValue

from app.core.schemas import InputModel, OutputModel, Timestamp
from app.models import MessageStatus, RefereeHeadsUp

EXAMPLE: dict[str, JsonValue] = {
    "referee_id": "0196f0b2-8888-7c0e-9a3b-1f2e3d4c5b6a",
    "why_want_job": "It is the network redesign she has been preparing for.",
    "key_points": "Led the 2024 WMS migration; cut picking errors by a third.",
}


class HeadsUpCreate(InputModel):
    model_config = {"json_schema_extra": {"examples": [EXAMPLE]}}

    referee_id: UUID = Field(description="A referee of the application's candidate.")
    why_want_job: str = Field(min_length=1, max_length=2000)
    key_points: str = Field(min_length=1, max_length=2000, description="What to emphasise.")


class HeadsUpRead(OutputModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    **EXAMPLE,
                    "id": "0196f0d5-5555-7c0e-9a3b-1f2e3d4c5b6a",
                    "application_id": "0196f0b4-4444-7c0e-9a3b-1f2e3d4c5b6a",
                    "message_id": "0196f0d1-1111-7c0e-9a3b-1f2e3d4c5b6a",
                    "message_status": "queued",
                    "created_at": "2026-12-05T10:00:00+00:00",
                }
            ]
        }
    }

    id: UUID
    application_id: UUID
    referee_id: UUID
    why_want_job: str
    key_points: str
    message_id: UUID | None
    message_status: MessageStatus | None = Field(
        default=None,
        description="Whether the heads-up went out (`cancelled` if the candidate withdrew).",
    )
    created_at: Timestamp

    @classmethod
    def of(cls, heads_up: RefereeHeadsUp, message_status: str | None) -> "HeadsUpRead":
        read = cls.model_validate(heads_up)
        status = MessageStatus(message_status) if message_status is not None else None
        return read.model_copy(update={"message_status": status})
