"""The worklist: what needs a consultant now, for any `now`, ordered by due time.

Each kind of work is one query over the consultant's open applications; nothing is stored, so
the list is always what the records say."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import and_, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.agency.service import get_agency
from app.core.auth import Principal
from app.core.clock import Clock
from app.core.errors import Forbidden
from app.core.pagination import PageParams, decode_values, encode_cursor
from app.models import (
    CLOSED_STATUSES,
    Application,
    ApplicationStatus,
    Candidate,
    Client,
    Debrief,
    Decision,
    DecisionKind,
    FeedbackRequest,
    FeedbackState,
    FollowUp,
    FollowUpState,
    Interview,
    InterviewStatus,
    NextSteps,
    OfferLikelihood,
    Referee,
    RefereeHeadsUp,
    Vacancy,
)
from app.worklist.schemas import WorkItem, WorkKind


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
    items = await work_items(session, principal, clock.now(), assignee)
    if params.cursor:
        after = tuple(decode_values(params.cursor, [datetime, str, str, str]))
        items = [i for i in items if _order(i) > after]
    page = items[: params.limit]
    next_cursor = encode_cursor(list(_order(page[-1]))) if len(items) > params.limit else None
    return page, next_cursor


async def work_items(
    session: AsyncSession, principal: Principal, now: datetime, assignee: UUID
) -> list[WorkItem]:
    """Everything that needs `assignee` at `now`, ordered by due time."""
    agency = await get_agency(session, principal)
    items = [
        *await _after_interviews(
            session,
            principal,
            assignee,
            now,
            agency.debrief_due_hours,
            agency.follow_up_window_hours,
        ),
        *await _follow_up_approvals(session, principal, assignee),
        *await _decisions_to_chase(session, principal, assignee, now),
        *await _heads_ups(session, principal, assignee),
        *await _feedback(session, principal, assignee),
    ]
    for item in items:
        item.overdue = item.due_at < now
    items.sort(key=_order)
    return items


def _order(item: WorkItem) -> tuple[datetime, str, str, str]:
    """Due time first; the rest makes the order total (a referee may be suggested for two
    applications at once), so the cursor never skips an item."""
    concerns = item.interview_id or item.referee_id or item.feedback_request_id
    return item.due_at, item.kind.value, str(concerns or ""), str(item.application_id)


def _open_applications(principal: Principal, assignee: UUID) -> Sequence[Any]:
    return (
        Application.agency_id == principal.agency_id,
        Application.consultant_id == assignee,
        Application.status.not_in(list(CLOSED_STATUSES)),
    )


def _with_application(model: Any, on: Any) -> Any:
    """`model` rows with their application (same agency, joined on `on`), and the names an
    item shows: the candidate's, the vacancy's title and its client's."""
    same_agency = Application.agency_id
    return (
        select(
            model,
            Application,
            (Candidate.first_name + " " + Candidate.last_name).label("candidate_name"),
            Vacancy.title.label("vacancy_title"),
            Client.name.label("client_name"),
        )
        .select_from(Application)
        .join(model, and_(model.agency_id == same_agency, on))
        .join(
            Candidate,
            and_(Candidate.agency_id == same_agency, Candidate.id == Application.candidate_id),
        )
        .join(Vacancy, and_(Vacancy.agency_id == same_agency, Vacancy.id == Application.vacancy_id))
        .join(Client, and_(Client.agency_id == same_agency, Client.id == Vacancy.client_id))
    )


def _about(row: Any) -> dict[str, Any]:
    """The fields every item takes from its application's row: ids and names."""
    return {
        "application_id": row.Application.id,
        "candidate_id": row.Application.candidate_id,
        "candidate_name": row.candidate_name,
        "client_name": row.client_name,
        "vacancy_title": row.vacancy_title,
    }


