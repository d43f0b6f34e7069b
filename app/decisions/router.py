from fastapi import APIRouter, Response

from app.applications.schemas import ApplicationRead
from app.core.auth import WorkflowReader, WorkflowWriter
from app.core.deps import ClockDep, SessionDep
from app.core.errors import (
    ApplicationClosed,
    ApplicationOpen,
    InterviewCancelled,
    InterviewNotFinished,
    TemplateNotValid,
)
from app.core.etag import etag_of
from app.core.idempotency import IdempotencyDep
from app.core.openapi_headers import SETS_ETAG
from app.core.problem_docs import raises
from app.core.routing import ApplicationIdPath
from app.decisions import service
from app.decisions.schemas import (
    DecisionRead,
    DecisionWrite,
    OutcomeRead,
    OutcomeWrite,
    ReopenWrite,
)
from app.feedback.links import LinksDep

router = APIRouter(tags=["Step 3: decision"])
BASE = "/v1/applications/{application_id}"


@router.put(
    BASE + "/decision",
    summary="Record whether the candidate still wants the job",
    description="`withdraw` closes the application, cancels pending messages for it and "
    "queues a courteous note to the client contact. After an interview has ended only.",
    openapi_extra=raises(
        ApplicationClosed, InterviewCancelled, InterviewNotFinished, TemplateNotValid
    ),
)
async def record_decision(
    principal: WorkflowWriter,
    session: SessionDep,
    clock: ClockDep,
    application_id: ApplicationIdPath,
    data: DecisionWrite,
) -> DecisionRead:
    decision, application = await service.record_decision(
        session, principal, clock, application_id, data
    )
    return DecisionRead.of(decision, application)


@router.get(BASE + "/decision", summary="The candidate's current decision")
async def read_decision(
    principal: WorkflowReader, session: SessionDep, application_id: ApplicationIdPath
) -> DecisionRead:
    decision, application = await service.get_decision(session, principal, application_id)
    return DecisionRead.of(decision, application)


@router.put(
    BASE + "/outcome",
    summary="Record the client's outcome: offer, unsuccessful or placed",
    description="`unsuccessful` and `placed` close the application. With an offer, the "
    "candidate's open questions (from an `unsure` decision) come back to be raised.",
    openapi_extra=raises(ApplicationClosed, TemplateNotValid) | SETS_ETAG,
)
async def record_outcome(
    principal: WorkflowWriter,
    session: SessionDep,
    clock: ClockDep,
    application_id: ApplicationIdPath,
    data: OutcomeWrite,
    links: LinksDep,
    response: Response,
) -> OutcomeRead:
    application, questions = await service.record_outcome(
        session, principal, clock, application_id, data, links
    )
    response.headers["ETag"] = etag_of(application.version)
    return OutcomeRead(
        application=ApplicationRead.model_validate(application), open_questions=questions
    )


@router.post(
    BASE + "/reopen",
    summary="Reopen a closed application (recorded, with a reason)",
    openapi_extra=raises(ApplicationOpen) | SETS_ETAG,
)
async def reopen_application(
    principal: WorkflowWriter,
    session: SessionDep,
    clock: ClockDep,
    application_id: ApplicationIdPath,
    data: ReopenWrite,
    idem: IdempotencyDep,
    response: Response,
) -> ApplicationRead:
    application = await service.reopen(session, principal, clock, application_id, data.reason)
    return await idem.respond(
        response, ApplicationRead.model_validate(application), etag=etag_of(application.version)
    )
