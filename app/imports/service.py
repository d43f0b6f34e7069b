"""Importing rows as the system for one agency: each row is one create-or-replace by its
`external_id`, in its own transaction, validated by the same schema as the HTTP `PUT`."""

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.candidates.schemas import CandidateReplace
from app.candidates.service import candidates
from app.clients.schemas import ClientReplace
from app.clients.service import clients
from app.core.auth import Principal, worker_principal
from app.core.clock import Clock
from app.core.db import tenant_transaction
from app.core.errors import Problem, field_errors
from app.core.records import RecordService
from app.core.schemas import ExternalId, InputModel
from app.imports.csv_file import Row
from app.models import Agency

EXTERNAL_ID = "external_id"
_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})


class _Key(InputModel):
    """The row's `external_id`, checked as the `PUT` path checks it."""

    external_id: ExternalId


@dataclass(frozen=True)
class RecordKind:
    """What one `afterview import <kind>` writes: a record service and its `PUT` body."""

    service: RecordService[Any]
    schema: type[InputModel]

    @property
    def columns(self) -> list[str]:
        return [EXTERNAL_ID, *self.schema.model_fields]

    @property
    def required(self) -> list[str]:
        fields = self.schema.model_fields.items()
        return [EXTERNAL_ID, *(name for name, info in fields if info.is_required())]


KINDS = {
    "candidates": RecordKind(candidates, CandidateReplace),
    "clients": RecordKind(clients, ClientReplace),
}


class Outcome(StrEnum):
    created = "created"
    updated = "updated"
    unchanged = "unchanged"
    failed = "failed"


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    message: str


@dataclass
class Report:
    counts: Counter[Outcome] = field(default_factory=Counter)
    errors: list[RowError] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            **{outcome.value: self.counts[outcome] for outcome in Outcome},
            "errors": [vars(error) for error in self.errors],
        }


class UnknownAgency(Exception):
    """No agency has that id."""


async def agency_principal(
    sessions: async_sessionmaker[AsyncSession], agency_id: UUID
) -> Principal:
    """The system acting for the agency (no person, no key), once it is known to exist."""
    principal = worker_principal(agency_id)
    async with tenant_transaction(sessions, principal.agency_id) as session:
        if await session.get(Agency, principal.agency_id) is None:
            raise UnknownAgency(str(agency_id))
    return principal


async def import_rows(
    sessions: async_sessionmaker[AsyncSession],
    principal: Principal,
    clock: Clock,
    kind: RecordKind,
    rows: Sequence[Row],
    on_row: Callable[[], None] = lambda: None,
) -> Report:
    """Each row created, replaced or left as it was; a bad row is reported and skipped."""
    report = Report()
    for row in rows:
        outcome, errors = await import_row(sessions, principal, clock, kind, row)
        report.counts[outcome] += 1
        report.errors.extend(errors)
        on_row()
    return report


async def import_row(
    sessions: async_sessionmaker[AsyncSession],
    principal: Principal,
    clock: Clock,
    kind: RecordKind,
    row: Row,
) -> tuple[Outcome, list[RowError]]:
    if row.width_error is not None:
        return Outcome.failed, [RowError(row.number, "", row.width_error)]
    if not row.values[EXTERNAL_ID].strip():
        return Outcome.failed, [RowError(row.number, EXTERNAL_ID, "required in every row")]
    try:
        external_id = _Key.model_validate({EXTERNAL_ID: row.values[EXTERNAL_ID]}).external_id
        body = kind.schema.model_validate(_body(kind, row.values))
    except ValidationError as exc:
        return Outcome.failed, _validation_errors(row.number, exc)
    try:
        async with tenant_transaction(sessions, principal.agency_id) as session:
            return await _upsert(session, principal, clock, kind, external_id, body), []
    except Problem as exc:
        return Outcome.failed, _problem_errors(row.number, exc)


async def _upsert(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    kind: RecordKind,
    external_id: str,
    body: InputModel,
) -> Outcome:
    model = kind.service.model
    version_before = await session.scalar(
        select(model.version).where(
            model.agency_id == principal.agency_id, model.external_id == external_id
        )
    )
    record, created = await kind.service.upsert(session, principal, clock, external_id, body, None)
    if created:
        return Outcome.created
    return Outcome.unchanged if record.version == version_before else Outcome.updated


def _body(kind: RecordKind, values: dict[str, str]) -> dict[str, Any]:
    """The row as the `PUT` body: blank cells left out, yes/no columns read as booleans."""
    body: dict[str, Any] = {}
    for name, info in kind.schema.model_fields.items():
        cell = values.get(name, "")
        if not cell.strip():
            continue
        body[name] = _boolean(cell) if info.annotation is bool else cell
    return body


def _boolean(cell: str) -> bool | str:
    """`true`/`false` (or yes/no, 1/0); anything else is left for the schema to refuse."""
    word = cell.strip().lower()
    return True if word in _TRUE else False if word in _FALSE else cell


def _validation_errors(number: int, exc: ValidationError) -> list[RowError]:
    located = [{**err, "loc": ("body", *err["loc"])} for err in exc.errors()]
    return [RowError(number, e.field, e.message) for e in field_errors(located)]


def _problem_errors(number: int, exc: Problem) -> list[RowError]:
    listed = exc.extensions.get("errors") or []
    if not listed:
        return [RowError(number, "", exc.detail or exc.title)]
    return [RowError(number, str(e.get("field", "")), str(e.get("message", ""))) for e in listed]
