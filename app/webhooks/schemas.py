import ipaddress
from typing import Annotated
from uuid import UUID

from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    Field,
    JsonValue,
    StrictBool,
    WithJsonSchema,
    field_validator,
)

from app.core.event_catalogue import SUBSCRIBABLE, unknown_types
from app.core.schemas import InputModel, OutputModel, SingleLine, Timestamp, UpdateModel
from app.models import DeliveryState

EVENT_TYPES = Field(
    default=None,
    max_length=100,
    description="Types to send (`follow_up.sent`) or every type of an object (`application.*`); "
    "none: every event. See the catalogue under `GET /v1/events`.",
    examples=[["application.*", "follow_up.sent"]],
)


EventTypeName = Annotated[SingleLine, WithJsonSchema({"type": "string", "enum": SUBSCRIBABLE})]
MAX_URL_LENGTH = 2000


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _deliverable(url: AnyHttpUrl) -> AnyHttpUrl:
    """A URL a delivery could be sent to: not too long, and a host name DNS can carry (labels
    of 1-63 characters, 253 in all), which the URL syntax alone does not ensure."""
    if len(str(url)) > MAX_URL_LENGTH:
        raise ValueError(f"at most {MAX_URL_LENGTH} characters")
    host = url.host or ""
    if _is_address(host):
        return url
    labels = host.removesuffix(".").split(".")
    if len(host) > 253 or not all(1 <= len(label) <= 63 for label in labels):
        raise ValueError("the host name is not one DNS can hold (labels of 1-63 characters)")
    return url


WebhookUrl = Annotated[AnyHttpUrl, AfterValidator(_deliverable)]


def _known(types: list[str] | None) -> list[str] | None:
    if types is None:
        return None
    unknown = unknown_types(types)
    if unknown:
        raise ValueError(f"not in the event catalogue: {', '.join(unknown)}")
    return list(dict.fromkeys(types))


class WebhookEndpointCreate(InputModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "url": "https://ats.example.com/hooks/afterview",
                    "event_types": ["application.*", "follow_up.sent", "feedback.received"],
                    "description": "Our ATS: outcomes and follow-ups",
                    "enabled": True,
                }
            ]
        }
    }

    url: WebhookUrl = Field(description="https (http only where private targets are allowed).")
    event_types: list[EventTypeName] | None = EVENT_TYPES
    description: SingleLine | None = Field(default=None, max_length=500)
    enabled: StrictBool = True

    _known_types = field_validator("event_types")(_known)


class WebhookEndpointUpdate(UpdateModel):
    """Send only what changes. Requires `If-Match`. Enabling again clears `disabled_reason`."""

    model_config = {"json_schema_extra": {"examples": [{"enabled": True}]}}

    nullable = frozenset({"event_types", "description"})

    url: WebhookUrl | None = None
    event_types: list[EventTypeName] | None = EVENT_TYPES
    description: SingleLine | None = Field(default=None, max_length=500)
    enabled: StrictBool | None = None

    _known_types = field_validator("event_types")(_known)


ENDPOINT_EXAMPLE: dict[str, JsonValue] = {
    "id": "0196f0e5-1111-7c0e-9a3b-1f2e3d4c5b6a",
    "url": "https://ats.example.com/hooks/afterview",
    "event_types": ["application.*", "follow_up.sent", "feedback.received"],
    "description": "Our ATS: outcomes and follow-ups",
    "enabled": True,
    "disabled_reason": None,
    "failing_since": None,
    "last_success_at": "2026-12-02T16:00:04+00:00",
    "previous_secret_expires_at": None,
    "created_at": "2026-12-01T09:00:00+00:00",
    "updated_at": "2026-12-01T09:00:00+00:00",
}


class WebhookEndpointRead(OutputModel):
    model_config = {"json_schema_extra": {"examples": [ENDPOINT_EXAMPLE]}}

    id: UUID
    url: str
    event_types: list[str] | None
    description: str | None
    enabled: bool
    disabled_reason: str | None = Field(description="Why Afterview disabled it, if it did.")
    failing_since: Timestamp | None = Field(
        description="Failing since then; after 5 days it is disabled and your admins emailed."
    )
    last_success_at: Timestamp | None
    previous_secret_expires_at: Timestamp | None = Field(
        validation_alias="previous_secret_until",
        description="After a rotation, deliveries carry both signatures until then.",
    )
    created_at: Timestamp
    updated_at: Timestamp


class WebhookEndpointWithSecret(WebhookEndpointRead):
    """Shown once, on create and on rotation: the secret is derived, never stored, never
    shown again."""

    model_config = {
        "json_schema_extra": {
            "examples": [{**ENDPOINT_EXAMPLE, "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}]
        }
    }

    secret: str | None = Field(
        default=None,
        description="`whsec_…`: verify each delivery's `webhook-signature` with it (Standard "
        "Webhooks libraries do). Null on an idempotent replay.",
    )


class WebhookAttemptRead(OutputModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "attempt": 1,
                    "attempted_at": "2026-12-02T16:00:01+00:00",
                    "status_code": 503,
                    "duration_ms": 84,
                    "response_excerpt": "Service Unavailable",
                    "error": None,
                    "next_attempt_at": "2026-12-02T16:00:06+00:00",
                }
            ]
        }
    }

    attempt: int
    attempted_at: Timestamp
    status_code: int | None
    duration_ms: int
    response_excerpt: str | None = Field(description="The first 1 KB of the response body.")
    error: str | None = Field(description="Why no response came (timeout, refused, …).")
    next_attempt_at: Timestamp | None = Field(description="When it was to be tried again.")


class WebhookDeliveryRead(OutputModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "id": "0196f0e6-2222-7c0e-9a3b-1f2e3d4c5b6a",
                    "event_id": "0196f0c9-9999-7c0e-9a3b-1f2e3d4c5b6a",
                    "event_type": "follow_up.sent",
                    "state": "succeeded",
                    "attempt": 2,
                    "status_code": 200,
                    "duration_ms": 41,
                    "response_excerpt": "ok",
                    "next_attempt_at": None,
                    "delivered_at": "2026-12-02T16:00:06+00:00",
                    "created_at": "2026-12-02T16:00:00+00:00",
                    "attempts": [],
                }
            ]
        }
    }

    id: UUID
    event_id: UUID = Field(description="The event (`GET /v1/events`); also the `webhook-id`.")
    event_type: str
    state: DeliveryState
    attempt: int = Field(description="Attempts made so far.")
    status_code: int | None = Field(description="The last attempt's HTTP status.")
    duration_ms: int | None
    response_excerpt: str | None
    next_attempt_at: Timestamp | None
    delivered_at: Timestamp | None
    created_at: Timestamp
    attempts: list[WebhookAttemptRead] = Field(description="Every attempt, newest first.")
