"""What the candidate's page says: where each step stands, which forms it offers, and each
refusal (a problem of the API) in words beside its field or above its form."""

from dataclasses import dataclass
from typing import Any

from app.candidate_links.forms import MAX_SLOTS, MIN_SLOTS
from app.candidate_links.progress import Progress
from app.core.errors import (
    AgencyFirstRequired,
    ApplicationClosed,
    DecisionNotWant,
    FollowUpTooLong,
    InterviewCancelled,
    InterviewNotFinished,
    Problem,
    ReferenceNotFound,
)
from app.models import DebriefAuthor, DecisionKind, FollowUpState, NextStepKind

QUALITIES = [
    ("strong", "Strong: I answered it well"),
    ("adequate", "Adequate: a fair answer"),
    ("weak", "Weak: I struggled with it"),
]
DECISIONS = [
    ("want", "Yes, I still want the job"),
    ("unsure", "I am not sure yet"),
    ("withdraw", "No: please withdraw my application"),
]
NEXT_KINDS = {
    NextStepKind.another_round: "Another interview round",
    NextStepKind.assessment: "An assessment",
    NextStepKind.decision: "The client decides",
    NextStepKind.offer_call: "An offer call",
    NextStepKind.unknown: "Not settled yet",
}
SENT = {
    "debrief": "Thank you: your notes are sent",
    "decision": "Thank you: your answer is sent",
    "thanks": "Thank you: {agency} has your thanks",
    "note": "Your note is with {agency} for approval",
}
ALREADY = {
    "debrief": "Your consultant has taken over your notes since you sent them, so they were "
    "not changed now. Reply to {agency}'s email to add anything.",
    "decision": "Your answer was already sent, so nothing more was sent now.",
    "thanks": "Your thanks to {agency} were already sent, so nothing more was sent now.",
    "note": "Your note to the interviewers was already sent to {agency}, so nothing more was "
    "sent now.",
}


@dataclass(frozen=True)
class Refusal:
    """A problem in words: beside a field (its page id), or above the form (`field` None)."""

    field: str | None
    message: str


def refusal(problem: Problem, form: str, agency: str) -> Refusal:
    if isinstance(problem, FollowUpTooLong):
        words, limit = problem.extensions["word_count"], problem.extensions["word_limit"]
        return Refusal("note-body", f"Your note has {words} words; please keep it to {limit}.")
    if isinstance(problem, ReferenceNotFound) and form == "note":
        message = "Choose one of the questions you marked half-answered, or none."
        return Refusal("note-answers_question_id", message)
    words = {
        DecisionNotWant: f"You can thank {agency} once you have told them you still want the "
        "job (above).",
        AgencyFirstRequired: f"Please thank {agency} first (above); then write to the "
        "interviewers.",
        ApplicationClosed: "Your application is closed, so this can no longer be sent. If that "
        f"is a surprise, reply to {agency}'s email.",
        InterviewCancelled: "This interview was cancelled, so there is nothing to send for it.",
        InterviewNotFinished: "This opens once the interview has ended.",
    }
    for kind, message in words.items():
        if isinstance(problem, kind):
            return Refusal(None, message)
    return Refusal(None, f"{problem.title}: {problem.detail or 'please check and try again'}.")


def show(p: Progress) -> dict[str, bool]:
    """The forms the page offers now (a post to one not offered still meets the API's rules)."""
    state = p.follow_up_state
    wants = p.decision is not None and p.decision.decision == DecisionKind.want
    return {
        "debrief": p.open and (p.debrief is None or p.debrief.author == DebriefAuthor.candidate),
        "decision": p.open,
        "thanks": p.open and wants and state == FollowUpState.not_started,
        "note": p.open and wants and state == FollowUpState.agency_thanked,
    }


def defaults(p: Progress) -> dict[str, str]:
    """The forms filled with what is recorded: the candidate's own debrief, the decision."""
    values: dict[str, str] = {}
    if p.debrief is not None and p.debrief.author == DebriefAuthor.candidate:
        for i, q in enumerate(p.debrief.questions[:MAX_SLOTS]):
            values[f"debrief-q{i}_text"] = q.text
            values[f"debrief-q{i}_quality"] = str(q.answer_quality)
            values[f"debrief-q{i}_half"] = "yes" if q.half_answered else ""
        values["debrief-went_well"] = p.debrief.went_well
        values["debrief-could_improve"] = p.debrief.could_improve
        values["debrief-links"] = "\n".join(p.debrief.links)
    if p.decision is not None:
        values["decision-decision"] = str(p.decision.decision)
        values["decision-open_questions"] = "\n".join(p.decision.open_questions)
        values["decision-reason"] = p.decision.reason or ""
    return values


