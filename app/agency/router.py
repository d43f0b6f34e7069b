from fastapi import APIRouter, Response

from app.agency import service
from app.agency.schemas import AgencyRead, AgencyUpdate
from app.core.auth import Admin, AgencyReader
from app.core.deps import ClockDep, SessionDep
from app.core.errors import PreconditionRequired
from app.core.etag import IfMatch, set_etag
from app.core.openapi_headers import SETS_ETAG
from app.core.problem_docs import raises

router = APIRouter(prefix="/v1/agency", tags=["Agency"])


@router.get("", summary="Your agency and its workflow settings", openapi_extra=SETS_ETAG)
async def read_agency(
    principal: AgencyReader, session: SessionDep, response: Response
) -> AgencyRead:
    agency = await service.get_agency(session, principal)
    set_etag(response, agency.version)
    return AgencyRead.model_validate(agency)


@router.patch(
    "",
    summary="Change settings (admins; requires If-Match)",
    openapi_extra=raises(PreconditionRequired) | SETS_ETAG,
)
async def update_agency(
    principal: Admin,
    session: SessionDep,
    clock: ClockDep,
    changes: AgencyUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> AgencyRead:
    agency = await service.update_agency(session, principal, clock, changes, if_match)
    set_etag(response, agency.version)
    return AgencyRead.model_validate(agency)
