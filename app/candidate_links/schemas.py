from uuid import UUID

from pydantic import Field

from app.core.schemas import OutputModel, Timestamp


class CandidateLinkIssued(OutputModel):
    """A fresh candidate link. `url` is a credential: pass it to the candidate only."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "url": "https://afterview.example/candidate/eyJhbGciOiJIUzI1NiJ9.eyJhdWQi…",
                    "expires_at": "2026-12-05T17:00:00+00:00",
                    "emailed": True,
                }
            ]
        }
    }

    url: str | None = Field(
        description="The candidate's page (`/candidate/{token}`): debrief, decide and thank. "
        "Any earlier link of this interview stops working (410). Shown once: a replay of the "
        "same `Idempotency-Key` answers null (issue the link again for a new one)."
    )
    expires_at: Timestamp = Field(description="After this the link answers 410.")
    emailed: bool = Field(
        description="True when the link was emailed to the candidate (they agreed to be "
        "contacted); otherwise pass the URL on yourself."
    )


class CandidateLinkSnapshot(OutputModel):
    """A candidate link as events carry it: never its URL (a credential)."""

    id: UUID
    interview_id: UUID
    application_id: UUID
    issued_at: Timestamp
    expires_at: Timestamp
    revoked_at: Timestamp | None
    emailed_at: Timestamp | None
    issued_by: UUID | None
