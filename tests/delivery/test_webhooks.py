"""Webhooks end to end: endpoints over HTTP, deliveries by a worker on the test's clock to a real
receiver on loopback that verifies each one with the `standardwebhooks` package."""

import atexit
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient

from app.core.clock import FixedClock
from app.delivery.mail import MailboxTransport
from app.delivery.worker import Worker
from tests.support.delivery import make_worker, outbox_rows
from tests.support.problems import assert_problem
from tests.support.receiver import Receiver, self_signed_certificate, webhook_receiver
from tests.support.records import make_candidate
from tests.support.tenants import Tenant

Json = dict[str, Any]
PUBLIC_URL = "https://93.184.216.34/hooks"  # a public address, as a literal: no DNS needed


@pytest.fixture
async def api(agency_a: Tenant) -> AsyncClient:
    """An integration's key (default scopes include webhooks:manage and events:read); unlike a
    login it outlives moves of the clock."""
    return await agency_a.integration()


async def endpoint(api: AsyncClient, receiver: Receiver, **fields: Any) -> Json:
    response = await api.post("/v1/webhook-endpoints", json={"url": receiver.url, **fields})
    assert response.status_code == 201, response.text
    created: Json = response.json()
    assert created["secret"].startswith("whsec_")
    receiver.secrets.append(created["secret"])
    return created


async def deliveries(api: AsyncClient, endpoint_id: str) -> list[Json]:
    response = await api.get(f"/v1/webhook-endpoints/{endpoint_id}/deliveries")
    assert response.status_code == 200, response.text
    items: list[Json] = response.json()["items"]
    return items


async def worker_for(agency: Tenant, clock: FixedClock) -> Worker:
    """A worker on the test's clock (its mail goes to a folder nobody reads, removed when the
    test process ends)."""
    mailbox = Path(tempfile.mkdtemp(prefix="afterview-mail-"))
    atexit.register(shutil.rmtree, mailbox, ignore_errors=True)
    return make_worker(agency.app, clock, MailboxTransport(mailbox))


@pytest.mark.horizon  # reads the feed right after writing (tests/conftest.py)
async def test_an_event_reaches_the_endpoint_signed_with_its_id_and_object(
    agency_a: Tenant, clock: FixedClock, api: AsyncClient
) -> None:
    with webhook_receiver() as receiver:
        hook = await endpoint(api, receiver, description="Our ATS")
        candidate = await make_candidate(api)
        worker = await worker_for(agency_a, clock)
        assert await worker.deliver_all() == 1
        await worker.close()

    (delivered,) = receiver.snapshot()
    assert delivered.verified_by == (hook["secret"],)  # standardwebhooks accepts it
    feed = (await api.get("/v1/events", params={"types": "candidate.created"})).json()
    (event,) = feed["items"]
    assert delivered.webhook_id == event["id"]  # one id across the feed and webhooks
    assert delivered.body == {
        "type": "candidate.created",
        "timestamp": event["occurred_at"],
        "data": candidate,
    }
    sent_at = datetime.fromtimestamp(int(delivered.headers["webhook-timestamp"]), UTC)
    assert abs(datetime.now(UTC) - sent_at) < timedelta(minutes=1)  # the real time it left
    (record,) = await deliveries(api, hook["id"])
    assert (record["state"], record["attempt"], record["status_code"]) == ("succeeded", 1, 200)
    assert (record["event_id"], record["event_type"]) == (event["id"], "candidate.created")
    assert record["attempts"][0]["response_excerpt"] == "ok"
    read = (await api.get(f"/v1/webhook-endpoints/{hook['id']}")).json()
    assert "secret" not in read and read["last_success_at"] is not None


async def test_503_twice_then_200_is_retried_on_the_schedule_with_the_same_id(
    agency_a: Tenant, clock: FixedClock, api: AsyncClient
) -> None:
    with webhook_receiver(lambda _id, seen: 503 if seen < 2 else 200) as receiver:
        hook = await endpoint(api, receiver)
        await make_candidate(api)
        worker = await worker_for(agency_a, clock)
        assert await worker.deliver_all() == 1
        (record,) = await deliveries(api, hook["id"])
        assert (record["state"], record["status_code"]) == ("pending", 503)
        for delay in (timedelta(seconds=5), timedelta(minutes=5)):  # the default schedule
            assert await worker.deliver_all() == 0  # not due yet
            clock.set(clock.now() + delay)
            assert await worker.deliver_all() == 1
        await worker.close()

    got = receiver.snapshot()
    assert [d.status for d in got] == [503, 503, 200]
    assert len({d.webhook_id for d in got}) == 1  # the same event each time
    assert all(d.verified_by == (hook["secret"],) for d in got)
    (record,) = await deliveries(api, hook["id"])
    assert (record["state"], record["attempt"]) == ("succeeded", 3)
    assert [a["status_code"] for a in record["attempts"]] == [200, 503, 503]  # newest first
    assert record["attempts"][2]["next_attempt_at"] is not None


