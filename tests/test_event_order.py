"""Events keep the order they were recorded in within a transaction, whichever way each was
written: `record_event` (by the unit of work at the next flush) or `insert_event` on the
`flushed_driver` (at once, in one statement, after what is pending is flushed, so earlier events
get the earlier ids)."""

from itertools import pairwise

from sqlalchemy import select

from app.core.auth import worker_principal
from app.core.clock import FixedClock
from app.core.db import set_tenant, tenant_transaction
from app.core.events import flushed_driver, insert_event, record_event
from app.core.ids import AgencyId, new_id
from app.models import Event
from tests.support.tenants import Tenant


async def test_a_pending_event_stays_before_one_appended_after_it(
    agency_a: Tenant, clock: FixedClock
) -> None:
    agency = AgencyId(agency_a.agency_id)
    principal = worker_principal(agency)
    objects = [new_id() for _ in range(3)]
    sessions = agency_a.app.state.sessions
    async with tenant_transaction(sessions, agency) as session:
        record_event(session, principal, clock, "candidate.updated", objects[0], snapshot={})
        driver = await flushed_driver(session)
        await insert_event(driver, principal, clock, "candidate.updated", objects[1], snapshot={})
        record_event(session, principal, clock, "candidate.updated", objects[2], snapshot={})
    async with sessions() as session, session.begin():
        await set_tenant(session, agency)
        stored = await session.scalars(
            select(Event.object_id)
            .where(Event.object_id.in_(objects))
            .order_by(Event.txid, Event.id)
        )
        assert stored.all() == objects


def test_ids_made_one_after_another_sort_in_that_order() -> None:
    """Within a millisecond too (100,000 ids take a few), and each a valid UUIDv7."""
    made = [new_id() for _ in range(100_000)]
    assert all(earlier < later for earlier, later in pairwise(made))
    assert {(i.version, i.variant) for i in made} == {(7, "specified in RFC 4122")}
