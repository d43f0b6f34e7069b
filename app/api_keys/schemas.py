from uuid import UUID

from pydantic import Field

from app.core.auth import Scope
from app.core.schemas import InputModel, OutputModel, SingleLine, Timestamp


class ApiKeyCreate(InputModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "name": "Bullhorn sync",
                    "scopes": ["records:read", "records:write", "events:read"],
                }
            ]
        }
    }

    name: SingleLine = Field(min_length=1, max_length=200, description="What the key is for.")
    scopes: list[Scope] | None = Field(
        default=None,
        min_length=1,
        description="What the key may do. Leave out for every scope but `users:write`.",
    )


class ApiKeyRead(OutputModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "id": "0196f0a8-3c1e-7b52-9d4e-2f7a1c9e5b10",
                    "name": "Bullhorn sync",
                    "prefix": "afv_aglpbkdsgf5fonlzpvxxmxhz4e_Q3d9Xk",
                    "scopes": ["records:read", "records:write", "events:read"],
                    "created_at": "2026-11-25T09:30:00+00:00",
                    "created_by_id": "0196f0a8-0000-7b52-9d4e-2f7a1c9e5b10",
                    "last_used_at": None,
                    "revoked_at": None,
                }
            ]
        }
    }

    id: UUID
    name: str
    prefix: str = Field(description="The start of the key, to tell keys apart. Not the secret.")
    scopes: list[Scope]
    created_at: Timestamp
    created_by_id: UUID | None
    last_used_at: Timestamp | None
    revoked_at: Timestamp | None


class ApiKeyCreated(ApiKeyRead):
    """Returned once, on creation: `key` is the secret and is never shown again."""

    key: str | None = Field(
        description="The secret. Store it now: only its hash is kept. Null when this is an "
        "idempotent replay (the secret is never stored, so never shown twice).",
        examples=["afv_aglpbkdsgf5fonlzpvxxmxhz4e_Q3d9Xk…"],
    )
