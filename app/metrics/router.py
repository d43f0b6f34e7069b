"""`GET /metrics`: Prometheus text format, for the scraper (not in the OpenAPI document).

No JWT and no rate limit. With AFTERVIEW_METRICS_TOKEN set, the scraper sends it as a bearer
token; without it the route is open, so keep the port on a private network.
"""

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Response
from prometheus_client import CONTENT_TYPE_LATEST

from app.core.errors import AuthenticationRequired, InvalidToken
from app.core.metrics import exposition, outbox_families, sample_pool
from app.core.state import SettingsDep, StateDep
from app.metrics.service import outbox_depth

router = APIRouter()


async def _scraper(
    settings: SettingsDep, authorization: Annotated[str | None, Header()] = None
) -> None:
    """Let the scrape through when no token is configured, or when it carries the token."""
    token = settings.metrics_token
    if token is None:
        return
    if not authorization:
        raise _challenge(AuthenticationRequired("Send the metrics token as a bearer token."))
    scheme, _, given = authorization.partition(" ")
    expected = token.get_secret_value().encode()
    if scheme.lower() != "bearer" or not secrets.compare_digest(given.strip().encode(), expected):
        raise _challenge(InvalidToken("The metrics token is not valid."))


def _challenge(problem: AuthenticationRequired | InvalidToken) -> Exception:
    problem.headers["WWW-Authenticate"] = "Bearer"
    return problem


@router.get("/metrics", include_in_schema=False, dependencies=[Depends(_scraper)])
async def read_metrics(state: StateDep) -> Response:
    sample_pool(state.engine)
    depth = await outbox_depth(state.sessions)
    return Response(exposition(outbox_families(depth)), media_type=CONTENT_TYPE_LATEST)