async def test_a_certificate_no_public_authority_signed_gets_no_event(
    agency_a: Tenant, clock: FixedClock, api: AsyncClient, tmp_path: Path
) -> None:
    """Deliveries verify TLS against the public roots (one context, shared by the worker's
    clients): an https endpoint with a self-signed certificate gets no byte of the event, and
    the attempt says why; the same endpoint over plain http (where private targets are allowed,
    as here) gets it."""
    with webhook_receiver(certificate=self_signed_certificate(tmp_path)) as receiver:
        hook = await endpoint(api, receiver)
        await make_candidate(api)
        worker = await worker_for(agency_a, clock)
        assert await worker.deliver_all() == 1
        await worker.close()
    assert receiver.snapshot() == []
    (record,) = await deliveries(api, hook["id"])
    assert (record["state"], record["status_code"]) == ("pending", None)
    assert "CERTIFICATE_VERIFY_FAILED" in record["attempts"][0]["error"]

    with webhook_receiver() as plain:
        await endpoint(api, plain)
        await make_candidate(api)
        worker = await worker_for(agency_a, clock)
        assert await worker.deliver_all() >= 1
        await worker.close()
    assert len(plain.snapshot()) == 1


async def test_only_the_types_an_endpoint_asked_for(
    agency_a: Tenant, clock: FixedClock, api: AsyncClient
) -> None:
    with webhook_receiver() as receiver:
        await endpoint(api, receiver, event_types=["client.*"])
        await make_candidate(api)
        client = await api.post("/v1/clients", json={"name": "Harbour Logistics"})
        worker = await worker_for(agency_a, clock)
        assert await worker.deliver_all() == 1
        await worker.close()
    (delivered,) = receiver.snapshot()
    assert delivered.body["type"] == "client.created"
    assert delivered.body["data"]["id"] == client.json()["id"]
    bad = await api.post(
        "/v1/webhook-endpoints", json={"url": receiver.url, "event_types": ["client.exploded"]}
    )
    assert_problem(bad, 422, "validation-error")


async def test_a_rotated_secret_signs_beside_the_old_one_for_a_day(
    agency_a: Tenant, clock: FixedClock, api: AsyncClient
) -> None:
    with webhook_receiver() as receiver:
        hook = await endpoint(api, receiver)
        old = hook["secret"]
        rotated = await api.post(f"/v1/webhook-endpoints/{hook['id']}/rotate-secret")
        assert rotated.status_code == 200, rotated.text
        new = rotated.json()["secret"]
        assert new.startswith("whsec_") and new != old
        receiver.secrets.append(new)
        worker = await worker_for(agency_a, clock)
        await make_candidate(api)
        assert await worker.deliver_all() == 1
        clock.set(clock.now() + timedelta(hours=24))
        await make_candidate(api)
        assert await worker.deliver_all() == 1
        await worker.close()
    during, after = receiver.snapshot()
    assert set(during.verified_by) == {old, new}
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    assert after.verified_by == (new,)


async def test_a_failing_delivery_gives_up_after_the_schedule_and_can_be_retried(
    agency_a: Tenant, clock: FixedClock, api: AsyncClient
) -> None:
    failing = True
    with webhook_receiver(lambda _id, _seen: 500 if failing else 200) as receiver:
        hook = await endpoint(api, receiver)
        await make_candidate(api)
        worker = await worker_for(agency_a, clock)
        for _ in range(8):  # the first attempt and seven retries
            assert await worker.deliver_all() == 1
            (record,) = await deliveries(api, hook["id"])
            if record["next_attempt_at"]:
                clock.set(clock.now() + timedelta(hours=10))
        assert (record["state"], record["attempt"]) == ("failed", 8)
        clock.set(clock.now() + timedelta(days=1))
        assert await worker.deliver_all() == 0

        failing = False
        path = f"/v1/webhook-endpoints/{hook['id']}/deliveries/{record['id']}/retry"
        retried = await api.post(path)
        assert retried.status_code == 200, retried.text
        assert retried.json()["state"] == "pending"
        assert_problem(await api.post(path), 409, "delivery-pending")
        assert await worker.deliver_all() == 1
        await worker.close()
    (record,) = await deliveries(api, hook["id"])
    assert record["state"] == "succeeded" and len(record["attempts"]) == 9
    assert len(receiver.ids()) == 1 and receiver.ids().most_common(1)[0][1] == 9