async def _after_interviews(
    session: AsyncSession,
    principal: Principal,
    assignee: UUID,
    now: datetime,
    debrief_hours: int,
    follow_up_hours: int,
) -> list[WorkItem]:
    """Next steps, debrief and follow-up, for interviews that have ended (never before)."""
    stmt = _with_application(Interview, Interview.application_id == Application.id).where(
        *_open_applications(principal, assignee),
        Interview.status == InterviewStatus.scheduled,
        Interview.ends_at <= now,
    )
    rows = (await session.execute(stmt)).all()
    if not rows:
        return []
    interview_ids = [row.Interview.id for row in rows]
    recorded = {
        model: set(
            await session.scalars(
                select(model.interview_id).where(
                    model.agency_id == principal.agency_id, model.interview_id.in_(interview_ids)
                )
            )
        )
        for model in (NextSteps, Debrief)
    }
    finished_follow_ups = set(
        await session.scalars(
            select(FollowUp.interview_id).where(
                FollowUp.agency_id == principal.agency_id,
                FollowUp.interview_id.in_(interview_ids),
                FollowUp.state.in_([FollowUpState.sent, FollowUpState.cancelled]),
            )
        )
    )
    wanting = set(
        await session.scalars(
            select(Decision.application_id).where(
                Decision.agency_id == principal.agency_id,
                Decision.decision == DecisionKind.want,
                Decision.application_id.in_([row.Application.id for row in rows]),
            )
        )
    )
    items = []
    for row in rows:
        interview, application = row.Interview, row.Application
        ids = {**_about(row), "interview_id": interview.id}
        if interview.id not in recorded[NextSteps]:
            items.append(
                WorkItem(
                    kind=WorkKind.capture_next_steps, due_at=interview.ends_at, overdue=False, **ids
                )
            )
        if interview.id not in recorded[Debrief]:
            items.append(
                WorkItem(
                    kind=WorkKind.write_debrief,
                    overdue=False,
                    due_at=interview.ends_at + timedelta(hours=debrief_hours),
                    **ids,
                )
            )
        if application.id in wanting and interview.id not in finished_follow_ups:
            items.append(
                WorkItem(
                    kind=WorkKind.follow_up_due,
                    overdue=False,
                    due_at=interview.ends_at + timedelta(hours=follow_up_hours),
                    **ids,
                )
            )
    return items


async def _follow_up_approvals(
    session: AsyncSession, principal: Principal, assignee: UUID
) -> list[WorkItem]:
    stmt = _with_application(FollowUp, FollowUp.application_id == Application.id).where(
        *_open_applications(principal, assignee), FollowUp.state == FollowUpState.direct_requested
    )
    return [
        WorkItem(
            kind=WorkKind.approve_direct_contact,
            overdue=False,
            due_at=row.FollowUp.direct_requested_at or row.FollowUp.updated_at,
            **_about(row),
            interview_id=row.FollowUp.interview_id,
        )
        for row in (await session.execute(stmt)).all()
    ]


async def _decisions_to_chase(
    session: AsyncSession, principal: Principal, assignee: UUID, now: datetime
) -> list[WorkItem]:
    """The client said it would decide by a date, the date has passed, and no outcome came."""
    stmt = _with_application(NextSteps, NextSteps.application_id == Application.id).where(
        *_open_applications(principal, assignee),
        Application.status == ApplicationStatus.active,
        NextSteps.decision_expected_by <= now,
    )
    return [
        WorkItem(
            kind=WorkKind.chase_client_decision,
            overdue=False,
            due_at=row.NextSteps.decision_expected_by,
            **_about(row),
            interview_id=row.NextSteps.interview_id,
        )
        for row in (await session.execute(stmt)).all()
    ]


async def _heads_ups(session: AsyncSession, principal: Principal, assignee: UUID) -> list[WorkItem]:
    """An offer looks likely: each consenting referee without a heads-up yet."""
    already = exists().where(
        RefereeHeadsUp.agency_id == Application.agency_id,
        RefereeHeadsUp.application_id == Application.id,
        RefereeHeadsUp.referee_id == Referee.id,
    )
    stmt = _with_application(Referee, Referee.candidate_id == Application.candidate_id).where(
        *_open_applications(principal, assignee),
        Application.offer_likelihood == OfferLikelihood.high,
        Referee.consent_to_contact,
        ~already,
    )
    return [
        WorkItem(
            kind=WorkKind.heads_up_suggested,
            overdue=False,
            due_at=row.Application.updated_at,
            **_about(row),
            referee_id=row.Referee.id,
        )
        for row in (await session.execute(stmt)).all()
    ]


async def _feedback(session: AsyncSession, principal: Principal, assignee: UUID) -> list[WorkItem]:
    """Chases coming due, and feedback received and waiting to be released."""
    stmt = _with_application(
        FeedbackRequest,
        FeedbackRequest.application_id == Application.id,
    ).where(
        Application.agency_id == principal.agency_id,
        Application.consultant_id == assignee,
        FeedbackRequest.state.in_(
            [FeedbackState.requested, FeedbackState.chased, FeedbackState.received]
        ),
    )
    items = []
    for row in (await session.execute(stmt)).all():
        request = row.FeedbackRequest
        ids = {**_about(row), "feedback_request_id": request.id}
        if request.state == FeedbackState.received and request.received_at is not None:
            items.append(
                WorkItem(
                    kind=WorkKind.release_feedback, due_at=request.received_at, overdue=False, **ids
                )
            )
        elif request.next_chase_at is not None:
            items.append(
                WorkItem(
                    kind=WorkKind.feedback_chase_due,
                    due_at=request.next_chase_at,
                    overdue=False,
                    **ids,
                )
            )
    return items
