"""CORS for browser front-ends: only the origins in `AFTERVIEW_CORS_ORIGINS` (none by default),
with the headers an integrator needs readable (`ETag`, `Location`, `RateLimit*`, `X-Request-ID`)."""

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.clock import FixedClock
from app.core.provision import DatabaseUrls
from app.core.settings import Settings
from app.main import create_app
from tests.conftest import JWT_SECRET
from tests.support.tenants import make_tenant, new_client

FRONT_END = "https://app.agency.example"


def cors_app(engine: AsyncEngine, clock: FixedClock, urls: DatabaseUrls) -> FastAPI:
    settings = Settings(database_url=urls.runtime, cors_origins=f"{FRONT_END}, https://x.example")
    return create_app(settings, engine=engine, jwt_secret=JWT_SECRET, clock=clock)


async def test_a_listed_origin_may_call_and_read_the_headers_it_needs(
    engine: AsyncEngine, clock: FixedClock, database_urls: DatabaseUrls
) -> None:
    app = cors_app(engine, clock, database_urls)
    async with make_tenant(app, clock, "Browser Agency") as tenant:
        auth = tenant.admin.headers["Authorization"]
        async with new_client(app) as browser:
            preflight = await browser.options(
                "/v1/candidates",
                headers={
                    "Origin": FRONT_END,
                    "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": "authorization, idempotency-key, if-match",
                },
            )
            read = await browser.get(
                "/v1/candidates", headers={"Origin": FRONT_END, "Authorization": auth}
            )
            refused = await browser.get("/v1/candidates", headers={"Origin": FRONT_END})
            other = await browser.get(
                "/v1/candidates", headers={"Origin": "https://evil.example", "Authorization": auth}
            )
    assert preflight.status_code == 200, preflight.text
    assert preflight.headers["access-control-allow-origin"] == FRONT_END
    assert "POST" in preflight.headers["access-control-allow-methods"]
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert {"authorization", "idempotency-key", "if-match"} <= set(allowed.split(", "))
    assert read.status_code == 200
    assert read.headers["access-control-allow-origin"] == FRONT_END
    exposed = {h.strip().lower() for h in read.headers["access-control-expose-headers"].split(",")}
    assert {"etag", "location", "ratelimit", "ratelimit-policy", "x-request-id"} <= exposed
    assert refused.status_code == 401  # an error answer is readable by the front-end too
    assert refused.headers["access-control-allow-origin"] == FRONT_END
    assert other.status_code == 200 and "access-control-allow-origin" not in other.headers


async def test_no_origin_is_allowed_by_default(anon: AsyncClient) -> None:
    response = await anon.get("/healthz", headers={"Origin": FRONT_END})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
