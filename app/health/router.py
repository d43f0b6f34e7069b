import asyncio

from fastapi import APIRouter
from sqlalchemy import text

from app.core.errors import ServiceUnavailable
from app.core.guards import RETRY_AFTER_SECONDS
from app.core.state import StateDep

router = APIRouter(tags=["Operations"])
READY_TIMEOUT_SECONDS = 2.0


@router.get("/healthz", summary="The process is up")
async def check_liveness() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The process can reach its database")
async def check_readiness(state: StateDep) -> dict[str, str]:
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            async with state.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach the database means "not ready"
        problem = ServiceUnavailable("The database cannot be reached.")
        problem.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        raise problem from exc
    return {"status": "ok", "database": "ok"}
