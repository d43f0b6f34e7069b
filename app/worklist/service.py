"""The worklist: what needs a consultant now, for any `now`, ordered by due time.

Each kind of work is one SELECT over the consultant's applications. One statement unions them,
orders the union, starts past the cursor and stops after the page; only the page's rows are
named and built in Python. Nothing is stored: the list is always what the records say."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    ColumnExpressionArgument,
    DateTime,
    Row,
    Select,
    String,
    Subquery,
    Uuid,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    null,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased
from sqlalchemy.types import TypeEngine

from app.core.auth import Principal
from app.core.clock import Clock
from app.core.due import DEBRIEF, FOLLOW_UP
from app.core.errors import Forbidden
from app.core.pagination import PageParams, decode_values, encode_cursor
from app.models import (
    Application,
    ApplicationStatus,
    Candidate,
    CandidateLink,
    Client,
    Debrief,
    DebriefAuthor,
    Decision,
    DecisionKind,
    Event,
    FeedbackRequest,
    FeedbackState,
    FollowUp,
    FollowUpState,
    Interview,
    NextSteps,
    OfferLikelihood,
    Referee,
    RefereeHeadsUp,
    Vacancy,
)
from app.worklist.schemas import WorkItem, WorkKind

CURSOR_TYPES = [datetime, str, UUID, UUID]
"""A cursor carries the last item's order key: due time, kind, what it concerns, application."""
CONCERNS = ("interview_id", "referee_id", "feedback_request_id")
"""The columns naming what an item concerns; each kind fills exactly one."""

Column = ColumnElement[Any] | InstrumentedAttribute[Any]
Rows = Select[*tuple[Any, ...]]


def assignee_of(principal: Principal, assignee: UUID | None) -> UUID:
    """Consultants see their own work; admins (and API keys) may name whose."""
    someone_else = assignee is not None and assignee != principal.user_id
    if someone_else and principal.is_person and not principal.is_admin:
        raise Forbidden("Only admins may look at a colleague's worklist.")
    chosen = assignee or principal.user_id
    if chosen is None:
        raise Forbidden("Name the consultant (`assignee`) or act On-Behalf-Of one.")
    return chosen


async def worklist(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    assignee: UUID,
    params: PageParams,
) -> tuple[list[WorkItem], str | None]:
    now = clock.now()
    after = decode_values(params.cursor, CURSOR_TYPES) if params.cursor else None
    stmt = work_statement(principal, assignee, now, after, limit=params.limit + 1)
    rows = (await session.execute(stmt)).all()
    if len(rows) <= params.limit:
        return [_item(row, now) for row in rows], None
    page = rows[: params.limit]
    last = page[-1]
    next_cursor = encode_cursor([last.due_at, last.kind, last.concerns, last.application_id])
    return [_item(row, now) for row in page], next_cursor


async def work_items(
    session: AsyncSession, principal: Principal, now: datetime, assignee: UUID
) -> list[WorkItem]:
    """Everything that needs `assignee` at `now`, ordered by due time."""
    rows = await session.execute(work_statement(principal, assignee, now))
    return [_item(row, now) for row in rows]


def work_statement(
    principal: Principal,
    assignee: UUID,
    now: datetime,
    after: Sequence[Any] | None = None,
    limit: int | None = None,
) -> Rows:
    """The items of `assignee` at `now` in order: past the order key `after` and at most
    `limit` of them when given. The key is total (a referee may be suggested for two
    applications at once), so a cursor never skips an item; `kind` compares byte by byte,
    whatever the database's locale. The names are joined to the page only, not to every item."""
    items = union_all(*_kinds(principal, assignee, now)).subquery("work_item")
    page = select(items).order_by(*_key(items)).limit(limit)
    if after is not None:
        types: list[TypeEngine[Any]] = [DateTime(timezone=True), String(), Uuid(), Uuid()]
        bound = [literal(value, type_) for value, type_ in zip(after, types, strict=True)]
        page = page.where(tuple_(*_key(items)) > tuple_(*bound))
    return _named(principal, page.subquery("page"))


def _key(items: Subquery) -> list[ColumnElement[Any]]:
    return [items.c.due_at, items.c.kind.collate("C"), items.c.concerns, items.c.application_id]


