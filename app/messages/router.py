from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query, Response

from app.core.auth import Admin, WorkflowReader, WorkflowWriter
from app.core.deps import ClockDep, SessionDep
from app.core.errors import MessageNotFailed, TemplateNotValid
from app.core.etag import IfMatch, set_etag
from app.core.idempotency import IdempotencyDep
from app.core.openapi_headers import SETS_ETAG
from app.core.pagination import Page, PageQuery
from app.core.problem_docs import raises
from app.messages import service
from app.messages.schemas import MessageRead, TemplateRead, TemplateWrite
from app.messages.templates import DEFAULTS
from app.models import MessageKind, MessageStatus

router = APIRouter(tags=["Delivery"])
MessageIdPath = Annotated[UUID, Path(description="The message's id.")]
KindPath = Annotated[MessageKind, Path(description="Which message the template words.")]


async def template_read(template: service.CurrentTemplate) -> TemplateRead:
    sample = DEFAULTS[template.kind].sample
    subject, body = await service.preview_template(template)
    return TemplateRead(
        kind=template.kind,
        subject=template.subject,
        body=template.body,
        is_default=template.is_default,
        variables=sample,
        preview_subject=subject,
        preview_body=body,
    )


@router.get("/v1/messages", summary="The outbox: messages the workflow queued, newest first")
async def list_messages(
    principal: WorkflowReader,
    session: SessionDep,
    page: PageQuery,
    status: Annotated[MessageStatus | None, Query(description="Only in this status.")] = None,
    kind: Annotated[MessageKind | None, Query(description="Only of this kind.")] = None,
    application_id: Annotated[
        UUID | None, Query(description="Only about this application.")
    ] = None,
) -> Page[MessageRead]:
    items, next_cursor = await service.list_messages(
        session, principal, page, status=status, kind=kind, application_id=application_id
    )
    return Page(items=[MessageRead.model_validate(m) for m in items], next=next_cursor)


@router.get("/v1/messages/{message_id}", summary="Read a message")
async def read_message(
    principal: WorkflowReader, session: SessionDep, message_id: MessageIdPath
) -> MessageRead:
    return MessageRead.model_validate(await service.get_message(session, principal, message_id))


@router.post(
    "/v1/messages/{message_id}/retry",
    summary="Send a failed message again (same Message-ID, a fresh set of attempts)",
    openapi_extra=raises(MessageNotFailed),
)
async def retry_message(
    principal: WorkflowWriter,
    session: SessionDep,
    clock: ClockDep,
    message_id: MessageIdPath,
    idem: IdempotencyDep,
    response: Response,
) -> MessageRead:
    message = await service.retry_message(session, principal, clock, message_id)
    return await idem.respond(response, MessageRead.model_validate(message))


@router.get(
    "/v1/message-templates/{kind}",
    summary="The wording your agency uses for a message",
    openapi_extra=raises(TemplateNotValid) | SETS_ETAG,
)
async def read_message_template(
    principal: WorkflowReader, session: SessionDep, kind: KindPath, response: Response
) -> TemplateRead:
    template = await service.current_template(session, principal, kind)
    set_etag(response, template.version)
    return await template_read(template)


@router.put(
    "/v1/message-templates/{kind}",
    summary="Change the wording of a message (admins); refused (422) if it does not render",
    openapi_extra=raises(TemplateNotValid) | SETS_ETAG,
)
async def save_message_template(
    principal: Admin,
    session: SessionDep,
    clock: ClockDep,
    kind: KindPath,
    data: TemplateWrite,
    response: Response,
    if_match: IfMatch = None,
) -> TemplateRead:
    template = await service.save_template(
        session, principal, clock, kind, data.subject, data.body, if_match
    )
    set_etag(response, template.version)
    return await template_read(template)
