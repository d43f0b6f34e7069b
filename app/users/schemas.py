from typing import Annotated
from uuid import UUID

from pydantic import Field, StrictBool, StringConstraints

from app.core.schemas import Email, InputModel, OutputModel, SingleLine, Timestamp, UpdateModel
from app.models import Role

Password = Annotated[str, StringConstraints(strip_whitespace=False)]
"""Kept exactly as typed: spaces at either end are part of a password."""
PASSWORD = Field(min_length=12, max_length=256, description="At least 12 characters. Write-only.")


class UserCreate(InputModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "email": "priya.shah@northbridge-talent.co.uk",
                    "name": "Priya Shah",
                    "password": "correct-horse-battery-staple",
                    "role": "consultant",
                }
            ]
        }
    }

    email: Email
    name: SingleLine = Field(min_length=1, max_length=200)
    password: Password = PASSWORD
    role: Role = Role.consultant


class UserUpdate(UpdateModel):
    """Send only what changes. Requires `If-Match`."""

    model_config = {"json_schema_extra": {"examples": [{"role": "admin"}, {"active": False}]}}

    email: Email | None = None
    name: SingleLine | None = Field(default=None, min_length=1, max_length=200)
    password: Password | None = Field(default=None, min_length=12, max_length=256)
    role: Role | None = None
    active: StrictBool | None = None
    daily_digest: StrictBool | None = None


class MeUpdate(UpdateModel):
    """Your own preferences. `If-Match` (the ETag of `GET /v1/me`) is checked when sent."""

    model_config = {"json_schema_extra": {"examples": [{"daily_digest": False}]}}

    daily_digest: StrictBool | None = Field(
        default=None, description="The 08:00 email of your overdue worklist items."
    )


class UserRead(OutputModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "id": "0196f0a8-3c1e-7b52-9d4e-2f7a1c9e5b10",
                    "email": "priya.shah@northbridge-talent.co.uk",
                    "name": "Priya Shah",
                    "role": "consultant",
                    "active": True,
                    "daily_digest": True,
                    "created_at": "2026-11-25T09:30:00+00:00",
                    "updated_at": "2026-11-25T09:30:00+00:00",
                    "last_login_at": None,
                }
            ]
        }
    }

    id: UUID
    email: str
    name: str
    role: Role
    active: bool
    daily_digest: bool = Field(
        description="Gets the 08:00 email (agency time) of their overdue worklist items."
    )
    created_at: Timestamp
    updated_at: Timestamp
    last_login_at: Timestamp | None
