"""The worker counts what it sends, in `/metrics`: each mail attempt by outcome and each failure
by kind, each webhook delivery attempt by outcome."""

from datetime import timedelta

from httpx import AsyncClient

from app.core.clock import FixedClock
from tests.delivery.test_smtp import one_message, smtp
from tests.delivery.test_webhooks import endpoint, worker_for
from tests.support.delivery import make_worker, outbox_row
from tests.support.metrics import Samples, scrape
from tests.support.receiver import webhook_receiver
from tests.support.records import make_candidate
from tests.support.smtp import ACCEPT, smtp_sink
from tests.support.tenants import Tenant

Counts = dict[tuple[str, str], float]
COUNTERS = ("afterview_mail_attempts", "afterview_mail_failures", "afterview_webhook_deliveries")


def counts(samples: Samples) -> Counts:
    """Every labelled value of the worker's counters, as (counter, label value)."""
    found: Counts = {}
    for family in COUNTERS:
        for sample in samples.get(family, []):
            if sample.name == f"{family}_total":
                label = sample.labels.get("outcome") or sample.labels["kind"]
                found[(family, label)] = sample.value
    return found


def change(before: Counts, after: Counts) -> Counts:
    return {k: v - before.get(k, 0.0) for k, v in after.items() if v != before.get(k, 0.0)}


async def test_mail_attempts_and_failures_are_counted_by_outcome(
    agency_a: Tenant, clock: FixedClock, anon: AsyncClient
) -> None:
    greylisted = await one_message(agency_a, clock)
    refused = await one_message(agency_a, clock)

    def answer(message_id: str, seen: int) -> str:
        if message_id == refused.message_id_header:
            return "550 5.1.1 Mailbox unavailable"
        return "451 4.7.1 Greylisted, try again later" if seen == 0 else ACCEPT

    before = counts(await scrape(anon))
    with smtp_sink(answer) as sink:
        worker = make_worker(agency_a.app, clock, smtp(sink.url))
        assert await worker.deliver_all() == 2
        deferred = await outbox_row(agency_a, greylisted.id)
        assert deferred.next_attempt_at is not None
        clock.set(deferred.next_attempt_at)
        assert await worker.deliver_all() == 1
        await worker.close()

    assert change(before, counts(await scrape(anon))) == {
        ("afterview_mail_attempts", "deferred"): 1,
        ("afterview_mail_attempts", "failed"): 1,
        ("afterview_mail_attempts", "sent"): 1,
        ("afterview_mail_failures", "temporary"): 1,
        ("afterview_mail_failures", "permanent"): 1,
    }


async def test_webhook_deliveries_are_counted_by_outcome(
    agency_a: Tenant, clock: FixedClock, anon: AsyncClient
) -> None:
    api = await agency_a.integration()
    before = counts(await scrape(anon))
    with webhook_receiver(lambda _id, seen: 503 if seen == 0 else 200) as receiver:
        await endpoint(api, receiver)
        await make_candidate(api)
        worker = await worker_for(agency_a, clock)
        assert await worker.deliver_all() == 1
        clock.set(clock.now() + timedelta(seconds=5))  # the first retry of the default schedule
        assert await worker.deliver_all() == 1
        await worker.close()

    assert change(before, counts(await scrape(anon))) == {
        ("afterview_webhook_deliveries", "retrying"): 1,
        ("afterview_webhook_deliveries", "succeeded"): 1,
    }