async def test_an_endpoint_failing_for_five_days_is_disabled_and_its_admins_emailed(
    agency_a: Tenant, clock: FixedClock, api: AsyncClient
) -> None:
    with webhook_receiver(lambda _id, _seen: 500) as receiver:
        hook = await endpoint(api, receiver)
        worker = await worker_for(agency_a, clock)
        started = clock.now()
        while clock.now() < started + timedelta(days=5, hours=1):
            await make_candidate(api)  # a new event every six hours
            await worker.deliver_all()
            clock.set(clock.now() + timedelta(hours=6))
        await worker.close()
    read = (await api.get(f"/v1/webhook-endpoints/{hook['id']}")).json()
    assert read["enabled"] is False
    assert "disabled after 5 days" in read["disabled_reason"]
    (mail,) = await outbox_rows(agency_a, kind="webhook_disabled")
    assert mail.to_address == agency_a.admin_email
    assert receiver.url in mail.body

    sent = len(receiver.snapshot())
    await make_candidate(api)  # a disabled endpoint gets nothing new
    worker = await worker_for(agency_a, clock)
    await worker.deliver_all()
    assert len(receiver.snapshot()) == sent
    current = await api.get(f"/v1/webhook-endpoints/{hook['id']}")
    enabled = await api.patch(
        f"/v1/webhook-endpoints/{hook['id']}",
        json={"enabled": True},
        headers={"If-Match": current.headers["etag"]},
    )
    assert enabled.status_code == 200, enabled.text
    assert (enabled.json()["enabled"], enabled.json()["disabled_reason"]) == (True, None)
    await worker.close()


async def test_a_test_ping_goes_to_that_endpoint_only(
    agency_a: Tenant, clock: FixedClock, api: AsyncClient
) -> None:
    with webhook_receiver() as first, webhook_receiver() as second:
        hook = await endpoint(api, first)
        await endpoint(api, second)
        ping = await api.post(f"/v1/webhook-endpoints/{hook['id']}/test")
        assert ping.status_code == 202, ping.text
        assert ping.json()["event_type"] == "webhook.test"
        worker = await worker_for(agency_a, clock)
        assert await worker.deliver_all() == 1
        await worker.close()
    (delivered,) = first.snapshot()
    assert delivered.body["type"] == "webhook.test"
    assert delivered.body["data"]["id"] == hook["id"] and "secret" not in delivered.body["data"]
    assert second.snapshot() == []


async def test_redirects_are_not_followed(
    agency_a: Tenant, clock: FixedClock, api: AsyncClient
) -> None:
    with webhook_receiver(lambda _id, _seen: 307) as receiver:
        hook = await endpoint(api, receiver)
        await make_candidate(api)
        worker = await worker_for(agency_a, clock)
        assert await worker.deliver_all() == 1
        await worker.close()
    assert len(receiver.snapshot()) == 1
    (record,) = await deliveries(api, hook["id"])
    assert (record["state"], record["status_code"]) == ("pending", 307)


async def test_private_targets_are_refused_unless_allowed(
    agency_a: Tenant, clock: FixedClock, api: AsyncClient
) -> None:
    with webhook_receiver() as receiver:
        hook = await endpoint(api, receiver)  # allowed in this app (development setting)
        settings = agency_a.app.state.settings
        agency_a.app.state.settings = settings.model_copy(update={"webhooks_allow_private": False})
        try:
            for url in (
                receiver.url,  # http, and loopback
                "https://127.0.0.1/hooks",
                "https://localhost/hooks",
                "https://10.1.2.3/hooks",
                "https://169.254.169.254/latest/meta-data",
                "https://[::1]/hooks",
                "https://[fd00:ec2::254]/hooks",
                "https://100.64.0.1/hooks",
                "https://no-such-host.invalid/hooks",
                "https://user:pass@93.184.216.34/hooks",
            ):
                response = await api.post("/v1/webhook-endpoints", json={"url": url})
                problem = assert_problem(response, 422, "webhook-url-refused")
                assert problem["errors"][0]["field"] == "url", url
            allowed = await api.post("/v1/webhook-endpoints", json={"url": PUBLIC_URL})
            assert allowed.status_code == 201, allowed.text

            # Checked again when delivering: the loopback endpoint made earlier gets nothing.
            await make_candidate(api)
            worker = await worker_for(agency_a, clock)
            await worker.deliver_all()
            await worker.close()
        finally:
            agency_a.app.state.settings = settings
    assert receiver.snapshot() == []
    (record,) = await deliveries(api, hook["id"])
    assert record["attempts"][0]["error"].startswith("refused: the URL must be https")


async def test_who_may_manage_webhooks(agency_a: Tenant, agency_b: Tenant) -> None:
    consultant = await agency_a.consultant()
    assert_problem(await consultant.get("/v1/webhook-endpoints"), 403, "forbidden")
    narrow = await agency_a.integration(["records:read"])
    assert_problem(await narrow.get("/v1/webhook-endpoints"), 403, "insufficient-scope")
    made = await agency_a.admin.post("/v1/webhook-endpoints", json={"url": PUBLIC_URL})
    assert made.status_code == 201, made.text
    assert made.headers["cache-control"] == "no-store"
    listed = (await agency_a.admin.get("/v1/webhook-endpoints")).json()
    assert [e["id"] for e in listed] == [made.json()["id"]]
    assert "secret" not in listed[0]
    assert (await agency_b.admin.get("/v1/webhook-endpoints")).json() == []
    path = f"/v1/webhook-endpoints/{made.json()['id']}"
    assert_problem(
        await agency_a.admin.patch(path, json={"enabled": False}), 428, "precondition-required"
    )
    assert (await agency_a.admin.delete(path)).status_code == 204
    assert_problem(await agency_a.admin.get(path), 404, "not-found")
