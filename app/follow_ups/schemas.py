from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from pydantic import AnyHttpUrl, Field, JsonValue

from app.core.schemas import InputModel, OutputModel, SingleLine, Timestamp
from app.messages.schemas import MessageDelivery
from app.models import FollowUp, FollowUpRoute, FollowUpState, Message


class AgencyThanks(InputModel):
    model_config = {
        "json_schema_extra": {
            "examples": [{"note": "Thanks for setting this up - the team were lovely."}]
        }
    }

    note: str | None = Field(default=None, max_length=2000)


class DirectContactRequest(InputModel):
    model_config = {
        "json_schema_extra": {
            "examples": [{"reason": "The hiring manager asked for my portfolio directly."}]
        }
    }

    reason: str | None = Field(default=None, max_length=2000)


class DirectContactDecline(InputModel):
    model_config = {
        "json_schema_extra": {
            "examples": [{"reason": "This client prefers all contact through us."}]
        }
    }

    reason: str | None = Field(default=None, max_length=2000)


SEND_EXAMPLE: dict[str, JsonValue] = {
    "route": "via_agency",
    "subject": "Thank you for today",
    "body": "Thank you for your time today. On the cost question, the saving was 14% in year "
    "one, measured against the 2023 baseline.",
    "links": ["https://portfolio.example.com/amara/wms-case-study"],
    "answers_question_id": "0196f0c2-2222-7c0e-9a3b-1f2e3d4c5b6a",
}


class FollowUpSend(InputModel):
    """Succinct (the agency's word limit), once per interview."""

    model_config = {"json_schema_extra": {"examples": [SEND_EXAMPLE]}}

    route: FollowUpRoute = Field(
        description="`direct` to the interviewers (needs an approved request) or `via_agency` "
        "to the consultant for forwarding."
    )
    subject: SingleLine = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=10_000)
    links: list[AnyHttpUrl] = Field(default_factory=list, max_length=10)
    answers_question_id: UUID | None = Field(
        default=None, description="A question this interview's debrief marked half-answered."
    )


class FollowUpRead(OutputModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "interview_id": "0196f0b5-5555-7c0e-9a3b-1f2e3d4c5b6a",
                    "state": "sent",
                    "due_at": "2026-12-03T11:00:00+00:00",
                    "overdue": False,
                    "agency_thanked_at": "2026-12-02T12:00:00+00:00",
                    "direct_requested_at": None,
                    "direct_decided_at": None,
                    "sent_at": "2026-12-02T16:00:00+00:00",
                    "route": "via_agency",
                    "subject": "Thank you for today",
                    "body": "Thank you for your time today.",
                    "links": [],
                    "answers_question_id": None,
                    "word_count": 6,
                    "word_limit": 150,
                    "on_time": True,
                    "messages": [
                        {
                            "id": "0196f0d1-1111-7c0e-9a3b-1f2e3d4c5b6a",
                            "to": "priya.shah@northbridge-talent.co.uk",
                            "status": "sent",
                            "attempts": 1,
                            "sent_at": "2026-12-02T16:00:03+00:00",
                            "last_error": None,
                        }
                    ],
                }
            ]
        }
    }

    interview_id: UUID
    state: FollowUpState
    due_at: Timestamp = Field(description="The interview's end plus follow_up_window_hours.")
    overdue: bool
    agency_thanked_at: Timestamp | None = None
    direct_requested_at: Timestamp | None = None
    direct_decided_at: Timestamp | None = None
    sent_at: Timestamp | None = None
    route: FollowUpRoute | None = None
    subject: str | None = None
    body: str | None = None
    links: list[str] = Field(default_factory=list)
    answers_question_id: UUID | None = None
    word_count: int | None = None
    word_limit: int
    on_time: bool | None = None
    messages: list[MessageDelivery] = Field(
        default_factory=list,
        description="The sent note's emails (one per interviewer, or one to the consultant) "
        "and whether each was delivered.",
    )

    @classmethod
    def of(
        cls,
        follow_up: FollowUp | None,
        interview_id: UUID,
        due_at: datetime,
        word_limit: int,
        now: datetime,
        messages: Sequence[Message] = (),
    ) -> "FollowUpRead":
        if follow_up is None:
            return cls(
                interview_id=interview_id,
                state=FollowUpState.not_started,
                due_at=due_at,
                overdue=now > due_at,
                word_limit=word_limit,
            )
        finished = follow_up.state in (FollowUpState.sent, FollowUpState.cancelled)
        return cls(
            interview_id=interview_id,
            state=FollowUpState(follow_up.state),
            due_at=follow_up.due_at,
            overdue=not finished and now > follow_up.due_at,
            agency_thanked_at=follow_up.agency_thanked_at,
            direct_requested_at=follow_up.direct_requested_at,
            direct_decided_at=follow_up.direct_decided_at,
            sent_at=follow_up.sent_at,
            route=FollowUpRoute(follow_up.route) if follow_up.route else None,
            subject=follow_up.subject,
            body=follow_up.body,
            links=list(follow_up.links),
            answers_question_id=follow_up.answers_question_id,
            word_count=follow_up.word_count,
            word_limit=word_limit,
            on_time=follow_up.on_time,
            messages=[MessageDelivery.model_validate(m) for m in messages],
        )
