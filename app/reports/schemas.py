import re
from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import Field, JsonValue, PlainValidator, TypeAdapter, ValidationError, WithJsonSchema
from pydantic_core import PydanticCustomError

from app.core.schemas import (
    DATE_PATTERN,
    EARLIEST,
    INSTANT_PATTERN,
    LATEST,
    Instant,
    OutputModel,
    Timestamp,
)

_PLAIN_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_INSTANT: TypeAdapter[datetime] = TypeAdapter(Instant)
_EITHER = "must be a date (YYYY-MM-DD) or an RFC 3339 date-time with offset"


def _date_or_instant(value: Any) -> date | datetime:
    """A plain date, or an instant read as `Instant` reads it (with its message when the value
    was an instant, yet not a valid one)."""
    if isinstance(value, str) and _PLAIN_DATE.fullmatch(value):
        return _plain_date(value)
    try:
        return _INSTANT.validate_python(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        reason = _EITHER if first["type"] == "instant_format" else first["msg"]
        raise PydanticCustomError("date_or_instant", "{reason}", {"reason": reason}) from None


def _plain_date(value: str) -> date:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError("date_format", "must be a calendar date (YYYY-MM-DD)") from None
    if not EARLIEST.year <= day.year < LATEST.year:
        raise PydanticCustomError("date_range", "must be between 1900 and 2199")
    return day


DateOrInstant = Annotated[
    date | datetime,
    PlainValidator(_date_or_instant),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "date", "pattern": DATE_PATTERN},
                {"type": "string", "format": "date-time", "pattern": INSTANT_PATTERN},
            ]
        }
    ),
]
"""A report bound: a plain date (a whole day in the agency's time zone) or an exact instant.
A `datetime` is the instant; any other `date` is the plain date."""

EXAMPLE_METRICS: dict[str, JsonValue] = {
    "interviews": 40,
    "follow_ups_sent": 31,
    "follow_up_rate": 0.775,
    "follow_up_on_time_rate": 0.903,
    "debriefs": 38,
    "debrief_on_time_rate": 0.868,
    "feedback_requests": 12,
    "feedback_obtained": 9,
    "feedback_obtained_rate": 0.75,
    "median_days_to_feedback": 4.5,
}


class Metrics(OutputModel):
    """Rates run from 0 to 1, or are null when there was nothing to count."""

    model_config = {"json_schema_extra": {"examples": [EXAMPLE_METRICS]}}

    interviews: int = Field(description="Interviews that ended in the window (not cancelled).")
    follow_ups_sent: int
    follow_up_rate: float | None = Field(description="Interviews followed by a thank-you note.")
    follow_up_on_time_rate: float | None
    debriefs: int
    debrief_on_time_rate: float | None
    feedback_requests: int = Field(description="Feedback requested in the window.")
    feedback_obtained: int
    feedback_obtained_rate: float | None
    median_days_to_feedback: float | None = Field(
        description="Median days from request to the client's answer."
    )


class ConsultantMetrics(Metrics):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {**EXAMPLE_METRICS, "consultant_id": "0196f0a8-3c1e-7b52-9d4e-2f7a1c9e5b10"}
            ]
        }
    }

    consultant_id: UUID | None = Field(description="Null: applications with no consultant.")


class ClientMetrics(Metrics):
    model_config = {
        "json_schema_extra": {
            "examples": [{**EXAMPLE_METRICS, "client_id": "0196f0b0-1111-7c0e-9a3b-1f2e3d4c5b6a"}]
        }
    }

    client_id: UUID


class CandidateLinkMetrics(OutputModel):
    """What candidates did themselves through their link, over the same interviews: what the
    link changed. (Counted within `interviews`, `debriefs` and `follow_ups_sent` too.)"""

    model_config = {"json_schema_extra": {"examples": [{"debriefs": 21, "thank_yous": 17}]}}

    debriefs: int = Field(
        description="Debriefs the candidate wrote through their link (a consultant may have "
        "revised them since)."
    )
    thank_yous: int = Field(
        description="Follow-ups the candidate started through their link: they thanked the "
        "agency there (then drafted the note to the interviewers, or not)."
    )


class PostInterviewReport(OutputModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "from": "2026-11-01T00:00:00+00:00",
                    "to": "2026-12-01T00:00:00+00:00",
                    "timezone": "Europe/London",
                    "agency": EXAMPLE_METRICS,
                    "consultants": [
                        {**EXAMPLE_METRICS, "consultant_id": "0196f0a8-3c1e-7b52-9d4e-2f7a1c9e5b10"}
                    ],
                    "clients": [
                        {**EXAMPLE_METRICS, "client_id": "0196f0b0-1111-7c0e-9a3b-1f2e3d4c5b6a"}
                    ],
                    "candidate_link": {"debriefs": 21, "thank_yous": 17},
                }
            ]
        }
    }

    window_from: Timestamp = Field(
        serialization_alias="from", description="The window's start, included, as an instant."
    )
    window_to: Timestamp = Field(
        serialization_alias="to", description="The window's end, excluded, as an instant."
    )
    timezone: str = Field(description="The agency's time zone, in which plain dates were read.")
    agency: Metrics
    consultants: list[ConsultantMetrics]
    clients: list[ClientMetrics]
    candidate_link: CandidateLinkMetrics
