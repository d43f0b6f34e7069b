from datetime import timedelta
from enum import StrEnum
from uuid import UUID

from pydantic import Field

from app.core.schemas import OutputModel, Timestamp
from app.demo import ids
from app.demo.data import STORY_INTERVIEW_END


class WorkKind(StrEnum):
    capture_next_steps = "capture_next_steps"
    write_debrief = "write_debrief"
    follow_up_due = "follow_up_due"
    approve_direct_contact = "approve_direct_contact"
    chase_client_decision = "chase_client_decision"
    heads_up_suggested = "heads_up_suggested"
    feedback_chase_due = "feedback_chase_due"
    release_feedback = "release_feedback"
    review_candidate_input = "review_candidate_input"
    """The candidate wrote the debrief or recorded the decision through their link, and no
    consultant has touched it since (`interview_id`: the link's interview)."""


class WorkItem(OutputModel):
    """One thing that needs the consultant, the ids of what it concerns, and the names a person
    reads: the candidate, the client and the role. (The example is the demo agency's: Farah
    Khan's debrief, due a day after her interview.)"""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "kind": "write_debrief",
                    "due_at": (STORY_INTERVIEW_END + timedelta(hours=24)).isoformat(),
                    "overdue": False,
                    "application_id": str(ids.application("farah")),
                    "candidate_id": str(ids.candidate("farah")),
                    "candidate_name": "Farah Khan",
                    "client_name": "Northwind Logistics",
                    "vacancy_title": "Operations Manager",
                    "interview_id": str(ids.interview("farah")),
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
