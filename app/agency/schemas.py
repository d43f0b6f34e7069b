from typing import Annotated
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from annotated_types import Interval
from pydantic import Field, StrictBool, field_validator

from app.core.schemas import WHOLE_NUMBER, Email, OutputModel, SingleLine, Timestamp, UpdateModel

_SETTINGS_EXAMPLE: dict[str, int | str] = {
    "debrief_due_hours": 24,
    "follow_up_window_hours": 24,
    "follow_up_max_words": 150,
    "feedback_chase_after_days": 5,
    "feedback_max_chases": 3,
    "timezone": "Europe/London",
    "sender_name": "Northbridge Talent",
    "sender_email": "consultants@northbridge-talent.co.uk",
    "retention_days": 730,
    "candidate_links": True,
    "candidate_link_days": 3,
}


class AgencyRead(OutputModel):
    """An agency and its workflow settings."""

    model_config = {
        "json_schema_extra": {
            "examples": [{"id": "0196f0a8-…", **_SETTINGS_EXAMPLE, "name": "Northbridge Talent"}]
        }
    }

    id: UUID
    name: str
    debrief_due_hours: int = Field(
        description="Debrief notes are due this long after an interview."
    )
    follow_up_window_hours: int = Field(
        description="A thank-you follow-up is due this long after the interview ends."
    )
    follow_up_max_words: int = Field(description="Word limit of a follow-up note.")
    feedback_chase_after_days: int = Field(description="Days between feedback chases.")
    feedback_max_chases: int = Field(description="How many times a client is chased.")
    timezone: str = Field(description="IANA time zone deadlines are computed in.")
    sender_name: str | None
    sender_email: str | None
    retention_days: int = Field(
        description="Closed, unsuccessful candidates are anonymised after this many days."
    )
    candidate_links: bool = Field(
        description="When an interview ends, the worker emails the candidate a signed link to "
        "debrief, decide and thank (only with their `contact_consent`, once per interview)."
    )
    candidate_link_days: int = Field(description="A candidate link works this many days.")
    created_at: Timestamp
    updated_at: Timestamp


class AgencyUpdate(UpdateModel):
    """Send only what changes. Requires `If-Match`."""

    model_config = {
        "json_schema_extra": {
            "examples": [{"follow_up_max_words": 120, "timezone": "Europe/London"}]
        }
    }

    nullable = frozenset({"sender_name", "sender_email"})

    name: SingleLine | None = Field(default=None, min_length=1, max_length=200)
    debrief_due_hours: Annotated[int, Interval(ge=1, le=720), WHOLE_NUMBER] | None = None
    follow_up_window_hours: Annotated[int, Interval(ge=1, le=720), WHOLE_NUMBER] | None = None
    follow_up_max_words: Annotated[int, Interval(ge=10, le=2000), WHOLE_NUMBER] | None = None
    feedback_chase_after_days: Annotated[int, Interval(ge=1, le=90), WHOLE_NUMBER] | None = None
    feedback_max_chases: Annotated[int, Interval(ge=0, le=20), WHOLE_NUMBER] | None = None
    timezone: SingleLine | None = Field(default=None, max_length=64)
    sender_name: SingleLine | None = Field(default=None, max_length=200)
    sender_email: Email | None = None
    retention_days: Annotated[int, Interval(ge=30, le=3650), WHOLE_NUMBER] | None = None
    candidate_links: StrictBool | None = None
    candidate_link_days: Annotated[int, Interval(ge=1, le=30), WHOLE_NUMBER] | None = None

    @field_validator("timezone")
    @classmethod
    def known_timezone(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "Europe" is a folder
            raise ValueError("not an IANA time zone, e.g. Europe/London") from None
        return value
