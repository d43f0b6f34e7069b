from uuid import UUID

from pydantic import Field, JsonValue

from app.core.schemas import (
    Email,
    ExternalId,
    InputModel,
    OutputModel,
    SingleLine,
    Timestamp,
    UpdateModel,
)

READ_EXTRA: dict[str, JsonValue] = {
    "id": "0196f0b2-7d41-7c0e-9a3b-1f2e3d4c5b6a",
    "created_at": "2026-11-25T09:30:00+00:00",
    "updated_at": "2026-11-25T09:30:00+00:00",
}
CLIENT_EXAMPLE: dict[str, JsonValue] = {"name": "Harbour Logistics Ltd", "external_id": "crm-204"}
CONTACT_EXAMPLE: dict[str, JsonValue] = {
    "name": "Sofia Marin",
    "email": "sofia.marin@harbourlogistics.example.com",
    "job_title": "Head of Operations",
    "external_id": "crm-contact-881",
}
CLIENT_ID_EXAMPLE = "0196f0b0-1111-7c0e-9a3b-1f2e3d4c5b6a"


class ClientCreate(InputModel):
    model_config = {"json_schema_extra": {"examples": [CLIENT_EXAMPLE]}}

    name: SingleLine = Field(min_length=1, max_length=200)
    external_id: ExternalId | None = None


class ClientReplace(InputModel):
    """The whole client, for `PUT …/by-external-id/{external_id}`."""

    model_config = {"json_schema_extra": {"examples": [{"name": "Harbour Logistics Ltd"}]}}

    name: SingleLine = Field(min_length=1, max_length=200)


class ClientUpdate(UpdateModel):
    model_config = {"json_schema_extra": {"examples": [{"name": "Harbour Logistics Group"}]}}
    nullable = frozenset({"external_id"})

    name: SingleLine | None = Field(default=None, min_length=1, max_length=200)
    external_id: ExternalId | None = None


class ClientRead(OutputModel):
    model_config = {"json_schema_extra": {"examples": [{**CLIENT_EXAMPLE, **READ_EXTRA}]}}

    id: UUID
    name: str
    external_id: str | None
    created_at: Timestamp
    updated_at: Timestamp


class ContactFields(InputModel):
    name: SingleLine = Field(min_length=1, max_length=200)
    email: Email
    job_title: SingleLine | None = Field(default=None, max_length=200)


class ContactCreate(ContactFields):
    """A contact of the client in the path."""

    model_config = {"json_schema_extra": {"examples": [CONTACT_EXAMPLE]}}

    external_id: ExternalId | None = None


class ContactReplace(ContactFields):
    """The whole contact, for `PUT /v1/contacts/by-external-id/{external_id}`."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    **{k: v for k, v in CONTACT_EXAMPLE.items() if k != "external_id"},
                    "client_id": CLIENT_ID_EXAMPLE,
                }
            ]
        }
    }

    client_id: UUID = Field(description="The client this contact works for.")


class ContactUpdate(UpdateModel):
    model_config = {"json_schema_extra": {"examples": [{"job_title": "Operations Director"}]}}
    nullable = frozenset({"job_title", "external_id"})

    name: SingleLine | None = Field(default=None, min_length=1, max_length=200)
    email: Email | None = None
    job_title: SingleLine | None = Field(default=None, max_length=200)
    external_id: ExternalId | None = None


class ContactRead(OutputModel):
    model_config = {
        "json_schema_extra": {
            "examples": [{**CONTACT_EXAMPLE, **READ_EXTRA, "client_id": CLIENT_ID_EXAMPLE}]
        }
    }

    id: UUID
    client_id: UUID
    name: str
    email: str
    job_title: str | None
    external_id: str | None
    created_at: Timestamp
    updated_at: Timestamp
