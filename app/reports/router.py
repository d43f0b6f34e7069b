from typing import Annotated

from fastapi import APIRouter, Query

from app.core.auth import WorkflowReader
from app.core.deps import SessionDep
from app.core.errors import InconsistentValues
from app.core.problem_docs import raises
from app.core.schemas import Instant
from app.reports import service
from app.reports.schemas import PostInterviewReport

router = APIRouter(tags=["Work"])


@router.get(
    "/v1/reports/post-interview",
    summary="How the post-interview work is going: per agency, consultant and client",
    description="Follow-up rate (interviews followed by a thank-you), on-time debriefs and "
    "follow-ups, feedback obtained rate and median days for a client to answer. Interviews "
    "count by when they ended, feedback requests by when they were made; `to` is exclusive.",
    response_model_by_alias=True,
    openapi_extra=raises(InconsistentValues),
)
async def read_post_interview_report(
    principal: WorkflowReader,
    session: SessionDep,
    window_from: Annotated[Instant, Query(alias="from")],
    window_to: Annotated[Instant, Query(alias="to")],
) -> PostInterviewReport:
    report = await service.post_interview_report(session, principal, window_from, window_to)
    return PostInterviewReport.model_validate(report)
