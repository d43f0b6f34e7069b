"""The ASGI application."""

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute
from fastapi_offline import FastAPIOffline
from sqlalchemy.ext.asyncio import AsyncEngine

from app.agency.router import router as agency_router
from app.api_keys.router import router as api_keys_router
from app.applications.router import router as applications_router
from app.audit.router import router as audit_router
from app.auth.router import router as auth_router
from app.candidate_links.pages import router as candidate_pages_router
from app.candidate_links.router import router as candidate_links_router
from app.candidates.router import router as candidates_router
from app.clients.router import router as clients_router
from app.core.clock import Clock, SystemClock
from app.core.db import create_engine, session_factory
from app.core.errors import install_handlers
from app.core.fast_creates import FastRecordCreates
from app.core.fast_reads import FastRecordReads
from app.core.guards import InputGuard
from app.core.idempotency import Replay, replay_response
from app.core.limit_store import LimitStore, PostgresLimits, RedisLimits
from app.core.logging import configure_logging
from app.core.metrics import process_exited
from app.core.openapi_tags import SERVERS, TAGS
from app.core.problem_docs import problems_openapi
from app.core.rate_limits import policy_header
from app.core.record_routes import RECORD_CREATES, RECORD_READS
from app.core.requests import RequestIdMiddleware
from app.core.settings import Settings, get_settings
from app.data_rights.router import router as data_rights_router
from app.debriefs.router import router as debriefs_router
from app.decisions.router import router as decisions_router
from app.demo.examples import add_demo_examples
from app.events.router import feed_router
from app.events.router import router as events_router
from app.feedback.pages import router as feedback_pages_router
from app.feedback.router import router as feedback_router
from app.follow_ups.router import router as follow_ups_router
from app.heads_ups.router import router as heads_ups_router
from app.health.router import router as health_router
from app.interviews.router import router as interviews_router
from app.messages.router import router as messages_router
from app.metrics.router import router as metrics_router
from app.next_steps.router import router as next_steps_router
from app.reports.router import router as reports_router
from app.users.router import router as users_router
from app.vacancies.router import router as vacancies_router
from app.webhooks.router import router as webhooks_router
from app.worklist.router import router as worklist_router

log = structlog.get_logger(__name__)
CORS_REQUEST_HEADERS = [
    "Authorization",
    "Content-Type",
    "If-Match",
    "Idempotency-Key",
    "On-Behalf-Of",
    "X-Request-ID",
]
CORS_EXPOSED_HEADERS = [
    "ETag",
    "Location",
    "RateLimit",
    "RateLimit-Policy",
    "Retry-After",
    "X-Request-ID",
    "Idempotent-Replayed",
]
WORKER_STOP_SECONDS = 30.0

DESCRIPTION = """
Afterview runs a candidate's post-interview workflow for recruitment agencies.

**Log in** with *Authorize* → OAuth2 password (your email and password), or paste an API key
(`afv_…`) under *ApiKey*. Errors are RFC 9457 problem documents; match on the `type` slug.
Lists are keyset-paginated: pass `next` back as `cursor`.
"""


def operation_id(route: APIRoute) -> str:
    """A route's operationId is its function's name (`list_candidates`), so a generated
    client's methods read like the API; record routes set theirs (`create_candidate`)."""
    return route.name


