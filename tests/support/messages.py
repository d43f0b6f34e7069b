"""A message template stored as a quiet server might once have saved it, past PUT's own
check: one that renders until its time budget is spent."""

from datetime import datetime

from fastapi import FastAPI

from app.core.db import tenant_transaction
from app.core.ids import AgencyId
from app.models import MessageKind, MessageTemplate
from tests.support.tenants import Tenant

SLOW_TEMPLATE = (
    "{% macro twice(n) %}{% if n %}{{ twice(n - 1) }}{{ twice(n - 1) }}{% endif %}{% endmacro %}"
    "{{ twice(40) }}"
)
"""2**40 macro calls, each within every limit but time: it runs until its budget is spent."""


async def store_template_directly(app: FastAPI, tenant: Tenant, kind: MessageKind) -> None:
    """A template as it might have been saved on a quiet server, past PUT's own check."""
    now = datetime.now().astimezone()
    async with tenant_transaction(app.state.sessions, AgencyId(tenant.agency_id)) as session:
        session.add(
            MessageTemplate(
                agency_id=tenant.agency_id,
                kind=kind,
                subject="Hello",
                body=SLOW_TEMPLATE,
                created_at=now,
                updated_at=now,
            )
        )
