"""Every problem the test suite sees a route answer must be one the OpenAPI document declares
for that route, with that status and slug (`app/core/problem_docs.py`).

`ProblemLog` is ASGI middleware the test apps wear: it notes (method, route, status, slug) of
each problem response. At the end of the session `undeclared` compares them with the document.
"""

import json
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import PROBLEM_BASE_URI, PROBLEM_MEDIA_TYPE
from app.core.openapi_paths import path_template


@dataclass(frozen=True, order=True)
class Answer:
    method: str
    path: str
    status: int
    slug: str


@dataclass
class Observations:
    answers: set[Answer] = field(default_factory=set)
    spec: dict[str, Any] | None = None


OBSERVED = Observations()


class ProblemLog:
    def __init__(self, app: ASGIApp, fastapi_app: FastAPI) -> None:
        self.app = app
        self.fastapi_app = fastapi_app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 0
        is_problem = False
        body = bytearray()

        async def noting(message: Message) -> None:
            nonlocal status, is_problem
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = dict(message.get("headers", []))
                is_problem = headers.get(b"content-type", b"").decode() == PROBLEM_MEDIA_TYPE
            elif message["type"] == "http.response.body" and is_problem:
                body.extend(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, noting)
        if is_problem:
            self._note(scope, status, bytes(body))

    def _note(self, scope: Scope, status: int, body: bytes) -> None:
        if status == 500:  # a bug, never declared (and tested as such elsewhere)
            return
        slug = json.loads(body)["type"].removeprefix(PROBLEM_BASE_URI)
        OBSERVED.answers.add(Answer(scope["method"], scope["path"], status, slug))
        if OBSERVED.spec is None:
            OBSERVED.spec = self.fastapi_app.openapi()


def wear_problem_log(app: FastAPI) -> FastAPI:
    app.add_middleware(ProblemLog, fastapi_app=app)
    return app


def undeclared() -> list[Answer]:
    """Answers the suite saw that the document does not declare for their operation, with the
    operation's path template in place of the request's path."""
    spec = OBSERVED.spec
    if spec is None:
        return []
    missing = set()
    for answer in OBSERVED.answers:
        template = path_template(spec, answer.path, answer.method)
        if template is None:  # a path the document leaves out (the HTML pages, or none at all)
            continue
        operation = spec["paths"][template][answer.method.lower()]
        response = operation["responses"].get(str(answer.status), {})
        examples = response.get("content", {}).get(PROBLEM_MEDIA_TYPE, {}).get("examples", {})
        if answer.slug not in examples:
            missing.add(Answer(answer.method, template, answer.status, answer.slug))
    return sorted(missing)
