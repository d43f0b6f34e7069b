from typing import Any, cast
from uuid import UUID

from pydantic import BaseModel, Field

from app.core.auth import LinkVia
from app.core.schemas import OutputModel, Timestamp
from app.models import Event


class Actor(OutputModel):
    """Who acted: a person, an integration's API key, or a key acting for a person."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "user_id": "0196f0a8-3c1e-7b52-9d4e-2f7a1c9e5b10",
                    "api_key_id": "0196f0a8-9999-7b52-9d4e-2f7a1c9e5b10",
                    "on_behalf_of": True,
                    "via_link": None,
                }
            ]
        }
    }

    user_id: UUID | None = Field(description="The person: logged in, or named in On-Behalf-Of.")
    api_key_id: UUID | None = Field(description="The API key used, if any.")
    on_behalf_of: bool = Field(description="True when an API key acted for `user_id`.")
    via_link: LinkVia | None = Field(
        description="Someone acting through a signed link, with no account: `candidate` (the "
        "candidate's link; show it as \"candidate (link)\") or `client` (a client contact's "
        "feedback link). None otherwise.",
    )


def actor_of(event: Event) -> Actor:
    return Actor(
        user_id=event.user_id,
        api_key_id=event.api_key_id,
        on_behalf_of=event.api_key_id is not None and event.user_id is not None,
        via_link=cast(LinkVia | None, event.via_link),
    )


class TimelineEntry(OutputModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "id": "0196f0c9-9999-7c0e-9a3b-1f2e3d4c5b6a",
                    "occurred_at": "2026-12-02T13:30:00+00:00",
                    "type": "debrief.submitted",
                    "object_type": "debrief",
                    "object_id": "0196f0c2-1111-7c0e-9a3b-1f2e3d4c5b6a",
                    "actor": {
                        "user_id": "0196f0a8-3c1e-7b52-9d4e-2f7a1c9e5b10",
                        "api_key_id": None,
                        "on_behalf_of": False,
                        "via_link": None,
                    },
                    "data": {"on_time": True, "questions": 6},
                }
            ]
        }
    }

    id: UUID
    occurred_at: Timestamp
    type: str
    object_type: str
    object_id: UUID
    actor: Actor
    data: dict[str, Any]

    @classmethod
    def of(cls, event: Event) -> "TimelineEntry":
        actor = actor_of(event)
        return cls(
            id=event.id,
            occurred_at=event.occurred_at,
            type=event.type,
            object_type=event.object_type,
            object_id=event.object_id,
            actor=actor,
            data=event.data,
        )


class EventRead(OutputModel):
    """One change, as the feed and webhooks carry it."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "id": "0196f0c9-9999-7c0e-9a3b-1f2e3d4c5b6a",
                    "type": "candidate.updated",
                    "occurred_at": "2026-12-02T13:30:00+00:00",
                    "object_type": "candidate",
                    "object_id": "0196f0b2-7d41-7c0e-9a3b-1f2e3d4c5b6a",
                    "application_id": None,
                    "actor": {
                        "user_id": "0196f0a8-3c1e-7b52-9d4e-2f7a1c9e5b10",
                        "api_key_id": None,
                        "on_behalf_of": False,
                        "via_link": None,
                    },
                    "data": {
                        "id": "0196f0b2-7d41-7c0e-9a3b-1f2e3d4c5b6a",
                        "first_name": "Amara",
                        "last_name": "Okafor",
                        "email": "amara.okafor@example.com",
                        "contact_consent": True,
                    },
                    "details": {"fields": ["phone"]},
                }
            ]
        }
    }

    id: UUID = Field(description="Also the `webhook-id` of its webhook deliveries.")
    type: str = Field(description="`<object>.<verb>`: see the catalogue in the API description.")
    occurred_at: Timestamp
    object_type: str
    object_id: UUID
    application_id: UUID | None
    actor: Actor
    data: dict[str, Any] | None = Field(
        description="The object as its `GET` answered at that moment."
    )
    details: dict[str, Any] = Field(description="What the timeline shows: changed fields, …")

    @classmethod
    def of(cls, event: Event) -> "EventRead":
        return cls(
            id=event.id,
            type=event.type,
            occurred_at=event.occurred_at,
            object_type=event.object_type,
            object_id=event.object_id,
            application_id=event.application_id,
            actor=actor_of(event),
            data=event.snapshot,
            details=event.data,
        )


class EventPage(BaseModel):
    items: list[EventRead]
    next: str = Field(
        description="Always a cursor: pass it as `after` to resume, even when `items` is empty.",
        examples=[
            "WzEyMzQ1NiwiMDE5NmYwYzktOTk5OS03YzBlLTlhM2ItMWYyZTNkNGM1YjZhIiwiMjAyNi0xMi0wMiJd"
        ],
    )
