"""Removing a webhook endpoint while a worker settles one of its deliveries: both finish.

The worker locks the delivery, then its endpoint. The DELETE used to lock the endpoint, then
(cascading) its deliveries: PostgreSQL found the cycle and failed one side, a 500. Here the two
orders meet for real: a transaction holds the delivery as the worker does, the DELETE request
comes, then the transaction asks for the endpoint."""

import asyncio
from uuid import UUID

from httpx import AsyncClient
from sqlalchemy import text

from app.core.db import tenant_transaction
from app.core.ids import AgencyId
from tests.support.tenants import Tenant

PUBLIC_URL = "https://93.184.216.34/hooks"


async def _waiting_for_a_lock(agency: Tenant) -> bool:
    async with agency.app.state.sessions() as session:
        waiting = await session.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    return bool(waiting)


async def test_deleting_an_endpoint_while_a_delivery_is_settled_does_not_deadlock(
    agency_a: Tenant,
) -> None:
    api: AsyncClient = await agency_a.integration()
    made = await api.post("/v1/webhook-endpoints", json={"url": PUBLIC_URL})
    assert made.status_code == 201, made.text
    endpoint_id = made.json()["id"]
    assert (await api.post(f"/v1/webhook-endpoints/{endpoint_id}/test")).status_code == 202
    (delivery,) = (await api.get(f"/v1/webhook-endpoints/{endpoint_id}/deliveries")).json()["items"]

    agency_id = AgencyId(UUID(str(agency_a.agency_id)))
    async with tenant_transaction(agency_a.app.state.sessions, agency_id) as worker:
        await worker.execute(  # the worker's `_held`
            text("SELECT id FROM webhook_delivery WHERE id = :id FOR UPDATE"),
            {"id": delivery["id"]},
        )
        deleting = asyncio.create_task(api.delete(f"/v1/webhook-endpoints/{endpoint_id}"))
        for _ in range(200):  # until the DELETE waits on the worker's lock
            if deleting.done() or await _waiting_for_a_lock(agency_a):
                break
            await asyncio.sleep(0.01)
        assert not deleting.done()
        await worker.execute(  # then `_endpoint_failed`
            text("SELECT id FROM webhook_endpoint WHERE id = :id FOR NO KEY UPDATE"),
            {"id": endpoint_id},
        )
    deleted = await deleting
    assert deleted.status_code == 204, deleted.text
    assert (await api.get(f"/v1/webhook-endpoints/{endpoint_id}")).status_code == 404
