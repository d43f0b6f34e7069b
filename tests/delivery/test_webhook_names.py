"""A webhook URL's host name: the resolver's answers, its failures, and names DNS cannot hold.

The operating system's resolver is real wherever the answer is certain (`localhost`, the
reserved `.invalid`); a resolver that fails or never answers cannot be had for real on demand,
so those tests hand `vet` (and the worker) a lookup that does what a failing one does:
getaddrinfo's EAI_AGAIN, or silence."""

import asyncio
import socket
import time
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest
from httpx import AsyncClient

from app.core.clock import FixedClock
from app.core.state import StateDep
from app.delivery.webhooks import Post, post
from app.webhooks import guard
from app.webhooks.guard import ResolverUnavailable, UrlRefused, vet
from app.webhooks.router import _config
from app.webhooks.service import WebhookConfig
from tests.delivery.test_webhooks import deliveries, endpoint, worker_for
from tests.support.problems import assert_problem
from tests.support.receiver import webhook_receiver
from tests.support.records import make_candidate
from tests.support.tenants import Tenant

PUBLIC_URL = "https://93.184.216.34/hooks"
TOO_LONG_LABEL = "https://" + "a" * 64 + ".example.com/hooks"


async def resolver_down(host: str, port: int) -> list[str]:
    raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")


async def resolver_silent(host: str, port: int) -> list[str]:
    await asyncio.sleep(3600)
    return []


@pytest.fixture
async def api(agency_a: Tenant) -> AsyncClient:
    return await agency_a.integration()


async def test_names_the_resolver_knows_are_vetted_for_real() -> None:
    assert (await vet("http://localhost:8080/x", allow_private=True)).address in {
        "127.0.0.1",
        "::1",
    }
    with pytest.raises(UrlRefused, match="not a public address"):
        await vet("https://localhost/x", allow_private=False)
    with pytest.raises(UrlRefused, match="does not resolve"):
        await vet("https://no-such-host.invalid/x", allow_private=False)
    with pytest.raises(UrlRefused, match="does not resolve"):  # the resolver's encoding refuses it
        await vet(TOO_LONG_LABEL, allow_private=False)


async def test_a_resolver_that_fails_or_is_silent_refuses_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(ResolverUnavailable, match="Temporary failure in name resolution"):
        await vet(PUBLIC_URL, allow_private=False, lookup=resolver_down)
    monkeypatch.setattr(guard, "RESOLVE_TIMEOUT_SECONDS", 0.05)
    with pytest.raises(ResolverUnavailable, match="no answer"):
        await vet(PUBLIC_URL, allow_private=False, lookup=resolver_silent)


class Scripted:
    """A resolver that answers each ask as scripted ("answer", "silence", or a getaddrinfo
    error number); the last step repeats."""

    def __init__(self, *script: int | str) -> None:
        self.script = list(script)
        self.asks = 0

    async def __call__(self, host: str, port: int) -> list[str]:
        step = self.script[min(self.asks, len(self.script) - 1)]
        self.asks += 1
        if step == "silence":
            await asyncio.sleep(3600)
        elif isinstance(step, int):
            raise socket.gaierror(step, "scripted")
        return ["93.184.216.34"]


