from uuid import UUID

from pydantic import AnyHttpUrl, Field, JsonValue, StrictBool

from app.core.schemas import InputModel, OutputModel, SingleLine, Timestamp
from app.models import AnswerQuality, DebriefAuthor

QUESTION_EXAMPLE: dict[str, JsonValue] = {
    "text": "Tell us about a time you cut costs without hurting service.",
    "topic": "cost control",
    "answer_quality": "adequate",
    "half_answered": True,
}
DEBRIEF_EXAMPLE: dict[str, JsonValue] = {
    "questions": [QUESTION_EXAMPLE],
    "went_well": "Clear on the WMS migration; good rapport with the operations lead.",
    "could_improve": "Numbers on the cost-saving example were vague.",
    "links": ["https://portfolio.example.com/amara/wms-case-study"],
}


class DebriefQuestionWrite(InputModel):
    model_config = {"json_schema_extra": {"examples": [QUESTION_EXAMPLE]}}

    text: str = Field(min_length=1, max_length=1000)
    topic: SingleLine | None = Field(default=None, max_length=100)
    answer_quality: AnswerQuality
    half_answered: StrictBool = Field(
        default=False, description="Worth answering in full in the thank-you follow-up."
    )


class DebriefWrite(InputModel):
    """Sending it again replaces it; `submitted_at` and `on_time` keep the first submission."""

    model_config = {"json_schema_extra": {"examples": [DEBRIEF_EXAMPLE]}}

    questions: list[DebriefQuestionWrite] = Field(default_factory=list, max_length=100)
    went_well: str = Field(min_length=1, max_length=5000)
    could_improve: str = Field(min_length=1, max_length=5000)
    links: list[AnyHttpUrl] = Field(default_factory=list, max_length=20)


class DebriefQuestionRead(OutputModel):
    model_config = {
        "json_schema_extra": {
            "examples": [{**QUESTION_EXAMPLE, "id": "0196f0c2-2222-7c0e-9a3b-1f2e3d4c5b6a"}]
        }
    }

    id: UUID
    text: str
    topic: str | None
    answer_quality: AnswerQuality
    half_answered: bool


class DebriefRead(OutputModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    **DEBRIEF_EXAMPLE,
                    "questions": [
                        {**QUESTION_EXAMPLE, "id": "0196f0c2-2222-7c0e-9a3b-1f2e3d4c5b6a"}
                    ],
                    "id": "0196f0c2-1111-7c0e-9a3b-1f2e3d4c5b6a",
                    "interview_id": "0196f0b5-5555-7c0e-9a3b-1f2e3d4c5b6a",
                    "application_id": "0196f0b4-4444-7c0e-9a3b-1f2e3d4c5b6a",
                    "submitted_at": "2026-12-02T13:30:00+00:00",
                    "due_at": "2026-12-03T11:00:00+00:00",
                    "on_time": True,
                    "author": "consultant",
                    "updated_at": "2026-12-02T13:30:00+00:00",
                }
            ]
        }
    }

    id: UUID
    interview_id: UUID
    application_id: UUID
    questions: list[DebriefQuestionRead]
    went_well: str
    could_improve: str
    links: list[str]
    submitted_at: Timestamp
    due_at: Timestamp = Field(
        description="The interview's end plus the agency's debrief_due_hours."
    )
    on_time: bool = Field(description="Whether the first submission came by `due_at`.")
    author: DebriefAuthor = Field(
        description="Who wrote it as it stands: `candidate` (through their link) or "
        "`consultant` (a consultant's revision takes it over)."
    )
    updated_at: Timestamp


class QuestionBankEntry(OutputModel):
    """One question as a client asks it, across every debrief of its interviews."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "text": "Tell us about a time you cut costs without hurting service.",
                    "normalized_text": "tell us about a time you cut costs without hurting service",
                    "times_asked": 4,
                    "last_asked_at": "2026-12-02T11:00:00+00:00",
                    "topics": ["cost control"],
                    "vacancy_ids": ["0196f0b3-3333-7c0e-9a3b-1f2e3d4c5b6a"],
                    "weak_or_half_answered": 2,
                }
            ]
        }
    }

    text: str = Field(description="The most recent wording.")
    normalized_text: str
    times_asked: int
    last_asked_at: Timestamp
    topics: list[str]
    vacancy_ids: list[UUID]
    weak_or_half_answered: int = Field(
        description="How often candidates answered it weakly or only in part: prepare for it."
    )
