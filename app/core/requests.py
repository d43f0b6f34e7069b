"""Request ids, access logging and request metrics, as a plain ASGI middleware (no per-request
task overhead)."""

import re
import time
import uuid
from contextvars import ContextVar

import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core import metrics
from app.core.logging import LOG_FIELDS_STATE, forget_principal

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")

current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)
log = structlog.get_logger("afterview.access")


REDACTED = "[redacted]"
# Public links carry their credential in the path: the HTML pages (`/feedback/{token}`,
# `/candidate/{token}` and the forms under it) and any JSON twin under
# `/v1/public/<kind>/{token}`. The segment after the prefix is never logged.
_LINK_PATH = re.compile(r"^(/feedback|/candidate|/v1/public/[^/]+)/[^/]+")
# Belt and braces for a link route added elsewhere: a segment shaped like a JWT.
_JWT_SEGMENT = re.compile(r"(?<=/)eyJ[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-.]*")


_LINK_IN_TEXT = re.compile(r"(/(?:feedback|candidate)/)eyJ[A-Za-z0-9_\-.]+")


def without_link_tokens(text: str) -> str:
    """`text` (an email's body) with the token of every public link in it replaced: the link
    is the recipient's credential, so what shows the body elsewhere (the API, events,
    webhooks, exports) must not hand it on."""
    return _LINK_IN_TEXT.sub(lambda m: f"{m.group(1)}{REDACTED}", text)


LINK_HEADERS = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
"""On every answer to a link's URL (a page, its JSON twin, their problems): the token is not
passed on as a Referer, nor kept by a cache."""


def loggable_path(path: str) -> str:
    """`path` with any signed-link token replaced, so that no log line holds a credential."""
    path = _LINK_PATH.sub(lambda m: f"{m.group(1)}/{REDACTED}", path, count=1)
    return _JWT_SEGMENT.sub(REDACTED, path)


def route_template(scope: Scope) -> str:
    """The matched route's template (`/v1/candidates/{record_id}`), never the raw path."""
    template = getattr(scope.get("route"), "path", None)
    return template if isinstance(template, str) and template else metrics.UNMATCHED_ROUTE


def accepted_request_id(incoming: str | None) -> str:
    """The caller's id when it is a sane token, otherwise a fresh one."""
    if incoming and _VALID_REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Gives each request an id, logs it, and stamps every response with its id and the rate
    limit policy (and, for a counted request, what is left of its quota)."""

    def __init__(self, app: ASGIApp, rate_limit_policy: str | None = None) -> None:
        self.app = app
        self.policy = rate_limit_policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = accepted_request_id(Headers(scope=scope).get(REQUEST_ID_HEADER))
        scope.setdefault("state", {})["request_id"] = request_id
        token = current_request_id.set(request_id)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers[REQUEST_ID_HEADER] = request_id
                if self.policy:
                    headers["RateLimit-Policy"] = self.policy
                quota = scope["state"].get("rate_limit")
                if quota is not None:
                    headers["RateLimit"] = quota.headers()["RateLimit"]
                if _LINK_PATH.match(scope["path"]):  # a credential in the URL: the JSON twins too
                    for name, value in LINK_HEADERS.items():
                        headers.setdefault(name, value)
            await send(message)

        try:
            with structlog.contextvars.bound_contextvars(request_id=request_id):
                try:
                    await self.app(scope, receive, send_with_id)
                finally:
                    self._record(scope, status, time.perf_counter() - started)
                    forget_principal()
        finally:
            current_request_id.reset(token)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        """The access line and the latency histogram; and this process's pool gauges."""
        route = route_template(scope)
        metrics.REQUEST_SECONDS.labels(scope["method"], route, str(status)).observe(seconds)
        log.info(
            "request",
            method=scope["method"],
            route=route,
            path=loggable_path(scope["path"]),
            status=status,
            ms=round(seconds * 1000, 1),
            **scope["state"].get(LOG_FIELDS_STATE, {}),
        )
        app_state = getattr(scope.get("app"), "state", None)
        if (engine := getattr(app_state, "engine", None)) is not None:
            metrics.sample_pool(engine)