def create_app(
    settings: Settings | None = None,
    *,
    engine: AsyncEngine | None = None,
    jwt_secret: str | None = None,
    clock: Clock | None = None,
    run_worker: bool | None = None,
) -> FastAPI:
    """Build the app. Without `engine`, it connects to `settings.database_url` at start-up.
    With `run_worker` (default: the setting), a worker runs beside the API in this process."""
    settings = settings or get_settings()
    with_worker = settings.run_worker if run_worker is None else run_worker

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not app.state.jwt_secret:
            raise RuntimeError("set AFTERVIEW_JWT_SECRET: it signs access tokens")
        owned = engine is None
        if owned:
            if not settings.database_url:
                raise RuntimeError("no database: start with `afterview serve`")
            app.state.engine = create_engine(
                settings.database_url,
                pool_size=settings.db_pool_size,
                max_overflow=settings.db_max_overflow,
            )
            app.state.sessions = session_factory(app.state.engine)
            app.state.limits = limit_store(settings, app.state.engine)
            freeze_what_start_up_made()
        async with _background_worker(app, settings, enabled=with_worker):
            yield
        await app.state.limits.close()
        if owned:
            await app.state.engine.dispose()
        process_exited()

    app = FastAPIOffline(  # /docs and /redoc from files in the package: no CDN, works offline
        title="Afterview",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        openapi_tags=TAGS,
        servers=list(SERVERS),  # a copy: FastAPI adds a root_path to its own list
        swagger_ui_parameters={"persistAuthorization": True, "validatorUrl": None},
    )
    app.state.settings = settings
    app.state.clock = clock or SystemClock()
    secret = jwt_secret or (settings.jwt_secret.get_secret_value() if settings.jwt_secret else None)
    app.state.jwt_secret = secret
    if engine is not None:
        app.state.engine = engine
        app.state.sessions = session_factory(engine)
        app.state.limits = limit_store(settings, engine)

    install_handlers(app)
    app.add_exception_handler(Replay, replay_response)
    app.add_middleware(FastRecordReads, reads=RECORD_READS)
    app.add_middleware(FastRecordCreates, creates=RECORD_CREATES)
    app.add_middleware(InputGuard, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(
        RequestIdMiddleware, rate_limit_policy=policy_header(settings.rate_limit_per_minute)
    )
    if settings.cors_origin_list:  # outermost: preflights and error answers carry CORS too
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=CORS_REQUEST_HEADERS,
            expose_headers=CORS_EXPOSED_HEADERS,
            max_age=600,
        )
    for router in (
        health_router,
        metrics_router,
        auth_router,
        agency_router,
        users_router,
        api_keys_router,
        audit_router,
        candidates_router,
        data_rights_router,
        clients_router,
        vacancies_router,
        applications_router,
        interviews_router,
        events_router,
        feed_router,
        next_steps_router,
        debriefs_router,
        follow_ups_router,
        candidate_links_router,
        decisions_router,
        heads_ups_router,
        feedback_router,
        feedback_pages_router,
        candidate_pages_router,
        worklist_router,
        reports_router,
        messages_router,
        webhooks_router,
    ):
        app.include_router(router)
    app.openapi = problems_openapi(app, add_demo_examples)  # type: ignore[method-assign]
    return app


def freeze_what_start_up_made() -> None:
    """Move every object start-up made (modules, routes, schemas, mappers: most of the heap)
    out of the collector's reach, so a full collection scans only what requests made since.
    Unfrozen, one took 100-130 ms on a 2-core machine, several times a minute under load: the
    p99 of every request in flight (bench/http.py). Only for a served process: its start-up
    objects live as long as it does."""
    gc.collect()
    gc.freeze()


@asynccontextmanager
async def _background_worker(
    app: FastAPI, settings: Settings, *, enabled: bool
) -> AsyncIterator[None]:
    """Run a worker beside the API (`serve` in embedded mode) and stop it on shutdown."""
    if not enabled:
        yield
        return
    from app.delivery.mail_settings import check_mail_settings
    from app.delivery.runner import run_worker

    assert settings.database_url is not None and settings.public_url is not None
    check_mail_settings(settings)  # refuse to start rather than run without a worker
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_worker(settings, settings.database_url, app.state.jwt_secret, settings.public_url, stop)
    )
    task.add_done_callback(_log_worker_end)
    try:
        yield
    finally:
        stop.set()
        with contextlib.suppress(Exception):  # a crash was logged when it happened
            await asyncio.wait_for(task, WORKER_STOP_SECONDS)


def _log_worker_end(task: "asyncio.Task[None]") -> None:
    if task.cancelled():
        log.warning("worker_cancelled")
    elif (error := task.exception()) is not None:
        log.error("worker_crashed", exc_info=error)


def limit_store(settings: Settings, engine: AsyncEngine) -> LimitStore:
    """Where quotas and failed logins are counted: Redis when configured, else PostgreSQL."""
    if settings.redis_url:
        return RedisLimits(settings.redis_url)
    return PostgresLimits(engine)


def create_app_from_env() -> FastAPI:
    """The app as a worker process builds it (`afterview serve --workers N`)."""
    settings = get_settings()
    configure_logging(json_lines=settings.log_json)
    return create_app(settings)
