from typing import Any
from uuid import UUID

from pydantic import Field

from app.core.schemas import OutputModel, Timestamp


class AuditEntryRead(OutputModel):
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