async def test_a_silent_or_failing_resolver_is_asked_again_alongside(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(guard, "ASK_AGAIN_SECONDS", 0.2)
    silent_once = Scripted("silence", "answer")
    started = time.monotonic()
    assert (await vet(PUBLIC_URL, False, lookup=silent_once)).address == "93.184.216.34"
    assert silent_once.asks == 2
    assert 0.2 <= time.monotonic() - started < 1.0  # one wait, not the resolver's five seconds

    failing_once = Scripted(socket.EAI_AGAIN, "answer")
    started = time.monotonic()
    assert (await vet(PUBLIC_URL, False, lookup=failing_once)).address == "93.184.216.34"
    assert failing_once.asks == 2
    assert time.monotonic() - started < 0.2  # asked again at once

    down = Scripted(socket.EAI_AGAIN)
    with pytest.raises(ResolverUnavailable):
        await vet(PUBLIC_URL, False, lookup=down)
    assert down.asks == guard.ASKS

    no_such_name = Scripted(socket.EAI_NONAME)
    with pytest.raises(UrlRefused, match="does not resolve"):
        await vet(PUBLIC_URL, False, lookup=no_such_name)
    assert no_such_name.asks == 1  # a definite answer


async def test_a_host_name_dns_cannot_hold_is_a_validation_error(api: AsyncClient) -> None:
    for url in (TOO_LONG_LABEL, "https://" + "a." * 130 + "com/hooks"):
        response = await api.post("/v1/webhook-endpoints", json={"url": url})
        problem = assert_problem(response, 422, "validation-error")
        assert [e["field"] for e in problem["errors"]] == ["url"], problem
    made = await api.post("/v1/webhook-endpoints", json={"url": PUBLIC_URL})
    assert made.status_code == 201, made.text
    changed = await api.patch(
        f"/v1/webhook-endpoints/{made.json()['id']}",
        json={"url": TOO_LONG_LABEL},
        headers={"if-match": made.headers["etag"]},
    )
    assert [e["field"] for e in assert_problem(changed, 422, "validation-error")["errors"]] == [
        "url"
    ]
    listed = (await api.get("/v1/webhook-endpoints")).json()
    assert [e["url"] for e in listed] == [PUBLIC_URL]


async def test_a_resolver_outage_is_a_503_to_retry_not_a_refused_url(
    agency_a: Tenant, api: AsyncClient
) -> None:
    async def resolver_down_config(state: StateDep) -> WebhookConfig:
        return replace(await _config(state), lookup=resolver_down)

    agency_a.app.dependency_overrides[_config] = resolver_down_config
    try:
        response = await api.post("/v1/webhook-endpoints", json={"url": PUBLIC_URL})
    finally:
        del agency_a.app.dependency_overrides[_config]
    problem = assert_problem(response, 503, "service-unavailable")
    assert "could not be checked just now" in problem["detail"]
    assert int(response.headers["retry-after"]) > 0
    assert (await api.get("/v1/webhook-endpoints")).json() == []
    again = await api.post("/v1/webhook-endpoints", json={"url": PUBLIC_URL})
    assert again.status_code == 201, again.text


async def test_a_delivery_the_resolver_failed_is_tried_again_on_the_schedule(
    agency_a: Tenant, clock: FixedClock, api: AsyncClient
) -> None:
    with webhook_receiver() as receiver:
        hook = await endpoint(api, receiver)
        await make_candidate(api)
        worker = await worker_for(agency_a, clock)
        policy = worker.options.webhook_policy
        assert policy is not None
        worker.options = replace(
            worker.options, webhook_policy=replace(policy, lookup=resolver_down)
        )
        assert await worker.deliver_all() == 1
        (record,) = await deliveries(api, hook["id"])
        assert record["state"] == "pending" and record["next_attempt_at"] is not None
        assert record["attempts"][0]["error"].startswith("DNS: looking up '127.0.0.1' failed")
        assert receiver.snapshot() == []

        worker.options = replace(worker.options, webhook_policy=policy)  # the resolver is back
        clock.set(clock.now() + timedelta(seconds=5))
        assert await worker.deliver_all() == 1
        await worker.close()
    assert len(receiver.snapshot()) == 1
    (record,) = await deliveries(api, hook["id"])
    assert (record["state"], record["attempt"]) == ("succeeded", 2)


async def test_a_delivery_goes_to_the_vetted_address_under_its_own_host_name() -> None:
    """The resolver is asked once, by `vet`; the request connects to that answer and still
    names the URL's host, so nothing can answer differently between the check and the send."""
    asked: list[str] = []

    async def names_the_receiver(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"]

    with webhook_receiver() as receiver:
        url = f"http://hooks.ats.test:{receiver.port}/hooks/afterview"
        request = Post(url, {"content-type": "application/json"}, "{}")
        async with httpx.AsyncClient(follow_redirects=False, trust_env=False) as client:
            answer = await post(client, request, allow_private=True, lookup=names_the_receiver)
    assert answer.status_code == 200, answer
    assert asked == ["hooks.ats.test"]
    (got,) = receiver.snapshot()
    assert got.headers["host"] == f"hooks.ats.test:{receiver.port}"


async def test_addresses_that_carry_a_private_one_inside_are_refused() -> None:
    """IPv6 forms a gateway maps to IPv4 (compatible, NAT64, 6to4) are judged by the IPv4
    address inside; multicast is no host. Literal addresses: no resolver involved."""
    for refused in (
        "https://[::127.0.0.1]/hooks",
        "https://[64:ff9b::a9fe:a9fe]/latest/meta-data",  # NAT64 of 169.254.169.254
        "https://[2002:7f00:1::1]/hooks",  # 6to4 of 127.0.0.1
        "https://224.0.0.1/hooks",
    ):
        with pytest.raises(UrlRefused, match="not a public address"):
            await vet(refused, allow_private=False)
    for public in ("https://[64:ff9b::5db8:d822]/hooks", "https://[2002:5db8:d822::1]/hooks"):
        assert (await vet(public, allow_private=False)).host.startswith(("64:", "2002:"))
