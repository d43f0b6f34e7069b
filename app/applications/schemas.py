from uuid import UUID

from pydantic import Field, JsonValue

from app.core.schemas import ExternalId, InputModel, OutputModel, Timestamp, UpdateModel
from app.models import ApplicationStatus, OfferLikelihood

APPLICATION_EXAMPLE: dict[str, JsonValue] = {
    "candidate_id": "0196f0b2-7d41-7c0e-9a3b-1f2e3d4c5b6a",
    "vacancy_id": "0196f0b3-3333-7c0e-9a3b-1f2e3d4c5b6a",
    "consultant_id": "0196f0a8-3c1e-7b52-9d4e-2f7a1c9e5b10",
    "offer_likelihood": "medium",
    "external_id": "bullhorn-sub-77120",
}


class ApplicationFields(InputModel):
    candidate_id: UUID
    vacancy_id: UUID
    consultant_id: UUID | None = Field(default=None, description="The consultant running it.")
    offer_likelihood: OfferLikelihood = OfferLikelihood.unknown


class ApplicationCreate(ApplicationFields):
    model_config = {"json_schema_extra": {"examples": [APPLICATION_EXAMPLE]}}

    external_id: ExternalId | None = None


class ApplicationReplace(ApplicationFields):
    """The whole application; its candidate and vacancy cannot change once created."""

    model_config = {
        "json_schema_extra": {
            "examples": [{k: v for k, v in APPLICATION_EXAMPLE.items() if k != "external_id"}]
        }
    }


class ApplicationUpdate(UpdateModel):
    model_config = {"json_schema_extra": {"examples": [{"offer_likelihood": "high"}]}}
    nullable = frozenset({"consultant_id", "external_id"})

    consultant_id: UUID | None = None
    offer_likelihood: OfferLikelihood | None = None
    external_id: ExternalId | None = None


class ApplicationRead(OutputModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    **APPLICATION_EXAMPLE,
                    "id": "0196f0b4-4444-7c0e-9a3b-1f2e3d4c5b6a",
                    "status": "active",
                    "created_at": "2026-11-25T09:30:00+00:00",
                    "updated_at": "2026-11-25T09:30:00+00:00",
                }
            ]
        }
    }

    id: UUID
    candidate_id: UUID
    vacancy_id: UUID
    consultant_id: UUID | None
    offer_likelihood: OfferLikelihood
    status: ApplicationStatus = Field(
        description="Set by the candidate's decision and the client's outcome, never directly."
    )
    external_id: str | None
    created_at: Timestamp
    updated_at: Timestamp
