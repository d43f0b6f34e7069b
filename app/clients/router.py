from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.clients.schemas import (
    ClientCreate,
    ClientRead,
    ClientReplace,
    ClientUpdate,
    ContactCreate,
    ContactRead,
    ContactReplace,
    ContactUpdate,
)
from app.clients.service import clients, contacts
from app.core.auth import RecordsReader, RecordsWriter
from app.core.deps import ClockDep, SessionDep
from app.core.errors import ExternalIdTaken
from app.core.etag import etag_of
from app.core.idempotency import IdempotencyDep
from app.core.openapi_headers import SETS_ETAG
from app.core.pagination import Page, PageQuery
from app.core.problem_docs import raises
from app.core.record_routes import add_record_routes
from app.core.records import contains
from app.core.routing import ClientIdPath, ExternalIdQuery, UpdatedAfter
from app.models import Client

router = APIRouter(tags=["Clients"])


@router.get("/v1/clients", summary="List clients (sync order: updated_at, then id)")
async def list_clients(
    principal: RecordsReader,
    session: SessionDep,
    page: PageQuery,
    name: Annotated[str | None, Query(max_length=200, description="Part of the name.")] = None,
    external_id: ExternalIdQuery = None,
    updated_after: UpdatedAfter = None,
) -> Page[ClientRead]:
    items, next_cursor = await clients.listing(
        session,
        principal,
        page,
        updated_after=updated_after,
        where=contains(Client.name, name),
        external_id=external_id,
    )
    return Page(items=[ClientRead.model_validate(c) for c in items], next=next_cursor)


@router.get("/v1/clients/{client_id}/contacts", summary="List a client's contacts")
async def list_contacts(
    principal: RecordsReader, session: SessionDep, client_id: ClientIdPath, page: PageQuery
) -> Page[ContactRead]:
    items, next_cursor = await contacts.for_client(session, principal, client_id, page)
    return Page(items=[ContactRead.model_validate(c) for c in items], next=next_cursor)


@router.post(
    "/v1/clients/{client_id}/contacts",
    status_code=status.HTTP_201_CREATED,
    summary="Add a contact (interviewer, hiring manager) to a client",
    openapi_extra=raises(ExternalIdTaken) | SETS_ETAG,
)
async def create_contact(
    principal: RecordsWriter,
    session: SessionDep,
    clock: ClockDep,
    client_id: ClientIdPath,
    data: ContactCreate,
    idem: IdempotencyDep,
    response: Response,
) -> ContactRead:
    client = await clients.get(session, principal, client_id)
    contact = await contacts.create(session, principal, clock, data, client_id=client.id)
    return await idem.respond(
        response,
        ContactRead.model_validate(contact),
        status_code=201,
        location=f"/v1/contacts/{contact.id}",
        etag=etag_of(contact.version),
    )


add_record_routes(
    router,
    service=clients,
    path="/v1/clients",
    plain_list=True,
    create=ClientCreate,
    read=ClientRead,
    update=ClientUpdate,
    replace=ClientReplace,
    delete_summary="Delete a client whose vacancies have no applications (with them and its "
    "contacts)",
)
add_record_routes(
    router,
    service=contacts,
    path="/v1/contacts",
    read=ContactRead,
    update=ContactUpdate,
    replace=ContactReplace,
    delete_summary="Delete a contact who sits on no interview panel",
)
