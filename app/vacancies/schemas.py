from uuid import UUID

from pydantic import Field, JsonValue

from app.core.schemas import (
    ExternalId,
    InputModel,
    OutputModel,
    SingleLine,
    Timestamp,
    UpdateModel,
)

VACANCY_EXAMPLE: dict[str, JsonValue] = {
    "client_id": "0196f0b0-1111-7c0e-9a3b-1f2e3d4c5b6a",
    "title": "Senior Supply Chain Analyst",
    "hiring_contact_id": "0196f0b0-2222-7c0e-9a3b-1f2e3d4c5b6a",
    "external_id": "bullhorn-job-9912",
}


class VacancyFields(InputModel):
    client_id: UUID
    title: SingleLine = Field(min_length=1, max_length=200)
    hiring_contact_id: UUID | None = Field(
        default=None, description="The client contact who decides; feedback is asked of them."
    )


class VacancyCreate(VacancyFields):
    model_config = {"json_schema_extra": {"examples": [VACANCY_EXAMPLE]}}

    external_id: ExternalId | None = None


class VacancyReplace(VacancyFields):
    model_config = {
        "json_schema_extra": {
            "examples": [{k: v for k, v in VACANCY_EXAMPLE.items() if k != "external_id"}]
        }
    }


class VacancyUpdate(UpdateModel):
    model_config = {"json_schema_extra": {"examples": [{"title": "Lead Supply Chain Analyst"}]}}
    nullable = frozenset({"hiring_contact_id", "external_id"})

    title: SingleLine | None = Field(default=None, min_length=1, max_length=200)
    hiring_contact_id: UUID | None = None
    external_id: ExternalId | None = None


class VacancyRead(OutputModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    **VACANCY_EXAMPLE,
                    "id": "0196f0b3-3333-7c0e-9a3b-1f2e3d4c5b6a",
                    "created_at": "2026-11-25T09:30:00+00:00",
                    "updated_at": "2026-11-25T09:30:00+00:00",
                }
            ]
        }
    }

    id: UUID
    client_id: UUID
    title: str
    hiring_contact_id: UUID | None
    external_id: str | None
    created_at: Timestamp
    updated_at: Timestamp
