from uuid import UUID

from pydantic import Field, JsonValue, StrictBool

from app.core.schemas import (
    Email,
    ExternalId,
    InputModel,
    OutputModel,
    Phone,
    SingleLine,
    Timestamp,
    UpdateModel,
)

CANDIDATE_EXAMPLE: dict[str, JsonValue] = {
    "first_name": "Amara",
    "last_name": "Okafor",
    "email": "amara.okafor@example.com",
    "phone": "+44 7700 900123",
    "contact_consent": True,
    "owner_id": "0196f0a8-3c1e-7b52-9d4e-2f7a1c9e5b10",
    "external_id": "bullhorn-cand-48213",
}
READ_EXTRA: dict[str, JsonValue] = {
    "id": "0196f0b2-7d41-7c0e-9a3b-1f2e3d4c5b6a",
    "created_at": "2026-11-25T09:30:00+00:00",
    "updated_at": "2026-11-25T09:30:00+00:00",
}


class CandidateFields(InputModel):
    first_name: SingleLine = Field(min_length=1, max_length=100)
    last_name: SingleLine = Field(min_length=1, max_length=100)
    email: Email
    phone: Phone | None = None
    contact_consent: StrictBool = Field(
        default=False,
        description="The candidate agreed to be contacted. Without it, nothing "
        "is ever sent to them.",
    )
    owner_id: UUID | None = Field(default=None, description="The consultant who owns them.")


class CandidateCreate(CandidateFields):
    model_config = {"json_schema_extra": {"examples": [CANDIDATE_EXAMPLE]}}

    external_id: ExternalId | None = None


class CandidateReplace(CandidateFields):
    """The whole candidate, for `PUT …/by-external-id/{external_id}` (fields left out reset)."""

    model_config = {
        "json_schema_extra": {
            "examples": [{k: v for k, v in CANDIDATE_EXAMPLE.items() if k != "external_id"}]
        }
    }


class CandidateUpdate(UpdateModel):
    """Send only what changes. Requires `If-Match`."""

    model_config = {
        "json_schema_extra": {"examples": [{"phone": "+44 7700 900456", "contact_consent": False}]}
    }
    nullable = frozenset({"phone", "owner_id", "external_id"})

    first_name: SingleLine | None = Field(default=None, min_length=1, max_length=100)
    last_name: SingleLine | None = Field(default=None, min_length=1, max_length=100)
    email: Email | None = None
    phone: Phone | None = None
    contact_consent: StrictBool | None = None
    owner_id: UUID | None = None
    external_id: ExternalId | None = None


class CandidateRead(OutputModel):
    model_config = {"json_schema_extra": {"examples": [{**CANDIDATE_EXAMPLE, **READ_EXTRA}]}}

    id: UUID
    first_name: str
    last_name: str
    email: str
    phone: str | None
    contact_consent: bool
    owner_id: UUID | None
    external_id: str | None
    created_at: Timestamp
    updated_at: Timestamp


REFEREE_EXAMPLE: dict[str, JsonValue] = {
    "name": "Daniel Reyes",
    "email": "daniel.reyes@example.org",
    "relationship": "Line manager at Harbour Logistics, 2021-2025",
    "consent_to_contact": True,
}


class RefereeCreate(InputModel):
    model_config = {"json_schema_extra": {"examples": [REFEREE_EXAMPLE]}}

    name: SingleLine = Field(min_length=1, max_length=200)
    email: Email
    relationship: SingleLine = Field(min_length=1, max_length=200)
    consent_to_contact: StrictBool = Field(
        default=False, description="The referee agreed to be contacted; without it, no heads-up."
    )


class RefereeUpdate(UpdateModel):
    model_config = {"json_schema_extra": {"examples": [{"consent_to_contact": False}]}}

    name: SingleLine | None = Field(default=None, min_length=1, max_length=200)
    email: Email | None = None
    relationship: SingleLine | None = Field(default=None, min_length=1, max_length=200)
    consent_to_contact: StrictBool | None = None


class RefereeRead(OutputModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {**REFEREE_EXAMPLE, **READ_EXTRA, "candidate_id": CANDIDATE_EXAMPLE["owner_id"]}
            ]
        }
    }

    id: UUID
    candidate_id: UUID
    name: str
    email: str
    relationship: str
    consent_to_contact: bool
    created_at: Timestamp
    updated_at: Timestamp
