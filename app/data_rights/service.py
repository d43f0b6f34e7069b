"""A candidate's data rights: everything held about them, in one document; erasure (their
personal data anonymised everywhere it is stored, the reports' counts untouched); and the daily
retention job that erases closed, unsuccessful or withdrawn candidates after `retention_days`.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    String,
    case,
    cast,
    delete,
    exists,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.agency.service import get_agency
from app.applications.schemas import ApplicationRead
from app.audit import service as audit
from app.candidate_links import service as candidate_links
from app.candidates.schemas import CandidateRead, RefereeRead
from app.candidates.service import candidates
from app.core.auth import Principal
from app.core.clock import Clock
from app.core.errors import NotFound
from app.core.events import record_event
from app.core.records import hold
from app.core.scheduled import claim_run
from app.core.timestamps import stamp, touch
from app.data_rights.schemas import (
    ApplicationExport,
    CandidateExport,
    ErasureReport,
    InterviewExport,
)
from app.debriefs.schemas import DebriefRead
from app.decisions.schemas import DecisionRead
from app.events.schemas import TimelineEntry
from app.feedback.schemas import event_snapshot as feedback_snapshot
from app.follow_ups.service import read_of as follow_up_read
from app.heads_ups.schemas import HeadsUpRead
from app.interviews.schemas import InterviewRead
from app.messages.schemas import MessageRead
from app.models import (
    Application,
    ApplicationStatus,
    Candidate,
    Debrief,
    Decision,
    Event,
    FeedbackRequest,
    FollowUp,
    IdempotencyKey,
    Interview,
    Message,
    MessageKind,
    MessageStatus,
    NextSteps,
    RecipientType,
    Referee,
    RefereeHeadsUp,
)
from app.next_steps.schemas import NextStepsRead

ERASED = "[erased]"
RETENTION_JOB = "retention"
RETENTION_LOCAL_HOUR = 3
RETAINED_STATUSES = (ApplicationStatus.unsuccessful, ApplicationStatus.withdrawn)


def erased_address(object_id: UUID) -> str:
    """An address that is no one's and never deliverable (`.invalid`, RFC 2606)."""
    return f"erased-{object_id}@erased.invalid"


# --- export ---------------------------------------------------------------------------------


async def export_candidate(
    session: AsyncSession, principal: Principal, clock: Clock, candidate_id: UUID
) -> CandidateExport:
    candidate = await candidates.get(session, principal, candidate_id)
    referees = await _all(session, Referee, principal, Referee.candidate_id == candidate.id)
    applications = await _all(
        session, Application, principal, Application.candidate_id == candidate.id
    )
    exported = [await _application(session, principal, clock, a) for a in applications]
    direct = await _all(
        session,
        Message,
        principal,
        Message.application_id.is_(None),
        _addressed_to(candidate.id, [r.id for r in referees]),
    )
    return CandidateExport(
        exported_at=clock.now(),
        candidate=CandidateRead.model_validate(candidate),
        erased_at=candidate.erased_at,
        referees=[RefereeRead.model_validate(r) for r in referees],
        applications=exported,
        other_messages=[MessageRead.model_validate(m) for m in direct],
    )


async def _application(
    session: AsyncSession, principal: Principal, clock: Clock, application: Application
) -> ApplicationExport:
    interviews = await _all(
        session, Interview, principal, Interview.application_id.in_([application.id])
    )
    decision = await _one(session, Decision, principal, Decision.application_id == application.id)
    request = await _one(
        session, FeedbackRequest, principal, FeedbackRequest.application_id == application.id
    )
    heads_ups = await _all(
        session, RefereeHeadsUp, principal, RefereeHeadsUp.application_id == application.id
    )
    statuses = {
        m.id: m.status
        for m in await _all(
            session,
            Message,
            principal,
            Message.id.in_([h.message_id for h in heads_ups if h.message_id]),
        )
    }
    messages = await _all(session, Message, principal, Message.application_id == application.id)
    timeline = await _all(session, Event, principal, Event.application_id == application.id)
    return ApplicationExport(
        application=ApplicationRead.model_validate(application),
        interviews=[await _interview(session, principal, clock, i) for i in interviews],
        decision=DecisionRead.of(decision, application) if decision else None,
        heads_ups=[HeadsUpRead.of(h, statuses.get(h.message_id)) for h in heads_ups],
        feedback_request=feedback_snapshot(request) if request else None,
        messages=[MessageRead.model_validate(m) for m in messages],
        timeline=[
            TimelineEntry.of(e) for e in sorted(timeline, key=lambda e: (e.occurred_at, e.id))
        ],
    )


