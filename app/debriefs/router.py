from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from app.core.auth import WorkflowReader, WorkflowWriter
from app.core.deps import ClockDep, SessionDep
from app.core.errors import ApplicationClosed, InterviewCancelled, InterviewNotFinished
from app.core.etag import IfMatch
from app.core.openapi_headers import SETS_ETAG
from app.core.pagination import Page, PageQuery
from app.core.problem_docs import raises
from app.core.routing import ClientIdPath, InterviewIdPath, upserted, with_etag
from app.debriefs import service
from app.debriefs.schemas import DebriefRead, DebriefWrite, QuestionBankEntry

router = APIRouter(tags=["Step 2: debrief"])
PATH = "/v1/interviews/{interview_id}/debrief"


@router.put(
    PATH,
    summary="Submit the debrief: every question asked, what went well, what to improve",
    description="Only once the interview has ended. Due within the agency's "
    "`debrief_due_hours` of the interview's end; `on_time` records whether it was.",
    responses={
        201: {"model": DebriefRead, "description": "Submitted"},
        200: {"description": "Revised"},
    },
    openapi_extra=raises(ApplicationClosed, InterviewCancelled, InterviewNotFinished) | SETS_ETAG,
)
async def submit_debrief(
    principal: WorkflowWriter,
    session: SessionDep,
    clock: ClockDep,
    interview_id: InterviewIdPath,
    data: DebriefWrite,
    response: Response,
    if_match: IfMatch = None,
) -> DebriefRead:
    debrief, created = await service.submit_debrief(
        session, principal, clock, interview_id, data, if_match
    )
    return upserted(
        response,
        DebriefRead.model_validate(debrief),
        debrief.version,
        created,
        PATH.format(interview_id=interview_id),
    )


@router.get(PATH, summary="Read an interview's debrief", openapi_extra=SETS_ETAG)
async def read_debrief(
    principal: WorkflowReader,
    session: SessionDep,
    interview_id: InterviewIdPath,
    response: Response,
) -> DebriefRead:
    debrief = await service.get_debrief(session, principal, interview_id)
    return with_etag(response, DebriefRead.model_validate(debrief), debrief.version)


@router.get(
    "/v1/clients/{client_id}/question-bank",
    tags=["Clients"],
    summary="The questions this client asks, most asked first, to prepare the next candidate",
)
async def read_question_bank(
    principal: WorkflowReader,
    session: SessionDep,
    client_id: ClientIdPath,
    page: PageQuery,
    vacancy_id: Annotated[UUID | None, Query(description="Only this vacancy's interviews.")] = None,
) -> Page[QuestionBankEntry]:
    entries, next_cursor = await service.question_bank(
        session, principal, client_id, page, vacancy_id
    )
    return Page(items=[QuestionBankEntry.model_validate(e) for e in entries], next=next_cursor)
