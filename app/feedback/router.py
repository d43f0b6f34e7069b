from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Response, status

from app.core.auth import Principal, WorkflowReader, WorkflowWriter
from app.core.deps import ClockDep, SessionDep
from app.core.errors import (
    FeedbackAlreadyReceived,
    FeedbackNotReceived,
    FeedbackRequestExists,
    LinkClosed,
    LinkExpired,
    OutcomeNotUnsuccessful,
    ReferenceNotFound,
    TemplateNotValid,
)
from app.core.etag import etag_of
from app.core.idempotency import IdempotencyDep
from app.core.openapi_headers import SETS_ETAG
from app.core.problem_docs import raises
from app.core.routing import ApplicationIdPath
from app.feedback import service
from app.feedback.links import LinksDep, link_principal
from app.feedback.schemas import (
    FeedbackRelease,
    FeedbackRequestCreate,
    FeedbackRequestRead,
    FeedbackWrite,
    PublicFeedbackForm,
    read_of,
)

router = APIRouter(tags=["Step 6: feedback"])
BASE = "/v1/applications/{application_id}/feedback-request"
PUBLIC = "/v1/public/feedback/{token}"


@router.get(
    BASE,
    summary="The application's feedback request and what the client said",
    openapi_extra=SETS_ETAG,
)
async def read_feedback_request(
    principal: WorkflowReader,
    session: SessionDep,
    application_id: ApplicationIdPath,
    links: LinksDep,
    response: Response,
) -> FeedbackRequestRead:
    request = await service.get_request(session, principal, application_id)
    response.headers["ETag"] = etag_of(request.version)
    return read_of(request, links)


@router.post(
    BASE,
    status_code=status.HTTP_201_CREATED,
    summary="Ask the client for feedback (the outcome must be unsuccessful; one per application)",
    description="Recording an `unsuccessful` outcome already does this when the client has a "
    "contact to ask. Chased every `feedback_chase_after_days`, up to `feedback_max_chases`.",
    openapi_extra=raises(
        FeedbackRequestExists, OutcomeNotUnsuccessful, ReferenceNotFound, TemplateNotValid
    )
    | SETS_ETAG,
)
async def request_feedback(
    principal: WorkflowWriter,
    session: SessionDep,
    clock: ClockDep,
    application_id: ApplicationIdPath,
    data: FeedbackRequestCreate,
    links: LinksDep,
    idem: IdempotencyDep,
    response: Response,
) -> FeedbackRequestRead:
    request = await service.request_feedback(
        session, principal, clock, links, application_id, data.contact_id
    )
    return await idem.respond(
        response,
        read_of(request, links),
        status_code=201,
        location=BASE.format(application_id=application_id),
        etag=etag_of(request.version),
    )


@router.post(
    BASE + "/feedback",
    summary="Enter the client's feedback (a consultant, by hand)",
    openapi_extra=raises(FeedbackAlreadyReceived) | SETS_ETAG,
)
async def enter_feedback(
    principal: WorkflowWriter,
    session: SessionDep,
    clock: ClockDep,
    application_id: ApplicationIdPath,
    data: FeedbackWrite,
    links: LinksDep,
    idem: IdempotencyDep,
    response: Response,
) -> FeedbackRequestRead:
    request = await service.get_request(session, principal, application_id)
    await service.record_feedback(session, principal, clock, request, data, "consultant")
    return await idem.respond(response, read_of(request, links), etag=etag_of(request.version))


@router.post(
    BASE + "/release",
    summary="Release the reviewed feedback to the candidate",
    openapi_extra=raises(FeedbackNotReceived, TemplateNotValid) | SETS_ETAG,
)
async def release_feedback(
    principal: WorkflowWriter,
    session: SessionDep,
    clock: ClockDep,
    application_id: ApplicationIdPath,
    data: FeedbackRelease,
    links: LinksDep,
    idem: IdempotencyDep,
    response: Response,
) -> FeedbackRequestRead:
    request = await service.release(session, principal, clock, application_id, data.debrief_call)
    return await idem.respond(response, read_of(request, links), etag=etag_of(request.version))


TokenPath = Annotated[str, Path(max_length=2000, description="From the link in the email.")]


async def _link_holder(
    token: TokenPath, session: SessionDep, clock: ClockDep, links: LinksDep
) -> tuple[Principal, UUID]:
    return await link_principal(token, session, links, clock.now())


LinkHolder = Annotated[tuple[Principal, UUID], Depends(_link_holder)]


@router.get(
    PUBLIC,
    tags=["Public"],
    summary="The feedback form's content, as JSON (no login)",
    description="The JSON twin of the HTML form that `client_link` opens (`/feedback/{token}`), "
    "for front-ends that draw their own form.",
    openapi_extra=raises(LinkExpired, LinkClosed),
)
async def read_feedback_form(holder: LinkHolder, session: SessionDep) -> PublicFeedbackForm:
    principal, request_id = holder
    request, context = await service.public_request(session, principal, request_id)
    return PublicFeedbackForm.of(context, answered=request.state not in service.OPEN_STATES)


@router.post(
    PUBLIC,
    tags=["Public"],
    summary="Send feedback through the link (once; 410 after)",
    description="Accepted while the request is open (`requested` or `chased`). Once answered, "
    "or closed (expired, or the candidate withdrew), the link answers 410 `link-closed`.",
    openapi_extra=raises(LinkExpired, LinkClosed, FeedbackAlreadyReceived),
)
async def submit_feedback_form(
    holder: LinkHolder, session: SessionDep, clock: ClockDep, data: FeedbackWrite
) -> PublicFeedbackForm:
    principal, request_id = holder
    request, context = await service.public_request(session, principal, request_id)
    await service.record_link_feedback(session, principal, clock, request, data)
    return PublicFeedbackForm.of(context, answered=True)