def _named(principal: Principal, page: Subquery) -> Rows:
    """`page`'s items with the names a person reads: the candidate's, the vacancy's title and
    its client's (each row of this agency)."""
    agency = principal.agency_id
    return (
        select(
            page,
            Application.candidate_id,
            (Candidate.first_name + " " + Candidate.last_name).label("candidate_name"),
            Client.name.label("client_name"),
            Vacancy.title.label("vacancy_title"),
        )
        .join(
            Application,
            and_(Application.agency_id == agency, Application.id == page.c.application_id),
        )
        .join(
            Candidate,
            and_(Candidate.agency_id == agency, Candidate.id == Application.candidate_id),
        )
        .join(Vacancy, and_(Vacancy.agency_id == agency, Vacancy.id == Application.vacancy_id))
        .join(Client, and_(Client.agency_id == agency, Client.id == Vacancy.client_id))
        .order_by(*_key(page))
    )


def _item(row: Row[Any], now: datetime) -> WorkItem:
    return WorkItem(
        kind=WorkKind(row.kind),
        due_at=row.due_at,
        overdue=row.due_at < now,
        application_id=row.application_id,
        candidate_id=row.candidate_id,
        candidate_name=row.candidate_name,
        client_name=row.client_name,
        vacancy_title=row.vacancy_title,
        interview_id=row.interview_id,
        referee_id=row.referee_id,
        feedback_request_id=row.feedback_request_id,
    )


def _kinds(principal: Principal, assignee: UUID, now: datetime) -> list[Rows]:
    return [
        *_after_interviews(principal, assignee, now),
        _follow_up_approvals(principal, assignee),
        _decisions_to_chase(principal, assignee, now),
        _heads_ups(principal, assignee),
        *_feedback(principal, assignee),
        _candidate_input(principal, assignee),
    ]


def _open_applications(
    principal: Principal, assignee: UUID
) -> tuple[ColumnExpressionArgument[bool], ...]:
    return (
        Application.agency_id == principal.agency_id,
        Application.consultant_id == assignee,
        Application.is_open,
    )


def _kind(
    kind: WorkKind,
    due_at: Column,
    concerns: tuple[str, InstrumentedAttribute[UUID]],
    model: Any,
    on: ColumnElement[bool],
) -> Rows:
    """The SELECT of one kind: `model` rows joined to their application (same agency, on
    `on`), yielding the item's kind, due time, application and, of the ids in CONCERNS, the
    one `concerns` names (also as `concerns`, for the order). The caller adds the WHERE."""
    field, concerned = concerns
    columns = [
        literal(kind.value, String()).label("kind"),
        due_at.label("due_at"),
        Application.id.label("application_id"),
        *[(concerned if name == field else cast(null(), Uuid())).label(name) for name in CONCERNS],
        concerned.label("concerns"),
    ]
    return (
        select(*columns)
        .select_from(Application)
        .join(model, and_(model.agency_id == Application.agency_id, on))
    )


def _after_interviews(principal: Principal, assignee: UUID, now: datetime) -> list[Rows]:
    """Next steps, debrief and follow-up, for interviews that have ended (never before)."""

    def recorded(model: type[NextSteps] | type[Debrief]) -> ColumnElement[bool]:
        return exists().where(
            model.agency_id == principal.agency_id, model.interview_id == Interview.id
        )

    wanted = exists().where(
        Decision.agency_id == principal.agency_id,
        Decision.application_id == Application.id,
        Decision.decision == DecisionKind.want,
    )
    finished = exists().where(
        FollowUp.agency_id == principal.agency_id,
        FollowUp.interview_id == Interview.id,
        FollowUp.state.in_([FollowUpState.sent, FollowUpState.cancelled]),
    )
    ended = (*_open_applications(principal, assignee), Interview.has_ended(now))

    def after(kind: WorkKind, due_at: Column) -> Rows:
        on = Interview.application_id == Application.id
        return _kind(kind, due_at, ("interview_id", Interview.id), Interview, on).where(*ended)

    debrief_due = DEBRIEF.sql(Interview.ends_at, principal.agency_id)
    follow_up_due = FOLLOW_UP.sql(Interview.ends_at, principal.agency_id)
    return [
        after(WorkKind.capture_next_steps, Interview.ends_at).where(~recorded(NextSteps)),
        after(WorkKind.write_debrief, debrief_due).where(~recorded(Debrief)),
        after(WorkKind.follow_up_due, follow_up_due).where(wanted, ~finished),
    ]


