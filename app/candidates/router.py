from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from app.candidates.schemas import (
    CandidateCreate,
    CandidateRead,
    CandidateReplace,
    CandidateUpdate,
    RefereeCreate,
    RefereeRead,
    RefereeUpdate,
)
from app.candidates.service import candidates, referees
from app.core.auth import RecordsReader, RecordsWriter
from app.core.deps import ClockDep, SessionDep
from app.core.etag import IfMatch, etag_of
from app.core.idempotency import IdempotencyDep
from app.core.pagination import Page, PageQuery
from app.core.routing import ExternalIdPath, UpdatedAfter, upserted, with_etag
from app.core.schemas import Email

router = APIRouter(tags=["Candidates"])


@router.get("/v1/candidates", summary="List candidates (sync order: updated_at, then id)")
async def list_candidates(
    principal: RecordsReader,
    session: SessionDep,
    page: PageQuery,
    email: Annotated[Email | None, Query(description="Exact email address.")] = None,
    name: Annotated[
        str | None, Query(min_length=1, max_length=100, description="Part of the name.")
    ] = None,
    external_id: Annotated[str | None, Query(max_length=200)] = None,
    owner_id: Annotated[UUID | None, Query()] = None,
    updated_after: UpdatedAfter = None,
) -> Page[CandidateRead]:
    items, next_cursor = await candidates.search(
        session,
        principal,
        page,
        email=email,
        name=name,
        external_id=external_id,
        owner_id=owner_id,
        updated_after=updated_after,
    )
    return Page(items=[CandidateRead.model_validate(c) for c in items], next=next_cursor)


@router.post("/v1/candidates", status_code=status.HTTP_201_CREATED, summary="Add a candidate")
async def create_candidate(
    principal: RecordsWriter,
    session: SessionDep,
    clock: ClockDep,
    data: CandidateCreate,
    idem: IdempotencyDep,
    response: Response,
) -> CandidateRead:
    candidate = await candidates.create(session, principal, clock, data)
    return await idem.respond(
        response,
        CandidateRead.model_validate(candidate),
        status_code=201,
        location=f"/v1/candidates/{candidate.id}",
        etag=etag_of(candidate.version),
    )


@router.get("/v1/candidates/{candidate_id}", summary="Read a candidate")
async def read_candidate(
    principal: RecordsReader, session: SessionDep, candidate_id: UUID, response: Response
) -> CandidateRead:
    candidate = await candidates.get(session, principal, candidate_id)
    return with_etag(response, CandidateRead.model_validate(candidate), candidate.version)


@router.patch("/v1/candidates/{candidate_id}", summary="Change a candidate (requires If-Match)")
async def update_candidate(
    principal: RecordsWriter,
    session: SessionDep,
    clock: ClockDep,
    candidate_id: UUID,
    changes: CandidateUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> CandidateRead:
    candidate = await candidates.update(session, principal, clock, candidate_id, changes, if_match)
    return with_etag(response, CandidateRead.model_validate(candidate), candidate.version)


@router.delete(
    "/v1/candidates/{candidate_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a candidate with no applications (and their referees)",
)
async def delete_candidate(
    principal: RecordsWriter,
    session: SessionDep,
    clock: ClockDep,
    candidate_id: UUID,
    if_match: IfMatch = None,
) -> None:
    await candidates.delete(session, principal, clock, candidate_id, if_match)


@router.put(
    "/v1/candidates/by-external-id/{external_id}",
    summary="Create or replace a candidate by your system's id",
    responses={201: {"description": "Created"}, 200: {"description": "Replaced"}},
)
async def upsert_candidate(
    principal: RecordsWriter,
    session: SessionDep,
    clock: ClockDep,
    external_id: ExternalIdPath,
    data: CandidateReplace,
    response: Response,
    if_match: IfMatch = None,
) -> CandidateRead:
    candidate, created = await candidates.upsert(
        session, principal, clock, external_id, data, if_match
    )
    return upserted(
        response,
        CandidateRead.model_validate(candidate),
        candidate.version,
        created,
        f"/v1/candidates/{candidate.id}",
    )


@router.get("/v1/candidates/{candidate_id}/referees", summary="List a candidate's referees")
async def list_referees(
    principal: RecordsReader, session: SessionDep, candidate_id: UUID, page: PageQuery
) -> Page[RefereeRead]:
    items, next_cursor = await referees.for_candidate(session, principal, candidate_id, page)
    return Page(items=[RefereeRead.model_validate(r) for r in items], next=next_cursor)


@router.post(
    "/v1/candidates/{candidate_id}/referees",
    status_code=status.HTTP_201_CREATED,
    summary="Add a referee to a candidate",
)
async def create_referee(
    principal: RecordsWriter,
    session: SessionDep,
    clock: ClockDep,
    candidate_id: UUID,
    data: RefereeCreate,
    idem: IdempotencyDep,
    response: Response,
) -> RefereeRead:
    candidate = await candidates.get(session, principal, candidate_id)
    referee = await referees.create(session, principal, clock, data, candidate_id=candidate.id)
    return await idem.respond(
        response,
        RefereeRead.model_validate(referee),
        status_code=201,
        location=f"/v1/referees/{referee.id}",
        etag=etag_of(referee.version),
    )


@router.get("/v1/referees/{referee_id}", summary="Read a referee")
async def read_referee(
    principal: RecordsReader, session: SessionDep, referee_id: UUID, response: Response
) -> RefereeRead:
    referee = await referees.get(session, principal, referee_id)
    return with_etag(response, RefereeRead.model_validate(referee), referee.version)


@router.patch("/v1/referees/{referee_id}", summary="Change a referee (requires If-Match)")
async def update_referee(
    principal: RecordsWriter,
    session: SessionDep,
    clock: ClockDep,
    referee_id: UUID,
    changes: RefereeUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> RefereeRead:
    referee = await referees.update(session, principal, clock, referee_id, changes, if_match)
    return with_etag(response, RefereeRead.model_validate(referee), referee.version)


@router.delete(
    "/v1/referees/{referee_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Remove a referee"
)
async def delete_referee(
    principal: RecordsWriter,
    session: SessionDep,
    clock: ClockDep,
    referee_id: UUID,
    if_match: IfMatch = None,
) -> None:
    await referees.delete(session, principal, clock, referee_id, if_match)