def slots(p: Progress) -> int:
    asked = len(p.debrief.questions) if p.debrief and show(p)["debrief"] else 0
    return max(MIN_SLOTS, min(MAX_SLOTS, asked + 1))


def context(p: Progress) -> dict[str, Any]:
    agency = p.agency_name
    next_kind = NEXT_KINDS[NextStepKind(p.next_steps.kind)] if p.next_steps else ""
    return {
        "p": p,
        "local": p.local,
        "next_kind": next_kind,
        "steps": _steps(p),
        "show": show(p),
        "closed": _closed(p),
        "debrief_text": _debrief_text(p),
        "decision_text": _decision_text(p),
        "thanks_text": _thanks_text(p),
        "note_text": _note_text(p),
        "qualities": QUALITIES,
        "decisions": DECISIONS,
        "half_answered": [("", "None of them"), *((str(q.id), q.text) for q in p.half_answered)],
        "max_slots": MAX_SLOTS,
        "agency": agency,
    }


def _closed(p: Progress) -> str | None:
    if not p.application.is_open:
        return (
            f"Your application is now closed, so there is nothing more to do here. Thank you "
            f"for keeping {p.agency_name} informed."
        )
    if not p.open:
        return "This interview was cancelled, so there is nothing to do for it here."
    return None


def _steps(p: Progress) -> list[tuple[str, str, str, bool]]:
    agency, state = p.agency_name, p.follow_up_state
    thanked = state not in (FollowUpState.not_started, FollowUpState.cancelled)
    return [
        ("debrief", "Your notes on the interview", *_debrief_state(p)),
        ("decision", "Do you still want the job?", *_decision_state(p)),
        ("thanks", f"Thank {agency}", "Done" if thanked else "To do", thanked),
        ("note", "A note to the interviewers", *_note_state(p)),
    ]


def _debrief_state(p: Progress) -> tuple[str, bool]:
    if p.debrief is None:
        return f"To do: best by {p.local(p.debrief_due_at)}", False
    if p.debrief.author == DebriefAuthor.consultant:
        return "Recorded by your consultant", True
    return f"Sent {p.local(p.debrief.updated_at)}", True


def _decision_state(p: Progress) -> tuple[str, bool]:
    if p.decision is None:
        return "To do", False
    said = {"want": "You still want the job", "unsure": "You are not sure yet"}
    return said.get(str(p.decision.decision), "You withdrew"), True


def _note_state(p: Progress) -> tuple[str, bool]:
    agency, state = p.agency_name, p.follow_up_state
    states = {
        FollowUpState.direct_requested: (f"Waiting for {agency}'s approval", True),
        FollowUpState.direct_approved: (f"Approved: {agency} sends it on", True),
        FollowUpState.direct_declined: (f"{agency} passes your thanks on", True),
        FollowUpState.sent: ("Sent", True),
        FollowUpState.cancelled: ("Not needed", True),
    }
    return states.get(state, (f"To do, after thanking {agency}", False))


def _debrief_text(p: Progress) -> str:
    if p.debrief is None:
        return "Nothing more to do here."
    if p.debrief.author == DebriefAuthor.consultant:
        return f"{p.agency_name} has your notes; your consultant has updated them. Thank you."
    return f"Thank you: {p.agency_name} has your notes."


def _decision_text(p: Progress) -> str:
    if p.decision is not None and p.decision.decision == DecisionKind.withdraw:
        return f"You withdrew; {p.agency_name} has thanked the client for you."
    return "Nothing more to do here."


def _thanks_text(p: Progress) -> str:
    state = p.follow_up_state
    if state == FollowUpState.cancelled or not p.open:
        return "Nothing more to do here."
    if state != FollowUpState.not_started:
        return f"Thank you: {p.agency_name} has your thanks."
    return (
        f"This comes once you have told {p.agency_name} you still want the job: "
        "thank them first, then the interviewers."
    )


def _note_text(p: Progress) -> str:
    agency, state = p.agency_name, p.follow_up_state
    texts = {
        FollowUpState.direct_requested: f"Your note is with {agency}: they send it on to the "
        "interviewers once they approve it.",
        FollowUpState.direct_approved: f"{agency} approved your note and sends it on.",
        FollowUpState.direct_declined: f"{agency} will pass your thanks on to the interviewers.",
        FollowUpState.sent: f"Your note was sent on {p.local(p.follow_up.sent_at)}."
        if p.follow_up and p.follow_up.sent_at
        else "Your note was sent.",
    }
    if not p.open:
        return "Nothing more to do here."
    return texts.get(state, f"This comes after your thanks to {agency}.")
