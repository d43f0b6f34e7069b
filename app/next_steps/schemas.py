from uuid import UUID

from pydantic import Field, JsonValue

from app.core.schemas import InputModel, Instant, OutputModel, Timestamp
from app.models import NextStepKind

EXAMPLE: dict[str, JsonValue] = {
    "kind": "another_round",
    "details": "Second round with the CFO; a case study on warehouse costs, 45 minutes.",
    "decision_expected_by": "2026-12-04T17:00:00+00:00",
}


class NextStepsWrite(InputModel):
    """What happens next and by when, as the candidate heard it before leaving the room."""

    model_config = {"json_schema_extra": {"examples": [EXAMPLE]}}

    kind: NextStepKind
    details: str = Field(min_length=1, max_length=2000)
    decision_expected_by: Instant = Field(
        description="When the client said it would decide; after it, the consultant chases."
    )


class NextStepsRead(OutputModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    **EXAMPLE,
                    "id": "0196f0c1-1111-7c0e-9a3b-1f2e3d4c5b6a",
                    "interview_id": "0196f0b5-5555-7c0e-9a3b-1f2e3d4c5b6a",
                    "application_id": "0196f0b4-4444-7c0e-9a3b-1f2e3d4c5b6a",
                    "created_at": "2026-12-02T11:05:00+00:00",
                    "updated_at": "2026-12-02T11:05:00+00:00",
                }
            ]
        }
    }

    id: UUID
    interview_id: UUID
    application_id: UUID
    kind: NextStepKind
    details: str
    decision_expected_by: Timestamp
    created_at: Timestamp
    updated_at: Timestamp
