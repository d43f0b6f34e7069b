"""The routes every synced record has, declared once: create, read, change, delete, and
create-or-replace by the integrator's id. (Lists differ per record and stay in each router.)
"""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Response, status
from pydantic import BaseModel

from app.core.auth import RecordsReader, RecordsWriter
from app.core.deps import ClockDep, SessionDep
from app.core.errors import ExternalIdTaken, PreconditionRequired
from app.core.etag import IfMatch, etag_of
from app.core.fast_creates import RecordCreate
from app.core.fast_reads import RecordRead
from app.core.idempotency import IdempotencyDep
from app.core.openapi_headers import SETS_ETAG
from app.core.problem_docs import raises
from app.core.records import RecordService
from app.core.routing import ExternalIdPath, upserted, with_etag

RECORD_READS: dict[str, RecordRead] = {}
"""Each record's `GET {path}/{record_id}`, by `path` (for `FastRecordReads`)."""
RECORD_CREATES: dict[str, RecordCreate] = {}
"""Each record's `POST {path}`, by `path` (for `FastRecordCreates`)."""


def add_record_routes(
    router: APIRouter,
    *,
    service: RecordService[Any],
    path: str,
    read: type[BaseModel],
    update: type[BaseModel],
    create: type[BaseModel] | None = None,
    replace: type[BaseModel] | None = None,
    delete_summary: str | None = None,
    plain_list: bool = False,
) -> None:
    """`GET, PATCH, DELETE {path}/{id}`; with `create`, `POST {path}`; with `replace`,
    `PUT {path}/by-external-id/{id}`. `plain_list`: the router's `GET {path}`, given no filter,
    lists every record of the agency in sync order (so `FastRecordReads` may answer it)."""
    label = service.label
    writes = service.write_problems
    if hasattr(service.model, "external_id"):
        writes = (ExternalIdTaken, *writes)
    a_label = ("an " if label[0] in "aeiou" else "a ") + label
    record_id_path = Path(description=f"The {label}'s id.")

    async def create_record(
        principal: RecordsWriter,
        session: SessionDep,
        clock: ClockDep,
        data: create,  # type: ignore[valid-type]
        idem: IdempotencyDep,
        response: Response,
    ) -> Any:
        record, shown = await service.create_shown(session, principal, clock, data)
        return await idem.respond(
            response,
            shown,
            status_code=status.HTTP_201_CREATED,
            location=f"{path}/{record.id}",
            etag=etag_of(record.version),
        )

    async def read_record(
        principal: RecordsReader,
        session: SessionDep,
        record_id: Annotated[UUID, record_id_path],
        response: Response,
    ) -> Any:
        shown, version = await service.read_one(session, principal, record_id)
        return with_etag(response, shown, version)

    async def update_record(
        principal: RecordsWriter,
        session: SessionDep,
        clock: ClockDep,
        record_id: Annotated[UUID, record_id_path],
        changes: update,  # type: ignore[valid-type]
        response: Response,
        if_match: IfMatch = None,
    ) -> Any:
        record = await service.update(session, principal, clock, record_id, changes, if_match)
        return with_etag(response, read.model_validate(record), record.version)

    async def delete_record(
        principal: RecordsWriter,
        session: SessionDep,
        clock: ClockDep,
        record_id: Annotated[UUID, record_id_path],
        if_match: IfMatch = None,
    ) -> None:
        await service.delete(session, principal, clock, record_id, if_match)

    if create is not None:
        RECORD_CREATES[path] = RecordCreate(service, path, create, read)
        router.add_api_route(
            path,
            create_record,
            methods=["POST"],
            response_model=read,
            status_code=status.HTTP_201_CREATED,
            summary=f"Add {a_label}",
            operation_id=f"create_{label}",
            openapi_extra=raises(*writes) | SETS_ETAG,
        )
    item = f"{path}/{{record_id}}"
    RECORD_READS[path] = RecordRead(service, path, plain_list)
    router.add_api_route(
        item,
        read_record,
        methods=["GET"],
        response_model=read,
        summary=f"Read {a_label}",
        operation_id=f"read_{label}",
        openapi_extra=SETS_ETAG,
    )
    router.add_api_route(
        item,
        update_record,
        methods=["PATCH"],
        response_model=read,
        summary=f"Change {a_label} (requires If-Match)",
        operation_id=f"update_{label}",
        openapi_extra=raises(PreconditionRequired, *writes) | SETS_ETAG,
    )
    if delete_summary is not None:
        router.add_api_route(
            item,
            delete_record,
            methods=["DELETE"],
            status_code=status.HTTP_204_NO_CONTENT,
            summary=delete_summary,
            operation_id=f"delete_{label}",
            openapi_extra=raises(*service.delete_problems),
        )
    if replace is None:
        return

    async def upsert_record(
        principal: RecordsWriter,
        session: SessionDep,
        clock: ClockDep,
        external_id: ExternalIdPath,
        data: replace,  # type: ignore[valid-type]
        response: Response,
        if_match: IfMatch = None,
    ) -> Any:
        record, created = await service.upsert(
            session, principal, clock, external_id, data, if_match
        )
        return upserted(
            response, read.model_validate(record), record.version, created, f"{path}/{record.id}"
        )

    router.add_api_route(
        f"{path}/by-external-id/{{external_id}}",
        upsert_record,
        methods=["PUT"],
        response_model=read,
        summary=f"Create or replace {a_label} by your system's id",
        operation_id=f"upsert_{label}_by_external_id",
        openapi_extra=raises(*writes) | SETS_ETAG,
        responses={
            201: {"model": read, "description": "Created"},
            200: {"description": "Replaced"},
        },
    )
