from uuid import UUID

from pydantic import Field, JsonValue

from app.core.schemas import OutputModel, Timestamp

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


class PostInterviewReport(OutputModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "from": "2026-11-01T00:00:00+00:00",
                    "to": "2026-12-01T00:00:00+00:00",
                    "agency": EXAMPLE_METRICS,
                    "consultants": [
                        {**EXAMPLE_METRICS, "consultant_id": "0196f0a8-3c1e-7b52-9d4e-2f7a1c9e5b10"}
                    ],
                    "clients": [
                        {**EXAMPLE_METRICS, "client_id": "0196f0b0-1111-7c0e-9a3b-1f2e3d4c5b6a"}
                    ],
                }
            ]
        }
    }

    window_from: Timestamp = Field(serialization_alias="from")
    window_to: Timestamp = Field(serialization_alias="to")
    agency: Metrics
    consultants: list[ConsultantMetrics]
    clients: list[ClientMetrics]
