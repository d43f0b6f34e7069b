from fastapi import APIRouter, Response, status

from app.candidate_links import service
from app.candidate_links.links import CandidateLinksDep
from app.candidate_links.schemas import CandidateLinkIssued
from app.core.auth import WorkflowWriter
from app.core.deps import ClockDep, SessionDep
from app.core.errors import (
    ApplicationClosed,
    CandidateErased,
    InterviewCancelled,
    InterviewNotFinished,
    TemplateNotValid,
)
from app.core.idempotency import IdempotencyDep
from app.core.problem_docs import raises
from app.core.routing import InterviewIdPath

router = APIRouter(tags=["Candidate link"])
BASE = "/v1/interviews/{interview_id}/candidate-link"


@router.post(
    BASE,
    status_code=status.HTTP_201_CREATED,
    summary="Issue (or re-send) the candidate's link to debrief, decide and thank",
    description="Once the interview has ended, of an open application. A fresh link: the "
    "interview's previous one stops working (410). Emailed to the candidate when they agreed "
    "to be contacted (`emailed`); otherwise pass `url` on. Works whatever the agency's "
    "`candidate_links` setting (that setting only has the worker send links by itself). The "
    "link lasts the agency's `candidate_link_days`.",
    openapi_extra=raises(
        ApplicationClosed,
        CandidateErased,
        InterviewCancelled,
        InterviewNotFinished,
        TemplateNotValid,
    ),
)
async def issue_candidate_link(
    principal: WorkflowWriter,
    session: SessionDep,
    clock: ClockDep,
    interview_id: InterviewIdPath,
    links: CandidateLinksDep,
    idem: IdempotencyDep,
    response: Response,
) -> CandidateLinkIssued:
    issued = await service.issue_link(session, principal, clock, links, interview_id, email=True)
    body = CandidateLinkIssued(url=issued.url, expires_at=issued.expires_at, emailed=issued.emailed)
    return await idem.respond(response, body, status_code=201, redact=frozenset({"url"}))


@router.delete(
    BASE,
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke the candidate's link (it answers 410 from now on)",
    description="404 when the interview has no live link (none issued, revoked, or expired).",
)
async def revoke_candidate_link(
    principal: WorkflowWriter, session: SessionDep, clock: ClockDep, interview_id: InterviewIdPath
) -> None:
    await service.revoke_link(session, principal, clock, interview_id)
