from typing import Any
from uuid import UUID

from pydantic import Field, JsonValue, field_validator

from app.core.requests import without_link_tokens
from app.core.schemas import InputModel, OutputModel, SingleLine, Timestamp
from app.models import MessageKind, MessageStatus, RecipientType


class TemplateWrite(InputModel):
    """Jinja syntax, rendered in a sandbox; a template that does not render with the kind's
    variables is refused here (422), never at send time."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "subject": "{{ candidate_first_name }} and the {{ role_title }} role",
                    "body": "Dear {{ recipient_name }},\n\nThank you for meeting "
                    "{{ candidate_first_name }}.\n\n{{ consultant_name }}",
                }
            ]
        }
    }

    subject: SingleLine = Field(min_length=1, max_length=500)
    body: str = Field(min_length=1, max_length=20_000)


class TemplateRead(OutputModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "kind": "withdrawal_note",
                    "subject": "{{ candidate_first_name }} and the {{ role_title }} role",
                    "body": "Dear {{ recipient_name }}, …",
                    "is_default": True,
                    "variables": {"candidate_first_name": "Amara", "role_title": "Analyst"},
                    "preview_subject": "Amara and the Analyst role",
                    "preview_body": "Dear Sofia Marin, …",
                }
            ]
        }
    }

    kind: MessageKind
    subject: str
    body: str
    is_default: bool = Field(description="True while the agency uses the shipped wording.")
    variables: dict[str, Any] = Field(description="What a template may use, with sample values.")
    preview_subject: str
    preview_body: str


MESSAGE_EXAMPLE: dict[str, JsonValue] = {
    "id": "0196f0d1-1111-7c0e-9a3b-1f2e3d4c5b6a",
    "kind": "withdrawal_note",
    "status": "sent",
    "to": "sofia.marin@harbourlogistics.example.com",
    "to_name": "Sofia Marin",
    "recipient_type": "contact",
    "recipient_id": "0196f0b0-2222-7c0e-9a3b-1f2e3d4c5b6a",
    "subject": "Amara and the Senior Supply Chain Analyst role",
    "body": "Dear Sofia Marin, …",
    "application_id": "0196f0b4-4444-7c0e-9a3b-1f2e3d4c5b6a",
    "related": {"interview_id": "0196f0b5-5555-7c0e-9a3b-1f2e3d4c5b6a"},
    "attempts": 1,
    "next_attempt_at": None,
    "sent_at": "2026-12-02T14:00:02+00:00",
    "last_error": None,
    "message_id_header": "<0196f0d1-1111-7c0e-9a3b-1f2e3d4c5b6a@northbridge-talent.co.uk>",
    "reply_to": "priya.shah@northbridge-talent.co.uk",
    "created_at": "2026-12-02T14:00:00+00:00",
    "updated_at": "2026-12-02T14:00:02+00:00",
}


class MessageRead(OutputModel):
    model_config = {"json_schema_extra": {"examples": [MESSAGE_EXAMPLE]}}

    id: UUID
    kind: MessageKind
    status: MessageStatus
    to: str = Field(validation_alias="to_address")
    to_name: str | None
    recipient_type: RecipientType
    recipient_id: UUID
    subject: str
    body: str = Field(
        description="As sent, but for the token of a link to a public page (`[redacted]`): "
        "that link is the recipient's credential."
    )
    application_id: UUID | None
    related: dict[str, Any] = Field(description="Ids of the objects the message concerns.")
    attempts: int = Field(description="Sending attempts so far (a claim by a worker counts one).")
    next_attempt_at: Timestamp | None = Field(
        description="When a queued message is due to be tried (again)."
    )
    sent_at: Timestamp | None
    last_error: str | None = Field(description="Why the last attempt failed, if it did.")
    message_id_header: str = Field(
        description="The Message-ID, fixed when queued: a resend carries the same one."
    )
    reply_to: str | None = Field(
        validation_alias="reply_to_address", description="The consultant replies reach."
    )
    created_at: Timestamp
    updated_at: Timestamp

    _no_link_tokens = field_validator("body")(without_link_tokens)


class MessageDelivery(OutputModel):
    """Where one outbound message stands (its full record: `GET /v1/messages/{id}`)."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "id": "0196f0d1-1111-7c0e-9a3b-1f2e3d4c5b6a",
                    "to": "sofia.marin@harbourlogistics.example.com",
                    "status": "sent",
                    "attempts": 1,
                    "sent_at": "2026-12-02T16:00:03+00:00",
                    "last_error": None,
                }
            ]
        }
    }

    id: UUID
    to: str = Field(validation_alias="to_address")
    status: MessageStatus
    attempts: int
    sent_at: Timestamp | None
    last_error: str | None
