"""The walls every request meets before a route, and the answer when something breaks behind
them (one ASGI middleware, so nothing is buffered or parsed twice):

- a body over `max_body_bytes` is 413 `payload-too-large`, unread when it says its length;
- a NUL anywhere (path, query, header, JSON or form body) is 422: PostgreSQL text cannot hold
  one, and no field has a use for one;
- an unexpected error is a 500 problem, and a lost database a 503 with `Retry-After`, answered
  here rather than by Starlette's last-resort handler, which would close the connection.
"""

import re
from typing import Any

import structlog
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.db import lost_connection, retryable_conflict
from app.core.errors import (
    InternalError,
    PayloadTooLarge,
    Problem,
    ServiceUnavailable,
    UnsupportedEncoding,
    ValidationFailed,
    problem_response,
)

log = structlog.get_logger("afterview.errors")

RETRY_AFTER_SECONDS = 5
NUL_MESSAGE = "must not contain NUL characters"
_NUL_IN_URL = re.compile(rb"%00|\x00")
# `\u0000` in JSON, unless its backslash is itself escaped (`\\u0000` is the text "\u0000").
_NUL_IN_JSON = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000|\x00")


class InputGuard:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refuse_head(scope)
        if refusal is not None:
            await _answer(scope, send, refusal)
            return
        body, refusal = await self._read_body(scope, receive)
        if refusal is not None:
            await _answer(scope, send, refusal)
            return
        await self._run(scope, replay_body(body, receive), send)

    def _refuse_head(self, scope: Scope) -> Problem | None:
        headers = Headers(scope=scope)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            return _too_large(self.max_body_bytes)
        if _NUL_IN_URL.search(scope.get("raw_path") or scope["path"].encode()):
            return _nul("path", "path")
        if _NUL_IN_URL.search(scope.get("query_string", b"")):
            return _nul("query", "query")
        for name, value in scope["headers"]:
            if b"\x00" in value:
                return _nul(name.decode("latin-1"), "header")
        return None

    async def _read_body(self, scope: Scope, receive: Receive) -> tuple[bytes, Problem | None]:
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return b"", _too_large(self.max_body_bytes)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        headers = Headers(scope=scope)
        coding = headers.get("content-encoding", "").strip().lower()
        if body and coding not in ("", "identity"):
            return b"", UnsupportedEncoding(f"Content-Encoding {coding[:40]!r} is not accepted.")
        kind = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if kind.endswith("json"):
            pattern = _NUL_IN_JSON
        elif kind == "application/x-www-form-urlencoded":
            pattern = _NUL_IN_URL
        else:
            return body, None
        return body, _nul("body", "body") if pattern.search(body) else None

    async def _run(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:  # too late for an answer: let the server close the connection
                raise
            await _answer(scope, send, _problem_for(exc, scope))


def _problem_for(exc: Exception, scope: Scope) -> Problem:
    if lost_connection(exc):
        log.warning("database_unavailable", error=f"{type(exc).__name__}: {exc}"[:300])
        problem: Problem = ServiceUnavailable("The database cannot be reached; try again shortly.")
        problem.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return problem
    from app.core.requests import loggable_path

    if retryable_conflict(exc):
        log.warning("transaction_conflict", path=loggable_path(scope["path"]), error=str(exc)[:500])
        problem = ServiceUnavailable("The request met another one head-on; send it again.")
        problem.headers["Retry-After"] = "1"
        return problem
    log.exception("unhandled_error", path=loggable_path(scope["path"]))
    return InternalError("Something went wrong on our side.")


def replay_body(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # http.disconnect, when the client goes

    return replayed


def _too_large(limit: int) -> Problem:
    return PayloadTooLarge(f"The body is over {limit} bytes.", max_bytes=limit)


def _nul(field: str, location: str) -> Problem:
    return ValidationFailed.at_field(field, NUL_MESSAGE, location=location)


async def _answer(scope: Scope, send: Send, problem: Problem) -> None:
    response = problem_response(Request(scope), problem)

    async def no_body() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    await response(scope, no_body, send)
