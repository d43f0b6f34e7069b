"""The fast lanes' tests: the app as served next to a twin without one lane (the FastAPI route
alone), asked the same questions."""

import re
from datetime import timedelta
from typing import Any, cast

import pytest
from fastapi import FastAPI
from httpx import Response
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.clock import FixedClock
from app.core.provision import DatabaseUrls
from app.core.settings import Settings
from app.main import create_app
from tests.conftest import JWT_SECRET
from tests.support.tenants import Tenant, new_client

LIMIT = 30
"""Each test's quota per minute: small, so a test can run into it."""
PER_ANSWER = {"x-request-id", "date"}
"""Headers that differ between any two answers: the request's own id, the time."""
_REMAINING = re.compile(r";r=(\d+);")


class Lanes:
    """The served app and its route-only twin, with a count of the fast lane's answers."""

    def __init__(self, served: FastAPI, route_only: FastAPI) -> None:
        self.served, self.route_only = served, route_only
        self.fast_answers = 0
        self.taken: list[bool] = []
        """For each question: whether the fast lane answered its first asking."""

    async def both(self, path: str, credential: str, **headers: str) -> tuple[Response, Response]:
        """`GET path` through the fast lane's app, then through the route alone."""
        return await self._ask("GET", path, credential, (b"", b""), headers)

    async def both_posted(
        self, path: str, credential: str, bodies: tuple[bytes, bytes], **headers: str
    ) -> tuple[Response, Response]:
        """`POST path` with the first body through the fast lane's app, then with the second
        through the route alone (JSON unless `headers` say otherwise)."""
        headers = {"Content-Type": "application/json", **headers}
        return await self._ask("POST", path, credential, bodies, headers)

    async def _ask(
        self,
        method: str,
        path: str,
        credential: str,
        bodies: tuple[bytes, bytes],
        headers: dict[str, str],
    ) -> tuple[Response, Response]:
        answers, before = [], self.fast_answers
        for app, body in zip((self.served, self.route_only), bodies, strict=True):
            async with new_client(app, credential) as client:
                answers.append(
                    await client.request(method, path, content=body or None, headers=headers)
                )
        self.taken.append(self.fast_answers > before)
        return answers[0], answers[1]


def counted_lanes(
    engine: AsyncEngine,
    clock: FixedClock,
    urls: DatabaseUrls,
    lane: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> Lanes:
    """`Lanes` for the middleware class `lane`, counting the answers its `_answer` gives."""
    lanes = Lanes(*twin_apps(engine, clock, urls, lane))
    answer = lane._answer

    async def counted(self: Any, *args: Any) -> Any:
        lanes.fast_answers += 1
        return await answer(self, *args)

    monkeypatch.setattr(lane, "_answer", counted)
    return lanes


def twin_apps(
    engine: AsyncEngine, clock: FixedClock, urls: DatabaseUrls, lane: type
) -> tuple[FastAPI, FastAPI]:
    """The app as served, and one built alike with the middleware `lane` taken out."""
    settings = Settings(
        database_url=urls.runtime, public_url="http://afterview.test", rate_limit_per_minute=LIMIT
    )
    served = create_app(settings, engine=engine, jwt_secret=JWT_SECRET, clock=clock)
    route_only = create_app(settings, engine=engine, jwt_secret=JWT_SECRET, clock=clock)
    route_only.user_middleware = [
        m for m in route_only.user_middleware if cast(object, m.cls) is not lane
    ]
    return served, route_only


def early_in_a_minute(clock: FixedClock) -> None:
    """The quota's window must not roll over mid-test."""
    clock.set(clock.now().replace(second=1, microsecond=0) + timedelta(minutes=1))


async def fresh_token(tenant: Tenant, user: dict[str, Any] | None = None) -> str:
    """A consultant's token with a whole quota of its own (a new consultant's by default)."""
    user = user or await tenant.add_user("consultant")
    async with new_client(tenant.app) as anon:
        answer = await anon.post(
            "/v1/auth/token", data={"username": user["email"], "password": user["password"]}
        )
    token: str = answer.json()["access_token"]
    return token


def headers_alike(fast: Response, route: Response, *, swap: dict[str, str] | None = None) -> None:
    """Same headers but the per-answer ones and the quota's count (the second answer has one
    request fewer left); `swap` replaces ids of the fast answer's records by the route's."""
    fast_headers = {k: _swapped(v, swap) for k, v in fast.headers.items() if k not in PER_ANSWER}
    route_headers = {k: v for k, v in route.headers.items() if k not in PER_ANSWER}
    fast_left = _REMAINING.search(fast_headers.pop("ratelimit"))
    route_left = _REMAINING.search(route_headers.pop("ratelimit"))
    assert fast_left is not None and route_left is not None
    assert int(route_left.group(1)) == max(int(fast_left.group(1)) - 1, 0)
    assert fast_headers == route_headers


def problems_alike(fast: Response, route: Response) -> None:
    """Problems carry the request id in the body too: compare the rest."""
    assert fast.status_code == route.status_code
    fast_body, route_body = fast.json(), route.json()
    assert fast_body.pop("request_id") == fast.headers["x-request-id"]
    assert route_body.pop("request_id") == route.headers["x-request-id"]
    assert fast_body == route_body
    assert fast.headers.get("www-authenticate") == route.headers.get("www-authenticate")
    assert fast.headers["content-type"] == route.headers["content-type"]


def _swapped(value: str, swap: dict[str, str] | None) -> str:
    for old, new in (swap or {}).items():
        value = value.replace(old, new)
    return value


def swapped_body(response: Response, swap: dict[str, str]) -> bytes:
    """The body with the fast answer's record ids replaced by the route's."""
    return _swapped(response.text, swap).encode()
