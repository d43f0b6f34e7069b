from typing import Any
from uuid import UUID

from pydantic import Field

from app.core.schemas import OutputModel, Timestamp


class AuditEntryRead(OutputModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "id": "0196f0a9-1a2b-7c3d-8e4f-5a6b7c8d9e0f",
                    "occurred_at": "2026-11-25T10:02:11+00:00",
                    "action": "user.created",
                    "object_type": "user",
                    "object_id": "0196f0a9-0000-7c3d-8e4f-5a6b7c8d9e0f",
                    "user_id": "0196f0a8-3c1e-7b52-9d4e-2f7a1c9e5b10",
                    "api_key_id": "0196f0a8-9999-7b52-9d4e-2f7a1c9e5b10",
                    "request_id": "9f1c2b7e4d3a4c1b8e2f6a5d7c9b0e1f",
                    "details": {"role": "consultant"},
                }
            ]
        }
    }

    id: UUID
    occurred_at: Timestamp
    action: str = Field(examples=["api_key.created"])
    object_type: str = Field(examples=["api_key"])
    object_id: UUID | None
    user_id: UUID | None = Field(
        description="The person acting: the logged-in user, or the user named in On-Behalf-Of."
    )
    api_key_id: UUID | None = Field(description="The API key used, if any.")
    request_id: str | None
    details: dict[str, Any] = Field(examples=[{"fields": ["name", "role"]}])
