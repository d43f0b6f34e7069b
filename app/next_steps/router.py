from fastapi import APIRouter, Response

from app.core.auth import WorkflowReader, WorkflowWriter
from app.core.deps import ClockDep, SessionDep
from app.core.errors import ApplicationClosed, InterviewCancelled, InterviewNotFinished
from app.core.etag import IfMatch
from app.core.openapi_headers import SETS_ETAG
from app.core.problem_docs import raises
from app.core.routing import InterviewIdPath, upserted, with_etag
from app.next_steps import service
from app.next_steps.schemas import NextStepsRead, NextStepsWrite

router = APIRouter(tags=["Step 1: next steps"])
PATH = "/v1/interviews/{interview_id}/next-steps"


@router.put(
    PATH,
    summary="Record what happens next and when the client will decide",
    description="Only once the interview has ended (409 `interview-not-finished` before), "
    "while the application is open (409 `application-closed`). Repeating it corrects it.",
    responses={
        201: {"model": NextStepsRead, "description": "Recorded"},
        200: {"description": "Corrected"},
    },
    openapi_extra=raises(ApplicationClosed, InterviewCancelled, InterviewNotFinished) | SETS_ETAG,
)
async def record_next_steps(
    principal: WorkflowWriter,
    session: SessionDep,
    clock: ClockDep,
    interview_id: InterviewIdPath,
    data: NextStepsWrite,
    response: Response,
    if_match: IfMatch = None,
) -> NextStepsRead:
    steps, created = await service.record_next_steps(
        session, principal, clock, interview_id, data, if_match
    )
    return upserted(
        response,
        NextStepsRead.model_validate(steps),
        steps.version,
        created,
        PATH.format(interview_id=interview_id),
    )


@router.get(PATH, summary="Read an interview's next steps", openapi_extra=SETS_ETAG)
async def read_next_steps(
    principal: WorkflowReader,
    session: SessionDep,
    interview_id: InterviewIdPath,
    response: Response,
) -> NextStepsRead:
    steps = await service.get_next_steps(session, principal, interview_id)
    return with_etag(response, NextStepsRead.model_validate(steps), steps.version)
