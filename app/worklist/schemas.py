from enum import StrEnum
from uuid import UUID

from pydantic import Field

from app.core.schemas import OutputModel, Timestamp


class WorkKind(StrEnum):
    capture_next_steps = "capture_next_steps"
    write_debrief = "write_debrief"
    follow_up_due = "follow_up_due"
    approve_direct_contact = "approve_direct_contact"
    chase_client_decision = "chase_client_decision"
    heads_up_suggested = "heads_up_suggested"
    feedback_chase_due = "feedback_chase_due"
    release_feedback = "release_feedback"


class WorkItem(OutputModel):
    """One thing that needs the consultant, the ids of what it concerns, and the names a person
    reads: the candidate, the client and the role."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "kind": "write_debrief",
                    "due_at": "2026-12-03T11:00:00+00:00",
                    "overdue": False,
                    "application_id": "0196f0b4-4444-7c0e-9a3b-1f2e3d4c5b6a",
                    "candidate_id": "0196f0b2-7d41-7c0e-9a3b-1f2e3d4c5b6a",
                    "candidate_name": "Amara Okafor",
                    "client_name": "Harbour Logistics",
                    "vacancy_title": "Supply Chain Analyst",
                    "interview_id": "0196f0b5-5555-7c0e-9a3b-1f2e3d4c5b6a",
                    "referee_id": None,
                    "feedback_request_id": None,
                }
            ]
        }
    }

    kind: WorkKind
    due_at: Timestamp
    overdue: bool = Field(description="`due_at` has passed.")
    application_id: UUID
    candidate_id: UUID
    candidate_name: str = Field(description="The candidate's first and last name.")
    client_name: str = Field(description="The client the vacancy is with.")
    vacancy_title: str = Field(description="The role: the vacancy's title.")
    interview_id: UUID | None = None
    referee_id: UUID | None = None
    feedback_request_id: UUID | None = None
