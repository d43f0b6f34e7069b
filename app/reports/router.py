from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.openapi.models import Example

from app.core.auth import WorkflowReader
from app.core.deps import ClockDep, SessionDep
from app.core.errors import InconsistentValues
from app.core.problem_docs import raises
from app.reports import service
from app.reports.schemas import DateOrInstant, PostInterviewReport

router = APIRouter(tags=["Work"])

FROM_EXAMPLES = {
    "date": Example(summary="A plain date: from the start of that day", value="2026-11-01"),
    "instant": Example(summary="An exact instant", value="2026-11-01T09:00:00+00:00"),
}
TO_EXAMPLES = {
    "date": Example(summary="A plain date: up to the end of that day", value="2026-11-30"),
    "instant": Example(summary="An exact instant (excluded)", value="2026-12-01T09:00:00+00:00"),
}


@router.get(
    "/v1/reports/post-interview",
    summary="How the post-interview work is going: per agency, consultant and client",
    description="Follow-up rate (interviews followed by a thank-you), on-time debriefs and "
    "follow-ups, feedback obtained rate and median days for a client to answer. Interviews "
    "count by when they ended, feedback requests by when they were made, within [`from`, `to`). "
    "Without `from` and `to`, the last 30 days. A plain date is a whole day in the agency's time "
    "zone (`timezone` in `GET /v1/agency`). The response says the window used, as instants.",
    response_model_by_alias=True,
    openapi_extra=raises(InconsistentValues),
)
async def read_post_interview_report(
    principal: WorkflowReader,
    session: SessionDep,
    clock: ClockDep,
    window_from: Annotated[
        DateOrInstant | None,
        Query(
            alias="from",
            description="Start, included: an RFC 3339 instant, or a date (`YYYY-MM-DD`) meaning "
            "the start of that day in the agency's time zone. Default: 30 days before `to`.",
            openapi_examples=FROM_EXAMPLES,
        ),
    ] = None,
    window_to: Annotated[
        DateOrInstant | None,
        Query(
            alias="to",
            description="End, excluded: an RFC 3339 instant, or a date (`YYYY-MM-DD`) meaning "
            "the end of that day in the agency's time zone (the next day's start). At most 400 "
            "days after `from`. Default: now.",
            openapi_examples=TO_EXAMPLES,
        ),
    ] = None,
) -> PostInterviewReport:
    report = await service.post_interview_report(session, principal, clock, window_from, window_to)
    return PostInterviewReport.model_validate(report)
