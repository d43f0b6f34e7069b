from typing import Any
from uuid import UUID

from pydantic import Field

from app.applications.schemas import ApplicationRead
from app.candidates.schemas import CandidateRead, RefereeRead
from app.core.schemas import InputModel, OutputModel, SingleLine, Timestamp
from app.debriefs.schemas import DebriefRead
from app.decisions.schemas import DecisionRead
from app.events.schemas import TimelineEntry
from app.follow_ups.schemas import FollowUpRead
from app.heads_ups.schemas import HeadsUpRead
from app.interviews.schemas import InterviewRead
from app.messages.schemas import MessageRead
from app.next_steps.schemas import NextStepsRead


class InterviewExport(OutputModel):
    """An interview and its steps, as their `GET`s answer them."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "interview": {"id": "0196f0b5-5555-7c0e-9a3b-1f2e3d4c5b6a"},
                    "next_steps": None,
                    "debrief": None,
                    "follow_up": None,
                }
            ]
        }
    }

    interview: InterviewRead
    next_steps: NextStepsRead | None
    debrief: DebriefRead | None
    follow_up: FollowUpRead | None


class ApplicationExport(OutputModel):
    """An application, its interviews and steps, its messages and its timeline."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "application": {"id": "0196f0b4-4444-7c0e-9a3b-1f2e3d4c5b6a"},
                    "interviews": [],
                    "decision": None,
                    "heads_ups": [],
                    "feedback_request": None,
                    "messages": [],
                    "timeline": [],
                }
            ]
        }
    }

    application: ApplicationRead
    interviews: list[InterviewExport]
    decision: DecisionRead | None
    heads_ups: list[HeadsUpRead]
    feedback_request: dict[str, Any] | None = Field(
        description="As `GET …/feedback-request` answers it, less the signed `client_link`."
    )
    messages: list[MessageRead]
    timeline: list[TimelineEntry] = Field(description="Oldest first.")


class CandidateExport(OutputModel):
    """Everything Afterview holds about a candidate, in one document (a subject access
    request's answer)."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "exported_at": "2026-12-10T09:00:00+00:00",
                    "candidate": {"id": "0196f0b2-7d41-7c0e-9a3b-1f2e3d4c5b6a"},
                    "erased_at": None,
                    "referees": [],
                    "applications": [],
                    "other_messages": [],
                }
            ]
        }
    }

    exported_at: Timestamp
    candidate: CandidateRead
    erased_at: Timestamp | None = Field(description="Set once the candidate was erased.")
    referees: list[RefereeRead]
    applications: list[ApplicationExport]
    other_messages: list[MessageRead] = Field(
        description="Messages to the candidate or their referees outside any application."
    )


class ErasureRequest(InputModel):
    model_config = {"json_schema_extra": {"examples": [{"reason": "Request by email, 2 Dec"}]}}

    reason: SingleLine = Field(
        min_length=1, max_length=200, description="Why (kept in the audit log, not personal)."
    )


class ErasureReport(OutputModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "candidate_id": "0196f0b2-7d41-7c0e-9a3b-1f2e3d4c5b6a",
                    "erased_at": "2026-12-10T09:00:00+00:00",
                    "changed": {"referees": 2, "debriefs": 1, "messages": 4, "events": 17},
                }
            ]
        }
    }

    candidate_id: UUID
    erased_at: Timestamp
    changed: dict[str, int] = Field(
        description="What was anonymised, by kind (empty when it had been erased before)."
    )
