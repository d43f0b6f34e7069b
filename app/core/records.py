"""What every synced record shares: lookups scoped to the caller's agency, sync-ordered lists,
create / update / upsert-by-external-id / delete with ETags and events.

A domain subclasses `RecordService` and adds its rules in `check` (and `application_of` when
its events belong on an application's timeline).
"""

from collections.abc import Sequence
from datetime import datetime
from functools import cache, cached_property
from typing import Any, ClassVar, Generic, TypeVar, cast
from uuid import UUID

from asyncpg.exceptions import UniqueViolationError
from pydantic import BaseModel
from sqlalchemy import (
    Boolean,
    ColumnElement,
    ColumnExpressionArgument,
    DateTime,
    Enum,
    Integer,
    Select,
    String,
    Table,
    Uuid,
    exists,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.core.auth import Principal
from app.core.clock import Clock
from app.core.db import driver_connection, violated_constraint
from app.core.errors import ExternalIdTaken, NotFound, Problem, ReferenceNotFound
from app.core.etag import ensure_match
from app.core.events import flushed_driver, insert_event, record_event
from app.core.ids import new_row_id
from app.core.pagination import (
    SYNC_ORDER_TYPES,
    PageParams,
    decode_values,
    encode_cursor,
    paginate,
)
from app.core.timestamps import touch
from app.models.base import TenantOwned, TenantRecord
from app.models.workflow import InterviewStep

ModelT = TypeVar("ModelT", bound=TenantRecord)
T = TypeVar("T", bound=TenantOwned)
StepT = TypeVar("StepT", bound=InterviewStep)


def _by_id(model: type[T], principal: Principal, record_id: UUID) -> Select[T]:
    return select(model).where(model.agency_id == principal.agency_id, model.id == record_id)


async def owned(
    session: AsyncSession, model: type[T], principal: Principal, record_id: UUID
) -> T | None:
    """The caller's agency's row with that id, or None (another agency's row is None too)."""
    found: T | None = await session.scalar(_by_id(model, principal, record_id))
    return found


async def get_owned(
    session: AsyncSession,
    model: type[T],
    principal: Principal,
    record_id: UUID,
    missing: str,
    *,
    where: Sequence[ColumnExpressionArgument[bool]] = (),
    lock: bool = False,
) -> T:
    """The caller's agency's row with that id (also matching `where`), or 404 with the detail
    `missing`; with `lock`, the row is locked for this transaction."""
    stmt = _by_id(model, principal, record_id).where(*where)
    found: T | None = await session.scalar(stmt.with_for_update() if lock else stmt)
    if found is None:
        raise NotFound(missing)
    return found


async def hold(
    session: AsyncSession, principal: Principal, record: Any, *, key_share: bool = False
) -> bool:
    """Lock `record`'s row until the transaction ends and read it afresh; False when a DELETE
    running alongside (waited for) removed it. FOR NO KEY UPDATE: writes about the row queue,
    each seeing what the one before did, while rows that merely point at it are not held up.
    With `key_share`, FOR KEY SHARE: only a DELETE waits, as for a row about to be pointed at."""
    stmt = (
        _by_id(type(record), principal, record.id)
        .with_for_update(read=key_share, key_share=True)
        .execution_options(populate_existing=True)
    )
    return await session.scalar(stmt) is not None


async def step_of(
    session: AsyncSession,
    principal: Principal,
    model: type[StepT],
    interview_id: UUID,
    *,
    lock: bool = False,
) -> StepT | None:
    """An interview's record of one step (each step has at most one per interview). With
    `lock`, racing requests queue on the row and each sees what the one before it did."""
    stmt = select(model).where(
        model.agency_id == principal.agency_id, model.interview_id == interview_id
    )
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    found: StepT | None = await session.scalar(stmt)
    return found


async def referenced(
    session: AsyncSession, model: type[T], principal: Principal, record_id: UUID, field: str
) -> T:
    """A row a request body points at; 422 naming the field when it is not the caller's."""
    found = await owned(session, model, principal, record_id)
    if found is None:
        kind = str(getattr(model, "__tablename__", "record")).replace("_", " ")
        raise reference_error(field, f"no {kind} with id {record_id}")
    return found


async def any_exists(session: AsyncSession, *conditions: ColumnExpressionArgument[bool]) -> bool:
    """Whether any row matches `conditions` (an EXISTS query)."""
    return bool(await session.scalar(select(exists().where(*conditions))))


def reference_error(field: str, message: str) -> ReferenceNotFound:
    """422 `reference-not-found` naming the body field that points at the wrong record."""
    return ReferenceNotFound.at_field(field, message)


def contains(
    column: ColumnElement[str] | InstrumentedAttribute[str], text: str | None
) -> list[ColumnElement[bool]]:
    """Case-insensitive "contains" filter (LIKE wildcards in `text` match literally)."""
    if not text:
        return []
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return [column.ilike(f"%{escaped}%")]


@cache
def _read_sql(table: Table, read: type[BaseModel]) -> str | None:
    """`SELECT <read's fields>, version … WHERE agency_id = $1 AND id = $2`, or None when
    `read` shows something that is not a column of `table`."""
    fields = list(read.model_fields)
    if not set(fields) <= set(table.columns.keys()):
        return None
    columns = ", ".join(f'"{name}"' for name in [*fields, "version"])
    # Names from the model's own table, never from input.
    return f'SELECT {columns} FROM "{table.name}" WHERE agency_id = $1 AND id = $2'  # noqa: S608


@cache
def _page_sql(table: Table, read: type[BaseModel], after: bool) -> str:
    """One page of `read`'s columns (which include `updated_at` and `id`) in sync order: `$1`
    the agency, `$2` the limit, and with `after` the page starts after (`$3`, `$4`)."""
    columns = ", ".join(f'"{name}"' for name in read.model_fields)
    start = " AND (updated_at, id) > ($3, $4)" if after else ""
    # Names from the model's own table, never from input.
    return (
        f'SELECT {columns} FROM "{table.name}" '  # noqa: S608
        f"WHERE agency_id = $1{start} ORDER BY updated_at, id LIMIT $2"
    )


_DRIVER_TYPES = (Boolean, DateTime, Integer, String, Uuid)
"""Column types whose Python values asyncpg takes as they are (an `Enum` is a `String` too, and
is left out: its member is not always a `str`)."""


def _driver_writable(table: Table) -> bool:
    """Whether every column of `table` takes a model's Python value straight from asyncpg."""
    types = [column.type for column in table.columns]
    return all(isinstance(t, _DRIVER_TYPES) and not isinstance(t, Enum) for t in types)


@cache
def _insert_sql(table: Table, read: type[BaseModel], columns: tuple[str, ...]) -> str:
    """`INSERT` of `columns` (`$1`… in that order) `RETURNING` `read`'s fields and `version`."""
    names = ", ".join(f'"{name}"' for name in columns)
    values = ", ".join(f"${n}" for n in range(1, len(columns) + 1))
    returned = ", ".join(f'"{name}"' for name in [*read.model_fields, "version"])
    # Names from the model's own table and schemas, never from input.
    return f'INSERT INTO "{table.name}" ({names}) VALUES ({values}) RETURNING {returned}'  # noqa: S608


class RecordService(Generic[ModelT]):
    model: ClassVar[type[Any]]
    label: ClassVar[str]
    """Human name, also the event prefix: `candidate` → `candidate.created`."""
    read: ClassVar[type[BaseModel]]
    """What `GET` answers for one record: also each event's snapshot of it."""
    unique_problems: ClassVar[dict[str, type[Problem]]] = {}
    """Unique index name → the problem a concurrent duplicate insert answers."""
    write_problems: ClassVar[tuple[type[Problem], ...]] = ()
    """What `check` can raise (the OpenAPI document declares them on the writes)."""
    delete_problems: ClassVar[tuple[type[Problem], ...]] = ()
    """What `check_delete` (or a delete that cancels) can raise."""
    references: ClassVar[dict[str, type[Any]]] = {}
    """Body fields that name another of the agency's records (field → its model): `check`
    refuses one that names no record of the caller's agency (422 `reference-not-found`)."""

    # -- hooks -------------------------------------------------------------------------------
    async def check(
        self,
        session: AsyncSession,
        principal: Principal,
        values: dict[str, Any],
        current: ModelT | None,
    ) -> None:
        """Enforce the domain's rules on the values about to be written (raise a Problem).
        By default, that each of `references` present names one of the caller's records."""
        for field, model in self.references.items():
            if values.get(field) is not None:
                await referenced(session, model, principal, values[field], field)

    def check_change(self, record: ModelT) -> None:
        """A rule on changing `record` at all (an update or a replace), whatever the values:
        raise its problem. Not a create rule, so creates keep their fast road."""

    def application_of(self, record: ModelT) -> UUID | None:
        """The application whose timeline shows this record's events, if any."""
        return None

    async def write_extra(
        self,
        session: AsyncSession,
        principal: Principal,
        record: ModelT,
        data: BaseModel,
        *,
        creating: bool,
    ) -> list[str]:
        """Write body fields that are not columns (e.g. association rows); return the names
        of those that changed."""
        return []

    def _columns(self, values: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in values.items() if k in self.model.__table__.columns}

    # -- reads -------------------------------------------------------------------------------
    async def get(self, session: AsyncSession, principal: Principal, record_id: UUID) -> ModelT:
        missing = f"No {self.label} with that id."
        return cast(ModelT, await get_owned(session, self.model, principal, record_id, missing))

    async def read_one(
        self, session: AsyncSession, principal: Principal, record_id: UUID
    ) -> tuple[BaseModel, int]:
        """What `GET` answers for one record, and its version (the ETag). When every field of
        `read` is a column, one statement straight to the driver (the commonest read)."""
        sql = _read_sql(self.model.__table__, self.read)
        if sql is None:
            record = await self.get(session, principal, record_id)
            return self.read.model_validate(record), record.version
        return await self.read_row(await driver_connection(session), principal, record_id, sql)

    @property
    def reads_by_driver(self) -> bool:
        """Whether `read_row` and `read_page` can answer `GET` (every field of `read` is a
        column, the sync order's among them)."""
        fields = self.read.model_fields
        sql = _read_sql(self.model.__table__, self.read)
        return sql is not None and "updated_at" in fields and "id" in fields

    async def read_row(
        self, driver: Any, principal: Principal, record_id: UUID, sql: str | None = None
    ) -> tuple[BaseModel, int]:
        """`read_one` on an asyncpg connection in a transaction already scoped to the caller's
        agency (only when `reads_by_driver`)."""
        row = await driver.fetchrow(
            sql or _read_sql(self.model.__table__, self.read), principal.agency_id, record_id
        )
        if row is None:
            raise NotFound(f"No {self.label} with that id.")
        return self.read.model_validate(dict(row)), row["version"]

    async def read_page(
        self, driver: Any, principal: Principal, params: PageParams
    ) -> tuple[list[dict[str, Any]], str | None]:
        """`listing` with no filters, on an asyncpg connection in a transaction scoped to the
        caller's agency (only when `reads_by_driver`): each row as `read`'s fields, and the
        next page's cursor (as `paginate` makes it)."""
        after = decode_values(params.cursor, SYNC_ORDER_TYPES) if params.cursor else []
        sql = _page_sql(self.model.__table__, self.read, bool(after))
        rows = await driver.fetch(sql, principal.agency_id, params.limit + 1, *after)
        cursor = None
        if len(rows) > params.limit:
            rows = rows[: params.limit]
            cursor = encode_cursor([rows[-1]["updated_at"], rows[-1]["id"]])
        return [dict(row) for row in rows], cursor

    def base_query(self, principal: Principal) -> Select[Any]:
        return select(self.model).where(self.model.agency_id == principal.agency_id)

    async def page(
        self,
        session: AsyncSession,
        stmt: Select[Any],
        params: PageParams,
        updated_after: datetime | None = None,
    ) -> tuple[list[ModelT], str | None]:
        """Ordered by `(updated_at, id)`: an integrator walks pages with the cursor, and later
        resumes with `updated_after` set to the last `updated_at` it saw."""
        if updated_after is not None:
            stmt = stmt.where(self.model.updated_at > updated_after)
        return await paginate(session, stmt, [self.model.updated_at, self.model.id], params)

    async def listing(
        self,
        session: AsyncSession,
        principal: Principal,
        params: PageParams,
        *,
        updated_after: datetime | None = None,
        where: Sequence[ColumnExpressionArgument[bool]] = (),
        **equals: Any,
    ) -> tuple[list[ModelT], str | None]:
        """A page of records, filtered by `column == value` for each value that is not None."""
        stmt = self.base_query(principal).where(*where)
        for name, value in equals.items():
            if value is not None:
                stmt = stmt.where(getattr(self.model, name) == value)
        return await self.page(session, stmt, params, updated_after)

    # -- writes ------------------------------------------------------------------------------
    async def create(
        self,
        session: AsyncSession,
        principal: Principal,
        clock: Clock,
        data: BaseModel,
        **fixed: Any,
    ) -> ModelT:
        record, _shown = await self.create_shown(session, principal, clock, data, **fixed)
        return record

    async def create_shown(
        self,
        session: AsyncSession,
        principal: Principal,
        clock: Clock,
        data: BaseModel,
        **fixed: Any,
    ) -> tuple[ModelT, BaseModel]:
        """`create`, and the new record as `GET` answers it (its event's snapshot, and what a
        `POST` answers)."""
        values = {**data.model_dump(), **fixed}
        await self.check(session, principal, values, None)
        values = self._columns(values)
        if values.get("external_id") is not None:
            await self._ensure_external_id_free(session, principal, values["external_id"], None)
        row = self._new_row(principal, clock, values)
        # One INSERT … RETURNING that hands back the persistent record (no unit-of-work flush).
        # No savepoint: a duplicate fails the request's transaction, which then rolls back;
        # `upsert`, the caller that recovers from one, wraps this in its own savepoint.
        try:
            record: ModelT = (
                await session.scalars(insert(self.model).returning(self.model), [row])
            ).one()
        except IntegrityError as exc:
            constraint = violated_constraint(exc)
            raise self._unique_problem(constraint) or exc from exc
        await self.write_extra(session, principal, record, data, creating=True)
        shown = self.read.model_validate(record)
        await insert_event(
            await flushed_driver(session),
            principal,
            clock,
            f"{self.label}.created",
            record.id,
            snapshot=shown,
            application_id=self.application_of(record),
        )
        return record, shown

    @cached_property
    def _adds_no_rules(self) -> bool:
        """Whether the domain leaves every create hook as it is here: `check` (beyond its
        `references`), `write_extra` and `application_of`."""
        hooks = ("check", "write_extra", "application_of")
        same = all(getattr(type(self), hook) is getattr(RecordService, hook) for hook in hooks)
        return same and self.reads_by_driver and _driver_writable(self.model.__table__)

    def creates_by_driver(self, data: BaseModel) -> bool:
        """Whether `create_row` writes this create exactly as `create_shown` would: the domain
        adds no rules of its own, and `data` names no reference or external id to look up."""
        lookups = (*self.references, "external_id")
        return self._adds_no_rules and all(getattr(data, f, None) is None for f in lookups)

    async def create_row(
        self, driver: Any, principal: Principal, clock: Clock, data: BaseModel
    ) -> tuple[BaseModel, UUID, int]:
        """`create_shown` on an asyncpg connection in a transaction already scoped to the
        caller's agency, when `creates_by_driver(data)`: the same row, event and answer (and
        the new record's id and version), without the session."""
        row = self._new_row(principal, clock, self._columns(data.model_dump()))
        sql = _insert_sql(self.model.__table__, self.read, tuple(row))
        try:
            inserted = await driver.fetchrow(sql, *row.values())
        except UniqueViolationError as exc:
            raise self._unique_problem(exc.constraint_name) or exc from exc
        shown = self.read.model_validate(dict(inserted))
        event = f"{self.label}.created"
        await insert_event(driver, principal, clock, event, row["id"], snapshot=shown)
        return shown, row["id"], inserted["version"]

    def _new_row(
        self, principal: Principal, clock: Clock, values: dict[str, Any]
    ) -> dict[str, Any]:
        """A new record's columns: its agency, id and timestamps, then `values`."""
        now = clock.now()
        return {
            "agency_id": principal.agency_id,
            "id": new_row_id(self.model.__tablename__),
            "created_at": now,
            "updated_at": now,
            **values,
        }

    async def update(
        self,
        session: AsyncSession,
        principal: Principal,
        clock: Clock,
        record_id: UUID,
        changes: BaseModel,
        if_match: str | None,
    ) -> ModelT:
        record = await self.get(session, principal, record_id)
        ensure_match(if_match, record.version)
        return await self._apply(session, principal, clock, record, changes, partial=True)

    async def upsert(
        self,
        session: AsyncSession,
        principal: Principal,
        clock: Clock,
        external_id: str,
        data: BaseModel,
        if_match: str | None,
    ) -> tuple[ModelT, bool]:
        """Create or replace the record the integrator knows as `external_id`."""
        existing = await self._by_external_id(session, principal, external_id)
        if existing is None:
            try:
                async with session.begin_nested():
                    created = await self.create(
                        session, principal, clock, data, external_id=external_id
                    )
                return created, True
            except (IntegrityError, ExternalIdTaken):  # a concurrent PUT created it first
                existing = await self._by_external_id(session, principal, external_id)
                if existing is None:
                    raise
        ensure_match(if_match, existing.version, required=False)
        return await self._apply(session, principal, clock, existing, data, partial=False), False

    async def delete(
        self,
        session: AsyncSession,
        principal: Principal,
        clock: Clock,
        record_id: UUID,
        if_match: str | None,
    ) -> None:
        record = await self.get(session, principal, record_id)
        ensure_match(if_match, record.version, required=False)
        await self.check_delete(session, principal, clock, record)
        self.event(session, principal, clock, "deleted", record)
        await session.delete(record)
        await session.flush()

    async def check_delete(
        self, session: AsyncSession, principal: Principal, clock: Clock, record: ModelT
    ) -> None:
        """Refuse (raise a Problem) when other records depend on this one; record what goes
        with it (rows the database cascades, links it clears) as events."""

    def event(
        self,
        session: AsyncSession,
        principal: Principal,
        clock: Clock,
        verb: str,
        record: ModelT,
        **data: Any,
    ) -> None:
        """The event `<label>.<verb>` about `record`, with its snapshot, on its application's
        timeline."""
        record_event(
            session,
            principal,
            clock,
            f"{self.label}.{verb}",
            record.id,
            snapshot=self.read.model_validate(record),
            application_id=self.application_of(record),
            **data,
        )

    # -- internals ---------------------------------------------------------------------------
    async def _apply(
        self,
        session: AsyncSession,
        principal: Principal,
        clock: Clock,
        record: ModelT,
        data: BaseModel,
        *,
        partial: bool,
    ) -> ModelT:
        self.check_change(record)
        values = data.model_dump(exclude_unset=partial)
        await self.check(session, principal, values, record)
        values = self._columns(values)
        if values.get("external_id") not in (None, getattr(record, "external_id", None)):
            await self._ensure_external_id_free(
                session, principal, values["external_id"], record.id
            )
        changed = sorted(k for k, v in values.items() if getattr(record, k) != v)
        for name in changed:
            setattr(record, name, values[name])
        extra_changed = await self.write_extra(session, principal, record, data, creating=False)
        if changed or extra_changed:
            touch(record, clock.now())
            await session.flush()
            fields = sorted({*changed, *extra_changed})
            self.event(session, principal, clock, "updated", record, fields=fields)
        return record

    def _unique_problem(self, constraint: str | None) -> Problem | None:
        """The problem a duplicate on the unique index `constraint` answers, if it is one the
        record declares."""
        if constraint == f"uq_{self.model.__tablename__}_agency_id_external_id":
            return ExternalIdTaken("Another request just used that external_id.")
        if constraint in self.unique_problems:
            return self.unique_problems[constraint]()
        return None

    async def _by_external_id(
        self, session: AsyncSession, principal: Principal, external_id: str
    ) -> ModelT | None:
        found: ModelT | None = await session.scalar(
            self.base_query(principal).where(self.model.external_id == external_id)
        )
        return found

    async def _ensure_external_id_free(
        self,
        session: AsyncSession,
        principal: Principal,
        external_id: str,
        exclude: UUID | None,
    ) -> None:
        other = await self._by_external_id(session, principal, external_id)
        if other is not None and other.id != exclude:
            raise ExternalIdTaken(
                f"{self.label} {other.id} already has external_id {external_id!r}.",
                existing_id=str(other.id),
            )
