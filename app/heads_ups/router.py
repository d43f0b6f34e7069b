from fastapi import APIRouter, Response, status

from app.core.auth import WorkflowReader, WorkflowWriter
from app.core.deps import ClockDep, SessionDep
from app.core.errors import (
    ApplicationClosed,
    HeadsUpAlreadySent,
    OfferNotLikely,
    RefereeNoConsent,
    ReferenceNotFound,
    TemplateNotValid,
)
from app.core.etag import etag_of
from app.core.idempotency import IdempotencyDep
from app.core.openapi_headers import SETS_ETAG
from app.core.pagination import Page, PageQuery
from app.core.problem_docs import raises
from app.core.routing import ApplicationIdPath
from app.heads_ups import service
from app.heads_ups.schemas import HeadsUpCreate, HeadsUpRead

router = APIRouter(tags=["Step 5: referee heads-up"])
PATH = "/v1/applications/{application_id}/referee-heads-ups"


@router.get(PATH, summary="Heads-ups sent to the candidate's referees for this application")
async def list_heads_ups(
    principal: WorkflowReader,
    session: SessionDep,
    application_id: ApplicationIdPath,
    page: PageQuery,
) -> Page[HeadsUpRead]:
    rows, next_cursor = await service.list_heads_ups(session, principal, application_id, page)
    items = [HeadsUpRead.of(heads_up, message_status) for heads_up, message_status in rows]
    return Page(items=items, next=next_cursor)


@router.post(
    PATH,
    status_code=status.HTTP_201_CREATED,
    summary="Give a referee a heads-up that a reference request may come",
    description="Only while `offer_likelihood` is `high` (409 `offer-not-likely`), to a "
    "referee who consented (409 `referee-no-consent`), once per referee and application "
    "(409 `heads-up-already-sent`). The message names the role, why the candidate wants it "
    "and what to emphasise.",
    openapi_extra=raises(
        ApplicationClosed,
        OfferNotLikely,
        RefereeNoConsent,
        HeadsUpAlreadySent,
        ReferenceNotFound,
        TemplateNotValid,
    )
    | SETS_ETAG,
)
async def send_heads_up(
    principal: WorkflowWriter,
    session: SessionDep,
    clock: ClockDep,
    application_id: ApplicationIdPath,
    data: HeadsUpCreate,
    idem: IdempotencyDep,
    response: Response,
) -> HeadsUpRead:
    heads_up, message = await service.send_heads_up(session, principal, clock, application_id, data)
    body = HeadsUpRead.of(heads_up, message.status if message else None)
    return await idem.respond(
        response,
        body,
        status_code=201,
        location=PATH.format(application_id=application_id),
        etag=etag_of(heads_up.version),
    )
