from fastapi import APIRouter, Response

from app.core.auth import Admin, RecordsReader
from app.core.deps import ClockDep, SessionDep
from app.core.idempotency import IdempotencyDep
from app.core.routing import CandidateIdPath
from app.data_rights import service
from app.data_rights.schemas import CandidateExport, ErasureReport, ErasureRequest

router = APIRouter(prefix="/v1/candidates/{candidate_id}", tags=["Data rights"])


@router.get(
    "/export",
    summary="Everything held about a candidate, as one JSON document (subject access)",
    description="The record, referees, applications with their interviews and every workflow "
    "step, feedback, messages and the timeline. Scope `records:read` for API keys.",
)
async def export_candidate(
    principal: RecordsReader, session: SessionDep, clock: ClockDep, candidate_id: CandidateIdPath
) -> CandidateExport:
    return await service.export_candidate(session, principal, clock, candidate_id)


@router.post(
    "/erasure",
    summary="Erase a candidate: anonymise their personal data everywhere (admins)",
    description="Names, addresses and free text go from the candidate, their referees, every "
    "step of their applications, their messages (queued ones are cancelled) and the events' "
    "snapshots; counts and dates stay, so the reports keep their numbers. Audited. Erasing "
    "again changes nothing.",
)
async def erase_candidate(
    principal: Admin,
    session: SessionDep,
    clock: ClockDep,
    candidate_id: CandidateIdPath,
    data: ErasureRequest,
    idem: IdempotencyDep,
    response: Response,
) -> ErasureReport:
    report = await service.erase_candidate(session, principal, clock, candidate_id, why=data.reason)
    return await idem.respond(response, report)