def _follow_up_approvals(principal: Principal, assignee: UUID) -> Rows:
    due_at = func.coalesce(FollowUp.direct_requested_at, FollowUp.updated_at)
    on = FollowUp.application_id == Application.id
    concerns = ("interview_id", FollowUp.interview_id)
    return _kind(WorkKind.approve_direct_contact, due_at, concerns, FollowUp, on).where(
        *_open_applications(principal, assignee), FollowUp.state == FollowUpState.direct_requested
    )


def _decisions_to_chase(principal: Principal, assignee: UUID, now: datetime) -> Rows:
    """The client said it would decide by a date, the date has passed, and no outcome came."""
    on = NextSteps.application_id == Application.id
    concerns = ("interview_id", NextSteps.interview_id)
    due_at = NextSteps.decision_expected_by
    return _kind(WorkKind.chase_client_decision, due_at, concerns, NextSteps, on).where(
        *_open_applications(principal, assignee),
        Application.status == ApplicationStatus.active,
        NextSteps.decision_expected_by <= now,
    )


def _heads_ups(principal: Principal, assignee: UUID) -> Rows:
    """An offer looks likely: each consenting referee without a heads-up yet."""
    already = exists().where(
        RefereeHeadsUp.agency_id == principal.agency_id,
        RefereeHeadsUp.application_id == Application.id,
        RefereeHeadsUp.referee_id == Referee.id,
    )
    on = Referee.candidate_id == Application.candidate_id
    concerns = ("referee_id", Referee.id)
    due_at = Application.updated_at
    return _kind(WorkKind.heads_up_suggested, due_at, concerns, Referee, on).where(
        *_open_applications(principal, assignee),
        Application.offer_likelihood == OfferLikelihood.high,
        Referee.consent_to_contact,
        ~already,
    )


def _feedback(principal: Principal, assignee: UUID) -> list[Rows]:
    """Feedback received and waiting to be released; else a chase coming due. Whatever the
    application's status: feedback follows an unsuccessful outcome."""
    request = FeedbackRequest
    pending = (
        Application.agency_id == principal.agency_id,
        Application.consultant_id == assignee,
        request.state.in_([FeedbackState.requested, FeedbackState.chased, FeedbackState.received]),
    )
    received = and_(request.state == FeedbackState.received, request.received_at.is_not(None))
    on = request.application_id == Application.id
    concerns = ("feedback_request_id", request.id)
    release = _kind(WorkKind.release_feedback, request.received_at, concerns, request, on)
    chase = _kind(WorkKind.feedback_chase_due, request.next_chase_at, concerns, request, on)
    return [
        release.where(*pending, received),
        chase.where(*pending, ~received, request.next_chase_at.is_not(None)),
    ]


def _candidate_input(principal: Principal, assignee: UUID) -> Rows:
    """The candidate acted through their link and no consultant has touched it since: the
    debrief they wrote (a consultant's revision makes it the consultant's), or the decision
    they recorded last (a consultant recording it again answers it). One item per link, due
    when the candidate last acted; a decision shows on the application's newest link only."""
    agency, link = principal.agency_id, CandidateLink
    debrief_at = (
        select(Debrief.updated_at)
        .where(
            Debrief.agency_id == agency,
            Debrief.interview_id == link.interview_id,
            Debrief.author == DebriefAuthor.candidate,
        )
        .scalar_subquery()
    )

    def last_decision(column: Column) -> ColumnElement[Any]:
        return (
            select(column)
            .where(
                Event.agency_id == agency,
                Event.application_id == Application.id,
                Event.type == "decision.recorded",
            )
            .order_by(Event.txid.desc(), Event.id.desc())
            .limit(1)
            .scalar_subquery()
        )

    newer = aliased(CandidateLink)
    newest = ~exists().where(
        newer.agency_id == agency,
        newer.application_id == link.application_id,
        tuple_(newer.issued_at, newer.id) > tuple_(link.issued_at, link.id),
    )
    by_candidate = and_(last_decision(Event.via_link) == "candidate", newest)
    decided_at = case((by_candidate, last_decision(Event.occurred_at)), else_=null())
    due_at = func.greatest(debrief_at, decided_at)
    on = link.application_id == Application.id
    concerns = ("interview_id", link.interview_id)
    return _kind(WorkKind.review_candidate_input, due_at, concerns, link, on).where(
        *_open_applications(principal, assignee), due_at.is_not(None)
    )
