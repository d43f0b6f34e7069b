from fastapi import APIRouter, Response

from app.core.auth import WorkflowReader, WorkflowWriter
from app.core.deps import ClockDep, SessionDep
from app.core.errors import (
    AgencyFirstRequired,
    ApplicationClosed,
    DecisionNotWant,
    DirectContactNotApproved,
    FollowUpAlreadySent,
    FollowUpTooLong,
    FollowUpWrongState,
    InterviewCancelled,
    InterviewNotFinished,
    NoConsultant,
    ReferenceNotFound,
    TemplateNotValid,
)
from app.core.etag import etag_of
from app.core.idempotency import IdempotencyDep
from app.core.openapi_headers import SETS_ETAG
from app.core.problem_docs import raises
from app.core.routing import InterviewIdPath
from app.follow_ups import service
from app.follow_ups.schemas import (
    AgencyThanks,
    DirectContactDecline,
    DirectContactRequest,
    FollowUpRead,
    FollowUpSend,
)
from app.models import FollowUp

router = APIRouter(tags=["Step 4: follow-up"])
BASE = "/v1/interviews/{interview_id}/follow-up"


async def _answer(
    idem: IdempotencyDep,
    response: Response,
    session: SessionDep,
    clock: ClockDep,
    follow_up: FollowUp,
) -> FollowUpRead:
    body = await service.read_of(session, idem.principal, clock, follow_up)
    return await idem.respond(response, body, etag=etag_of(follow_up.version))


AFTER_THE_INTERVIEW = (
    ApplicationClosed,
    InterviewCancelled,
    InterviewNotFinished,
    FollowUpAlreadySent,
    FollowUpWrongState,
)
"""What every follow-up step can meet: the interview and its follow-up must be at that stage."""


@router.get(
    BASE,
    summary="Where the interview's thank-you follow-up stands",
    description="With an `ETag` once the candidate has started it.",
    openapi_extra=SETS_ETAG,
)
async def read_follow_up(
    principal: WorkflowReader,
    session: SessionDep,
    clock: ClockDep,
    interview_id: InterviewIdPath,
    response: Response,
) -> FollowUpRead:
    follow_up, _interview, due_at, limit = await service.current(session, principal, interview_id)
    if follow_up is not None:
        response.headers["ETag"] = etag_of(follow_up.version)
    messages = await service.deliveries(session, principal, follow_up)
    return FollowUpRead.of(follow_up, interview_id, due_at, limit, clock.now(), messages)


@router.post(
    BASE + "/agency-thanks",
    summary="Record the candidate's thanks to the agency (always the first step)",
    description="Only when the candidate's decision is `want` (409 `decision-not-want`).",
    openapi_extra=raises(*AFTER_THE_INTERVIEW, DecisionNotWant) | SETS_ETAG,
)
async def thank_agency(
    principal: WorkflowWriter,
    session: SessionDep,
    clock: ClockDep,
    interview_id: InterviewIdPath,
    data: AgencyThanks,
    idem: IdempotencyDep,
    response: Response,
) -> FollowUpRead:
    follow_up = await service.thank_agency(session, principal, clock, interview_id, data.note)
    return await _answer(idem, response, session, clock, follow_up)


@router.post(
    BASE + "/direct-contact-request",
    summary="Ask to thank the interviewers directly (after thanking the agency)",
    openapi_extra=raises(*AFTER_THE_INTERVIEW, DecisionNotWant, AgencyFirstRequired) | SETS_ETAG,
)
async def request_direct_contact(
    principal: WorkflowWriter,
    session: SessionDep,
    clock: ClockDep,
    interview_id: InterviewIdPath,
    data: DirectContactRequest,
    idem: IdempotencyDep,
    response: Response,
) -> FollowUpRead:
    follow_up = await service.request_direct_contact(
        session, principal, clock, interview_id, data.reason
    )
    return await _answer(idem, response, session, clock, follow_up)


@router.post(
    BASE + "/direct-contact-request/approve",
    summary="Approve the direct note (a consultant)",
    openapi_extra=raises(*AFTER_THE_INTERVIEW, AgencyFirstRequired) | SETS_ETAG,
)
async def approve_direct_contact(
    principal: WorkflowWriter,
    session: SessionDep,
    clock: ClockDep,
    interview_id: InterviewIdPath,
    idem: IdempotencyDep,
    response: Response,
) -> FollowUpRead:
    follow_up = await service.decide_direct_contact(
        session, principal, clock, interview_id, approve=True
    )
    return await _answer(idem, response, session, clock, follow_up)


@router.post(
    BASE + "/direct-contact-request/decline",
    summary="Decline the direct note (a consultant); the note then goes via the agency",
    openapi_extra=raises(*AFTER_THE_INTERVIEW, AgencyFirstRequired) | SETS_ETAG,
)
async def decline_direct_contact(
    principal: WorkflowWriter,
    session: SessionDep,
    clock: ClockDep,
    interview_id: InterviewIdPath,
    data: DirectContactDecline,
    idem: IdempotencyDep,
    response: Response,
) -> FollowUpRead:
    follow_up = await service.decide_direct_contact(
        session, principal, clock, interview_id, approve=False, reason=data.reason
    )
    return await _answer(idem, response, session, clock, follow_up)


@router.post(
    BASE + "/send",
    summary="Send the follow-up: `direct` (approved) or `via_agency`; once per interview",
    description="Word limit from the agency (422 `follow-up-too-long`); due at the interview's "
    "end plus `follow_up_window_hours` (`on_time` records it); a second is 409 "
    "`follow-up-already-sent`.",
    openapi_extra=raises(
        *AFTER_THE_INTERVIEW,
        DecisionNotWant,
        AgencyFirstRequired,
        ReferenceNotFound,
        DirectContactNotApproved,
        NoConsultant,
        FollowUpTooLong,
        TemplateNotValid,
    )
    | SETS_ETAG,
)
async def send_follow_up(
    principal: WorkflowWriter,
    session: SessionDep,
    clock: ClockDep,
    interview_id: InterviewIdPath,
    data: FollowUpSend,
    idem: IdempotencyDep,
    response: Response,
) -> FollowUpRead:
    follow_up = await service.send(session, principal, clock, interview_id, data)
    return await _answer(idem, response, session, clock, follow_up)