async def _interview(
    session: AsyncSession, principal: Principal, clock: Clock, interview: Interview
) -> InterviewExport:
    steps = await _one(session, NextSteps, principal, NextSteps.interview_id == interview.id)
    debrief = await _one(session, Debrief, principal, Debrief.interview_id == interview.id)
    follow_up = await _one(session, FollowUp, principal, FollowUp.interview_id == interview.id)
    return InterviewExport(
        interview=InterviewRead.model_validate(interview),
        next_steps=NextStepsRead.model_validate(steps) if steps else None,
        debrief=DebriefRead.model_validate(debrief) if debrief else None,
        follow_up=await follow_up_read(session, principal, clock, follow_up) if follow_up else None,
    )


# --- erasure --------------------------------------------------------------------------------


async def erase_candidate(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    candidate_id: UUID,
    *,
    why: str,
) -> ErasureReport:
    """Anonymise the candidate everywhere; idempotent (erasing twice changes nothing more)."""
    candidate = await candidates.get(session, principal, candidate_id)
    # Two erasures at once: the second waits here, then sees the first's and changes nothing
    # (they deadlocked on the referees' rows, and the loser answered 412 with no If-Match).
    if not await hold(session, principal, candidate):
        raise NotFound("No candidate with that id.")
    if candidate.erased_at is not None:
        return ErasureReport(candidate_id=candidate.id, erased_at=candidate.erased_at, changed={})
    now = clock.now()
    email, full_name = candidate.email, f"{candidate.first_name} {candidate.last_name}"
    referee_ids = [
        r.id for r in await _all(session, Referee, principal, Referee.candidate_id == candidate.id)
    ]
    app_ids = list(
        await session.scalars(
            select(Application.id).where(
                Application.agency_id == principal.agency_id,
                Application.candidate_id == candidate.id,
            )
        )
    )
    changed = await _scrub(session, principal, referee_ids, app_ids, now)
    changed["candidate_links"] = await candidate_links.revoke_for_applications(
        session, principal, clock, app_ids
    )
    message_ids = await _scrub_messages(
        session, principal, candidate.id, referee_ids, app_ids, full_name, now
    )
    changed["messages"] = len(message_ids)
    changed["events"] = int(
        await session.scalar(
            text("SELECT erase_event_snapshots(:objects, :applications)"),
            {"objects": [candidate.id, *referee_ids, *message_ids], "applications": app_ids},
        )
        or 0
    )
    # Stored responses (kept 48 h for replays) that mention the candidate or anything of theirs.
    mentions = [email, *(str(i) for i in (candidate.id, *referee_ids, *app_ids))]
    stored = cast(IdempotencyKey.response_body, String)
    gone = await session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.agency_id == principal.agency_id,
            or_(*(stored.contains(m, autoescape=True) for m in mentions)),
        )
    )
    changed["stored_responses"] = int(getattr(gone, "rowcount", 0) or 0)
    candidate.first_name, candidate.last_name = "Erased", "Candidate"
    candidate.email, candidate.phone = erased_address(candidate.id), None
    candidate.contact_consent, candidate.external_id = False, None
    candidate.erased_at = now
    touch(candidate, now)
    await session.flush()
    audit.record(
        session,
        principal,
        clock,
        "candidate.erased",
        ("candidate", candidate.id),
        why=why,
        **changed,
    )
    record_event(
        session,
        principal,
        clock,
        "candidate.erased",
        candidate.id,
        snapshot=CandidateRead.model_validate(candidate),
        why=why,
    )
    return ErasureReport(candidate_id=candidate.id, erased_at=now, changed=changed)


async def _scrub(
    session: AsyncSession,
    principal: Principal,
    referee_ids: list[UUID],
    app_ids: list[UUID],
    now: datetime,
) -> dict[str, int]:
    """Every free text about the candidate, in every step of every application, and their
    referees. Versions move on (ETags change); counts and dates (the reports) stay."""
    mine = principal.agency_id
    plans: list[tuple[str, Any, Sequence[ColumnElement[bool]], dict[str, Any]]] = [
        (
            "referees",
            Referee,
            [Referee.id.in_(referee_ids)],
            {
                "name": "Erased referee",
                "email": func.concat("erased-", Referee.id, "@erased.invalid"),
                "relationship": ERASED,
                "consent_to_contact": False,
            },
        ),
        ("applications", Application, [Application.id.in_(app_ids)], {"outcome_note": None}),
        ("next_steps", NextSteps, [NextSteps.application_id.in_(app_ids)], {"details": ERASED}),
        (
            "debriefs",
            Debrief,
            [Debrief.application_id.in_(app_ids)],
            {"went_well": ERASED, "could_improve": ERASED, "links": []},
        ),
        (
            "decisions",
            Decision,
            [Decision.application_id.in_(app_ids)],
            {"reason": None, "open_questions": []},
        ),
        (
            "follow_ups",
            FollowUp,
            [FollowUp.application_id.in_(app_ids)],
            {
                "agency_thanks_note": None,
                "direct_request_reason": None,
                "direct_decline_reason": None,
                "subject": _erase_if_set(FollowUp.subject),
                "body": _erase_if_set(FollowUp.body),
                "links": [],
            },
        ),
        (
            "heads_ups",
            RefereeHeadsUp,
            [RefereeHeadsUp.application_id.in_(app_ids)],
            {"why_want_job": ERASED, "key_points": ERASED},
        ),
        (
            "feedback",
            FeedbackRequest,
            [FeedbackRequest.application_id.in_(app_ids)],
            {
                "strengths": _erase_if_set(FeedbackRequest.strengths),
                "gaps": _erase_if_set(FeedbackRequest.gaps),
                "advice": _erase_if_set(FeedbackRequest.advice),
            },
        ),
    ]
    changed = {}
    for label, model, where, values in plans:
        stamped = stamp(model, now)
        result = await session.execute(
            update(model)
            .where(model.agency_id == mine, *where)
            .values(**values, **stamped)
            .execution_options(synchronize_session=False)
        )
        changed[label] = int(getattr(result, "rowcount", 0) or 0)
    return changed


