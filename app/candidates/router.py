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
from app.core.errors import CandidateErased
from app.core.etag import etag_of
from app.core.idempotency import IdempotencyDep
from app.core.openapi_headers import SETS_ETAG
from app.core.pagination import Page, PageQuery
from app.core.problem_docs import raises
from app.core.record_routes import add_record_routes
from app.core.routing import CandidateIdPath, ExternalIdQuery, UpdatedAfter
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
    external_id: ExternalIdQuery = None,
    owner_id: Annotated[
        UUID | None, Query(description="Only candidates this consultant (a user id) owns.")
    ] = None,
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


@router.get("/v1/candidates/{candidate_id}/referees", summary="List a candidate's referees")
async def list_referees(
    principal: RecordsReader, session: SessionDep, candidate_id: CandidateIdPath, page: PageQuery
) -> Page[RefereeRead]:
    items, next_cursor = await referees.for_candidate(session, principal, candidate_id, page)
    return Page(items=[RefereeRead.model_validate(r) for r in items], next=next_cursor)


@router.post(
    "/v1/candidates/{candidate_id}/referees",
    status_code=status.HTTP_201_CREATED,
    summary="Add a referee to a candidate",
    openapi_extra=raises(CandidateErased) | SETS_ETAG,
)
async def create_referee(
    principal: RecordsWriter,
    session: SessionDep,
    clock: ClockDep,
    candidate_id: CandidateIdPath,
    data: RefereeCreate,
    idem: IdempotencyDep,
    response: Response,
) -> RefereeRead:
    candidate = await candidates.living(session, principal, candidate_id)
    referee = await referees.create(session, principal, clock, data, candidate_id=candidate.id)
    return await idem.respond(
        response,
        RefereeRead.model_validate(referee),
        status_code=201,
        location=f"/v1/referees/{referee.id}",
        etag=etag_of(referee.version),
    )


add_record_routes(
    router,
    service=candidates,
    path="/v1/candidates",
    plain_list=True,
    create=CandidateCreate,
    read=CandidateRead,
    update=CandidateUpdate,
    replace=CandidateReplace,
    delete_summary="Delete a candidate with no applications (and their referees)",
)
add_record_routes(
    router,
    service=referees,
    path="/v1/referees",
    read=RefereeRead,
    update=RefereeUpdate,
    delete_summary="Remove a referee",
)
