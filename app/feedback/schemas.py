from uuid import UUID

from pydantic import Field, JsonValue, StrictBool

from app.core.schemas import InputModel, OutputModel, Timestamp
from app.feedback.links import FeedbackLinks
from app.models import FeedbackRequest, FeedbackState

FEEDBACK_EXAMPLE: dict[str, JsonValue] = {
    "strengths": "Clear, structured answers; strong on warehouse systems.",
    "gaps": "Less depth on budgeting than the role needs.",
    "advice": "Bring numbers to the cost-saving examples.",
}


class FeedbackRequestCreate(InputModel):
    model_config = {"json_schema_extra": {"examples": [{}]}}

    contact_id: UUID | None = Field(
        default=None,
        description="Who to ask; by default the vacancy's hiring contact (or, failing that, "
        "the latest interview's first interviewer).",
    )


class FeedbackWrite(InputModel):
    model_config = {"json_schema_extra": {"examples": [FEEDBACK_EXAMPLE]}}

    strengths: str = Field(min_length=1, max_length=5000)
    gaps: str = Field(min_length=1, max_length=5000)
    advice: str | None = Field(default=None, max_length=5000)


class FeedbackRelease(InputModel):
    model_config = {"json_schema_extra": {"examples": [{"debrief_call": True}]}}

    debrief_call: StrictBool = Field(
        default=False, description="Offer the candidate a call about it."
    )


class FeedbackRequestRead(OutputModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "id": "0196f0e1-1111-7c0e-9a3b-1f2e3d4c5b6a",
                    "application_id": "0196f0b4-4444-7c0e-9a3b-1f2e3d4c5b6a",
                    "contact_id": "0196f0b0-2222-7c0e-9a3b-1f2e3d4c5b6a",
                    "state": "chased",
                    "requested_at": "2026-12-05T10:00:00+00:00",
                    "chases_sent": 1,
                    "next_chase_at": "2026-12-15T10:00:00+00:00",
                    "expires_at": "2026-12-25T10:00:00+00:00",
                    "client_link": "https://api.afterview.example/feedback/eyJhbGciOi…",
                    "received_at": None,
                    "submitted_by": None,
                    "strengths": None,
                    "gaps": None,
                    "advice": None,
                    "released_at": None,
                    "debrief_call": None,
                }
            ]
        }
    }

    id: UUID
    application_id: UUID
    contact_id: UUID
    state: FeedbackState
    requested_at: Timestamp
    chases_sent: int
    next_chase_at: Timestamp | None
    expires_at: Timestamp
    client_link: str = Field(
        description="The signed HTML form the client contact answers, no login "
        "(`/feedback/{token}`; its JSON twin is `/v1/public/feedback/{token}`)."
    )
    received_at: Timestamp | None
    submitted_by: str | None = Field(description="`client` (through the link) or `consultant`.")
    strengths: str | None
    gaps: str | None
    advice: str | None
    released_at: Timestamp | None
    debrief_call: bool | None


class PublicFeedbackForm(OutputModel):
    """What the client contact sees: no surname, email or other personal data."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "agency_name": "Northbridge Talent",
                    "client_name": "Harbour Logistics",
                    "role_title": "Senior Supply Chain Analyst",
                    "candidate_first_name": "Amara",
                    "answered": False,
                    "questions": ["strengths", "gaps", "advice"],
                }
            ]
        }
    }

    agency_name: str
    client_name: str
    role_title: str
    candidate_first_name: str
    answered: bool
    questions: list[str]

    @classmethod
    def of(cls, context: dict[str, str], *, answered: bool) -> "PublicFeedbackForm":
        """Only these fields of the message context ever reach the public form."""
        return cls(
            agency_name=context["agency_name"],
            client_name=context["client_name"],
            role_title=context["role_title"],
            candidate_first_name=context["candidate_first_name"],
            answered=answered,
            questions=[] if answered else ["strengths", "gaps", "advice"],
        )


def read_of(request: FeedbackRequest, links: FeedbackLinks) -> FeedbackRequestRead:
    link = links.url(request.agency_id, request.id, request.expires_at)
    return _read(request, link)


def event_snapshot(request: FeedbackRequest) -> dict[str, JsonValue]:
    """The request as `GET` answers it, less `client_link`: the link is a credential, and
    events leave for other systems (the feed, webhooks)."""
    snapshot: dict[str, JsonValue] = _read(request, "").model_dump(
        mode="json", exclude={"client_link"}
    )
    return snapshot


def _read(request: FeedbackRequest, link: str) -> FeedbackRequestRead:
    fields = {
        c: getattr(request, c) for c in FeedbackRequestRead.model_fields if c != "client_link"
    }
    return FeedbackRequestRead.model_validate({**fields, "client_link": link})