async def _scrub_messages(
    session: AsyncSession,
    principal: Principal,
    candidate_id: UUID,
    referee_ids: list[UUID],
    app_ids: list[UUID],
    full_name: str,
    now: datetime,
) -> list[UUID]:
    """Messages about the candidate or to them or their referees: addresses and words gone,
    those still queued cancelled; and their name taken out of consultants' digests."""
    about = or_(Message.application_id.in_(app_ids), _addressed_to(candidate_id, referee_ids))
    scrubbed = await session.scalars(
        update(Message)
        .where(Message.agency_id == principal.agency_id, about)
        .values(
            to_address=func.concat("erased-", Message.id, "@erased.invalid"),
            to_name=None,
            subject=ERASED,
            body=ERASED,
            status=case(
                (Message.status == MessageStatus.queued, MessageStatus.cancelled.value),
                else_=Message.status,
            ),
            **stamp(Message, now),
        )
        .returning(Message.id)
        .execution_options(synchronize_session=False)
    )
    ids = list(scrubbed.all())
    digests = await session.scalars(
        update(Message)
        .where(
            Message.agency_id == principal.agency_id,
            Message.kind == MessageKind.daily_digest,
            Message.body.contains(full_name, autoescape=True),
        )
        .values(
            body=func.replace(Message.body, full_name, "Erased Candidate"), **stamp(Message, now)
        )
        .returning(Message.id)
        .execution_options(synchronize_session=False)
    )
    return [*ids, *digests.all()]


def _erase_if_set(column: Any) -> Any:
    """`[erased]` where there was text, NULL where there was none."""
    return case((column.is_(None), None), else_=ERASED)


def _addressed_to(candidate_id: UUID, referee_ids: list[UUID]) -> ColumnElement[bool]:
    return or_(
        (Message.recipient_type == RecipientType.candidate)
        & (Message.recipient_id == candidate_id),
        (Message.recipient_type == RecipientType.referee) & Message.recipient_id.in_(referee_ids),
    )


# --- retention ------------------------------------------------------------------------------


async def apply_retention(
    session: AsyncSession, principal: Principal, clock: Clock, local_date: str
) -> int:
    """Once per agency and local day: erase the candidates whose every application closed
    unsuccessful or withdrawn more than `retention_days` ago. Returns how many were erased."""
    if not await claim_run(session, principal, RETENTION_JOB, local_date, clock.now()):
        return 0
    agency = await get_agency(session, principal)
    cutoff = clock.now() - timedelta(days=agency.retention_days)
    theirs = (Application.agency_id == Candidate.agency_id) & (
        Application.candidate_id == Candidate.id
    )
    still_held = (
        Application.status.not_in(RETAINED_STATUSES)
        | Application.closed_at.is_(None)
        | (Application.closed_at >= cutoff)
    )
    due = await session.scalars(
        select(Candidate.id).where(
            Candidate.agency_id == principal.agency_id,
            Candidate.erased_at.is_(None),
            exists().where(theirs),
            ~exists().where(theirs, still_held),
        )
    )
    erased = 0
    for candidate_id in due.all():
        await erase_candidate(session, principal, clock, candidate_id, why="retention")
        erased += 1
    audit.record(
        session,
        principal,
        clock,
        "retention.applied",
        ("agency", principal.agency_id),
        retention_days=agency.retention_days,
        erased=erased,
    )
    return erased


async def _all(session: AsyncSession, model: Any, principal: Principal, *where: Any) -> list[Any]:
    rows = await session.scalars(
        select(model).where(model.agency_id == principal.agency_id, *where)
    )
    return list(rows.all())


async def _one(session: AsyncSession, model: Any, principal: Principal, *where: Any) -> Any:
    return await session.scalar(select(model).where(model.agency_id == principal.agency_id, *where))
