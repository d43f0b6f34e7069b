"""The candidate page's four forms, read from what the browser posted: each into the schema its
API route takes (so the same rules hold), or into a message per wrong field, in words, with
what was typed kept to be shown again.

Field ids on the page are `<form>-<name>` (`debrief-went_well`, `note-subject`); errors and
typed values are keyed by those ids."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from uuid import UUID

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from starlette.datastructures import FormData

from app.debriefs.schemas import DebriefWrite
from app.decisions.schemas import DecisionWrite
from app.follow_ups.schemas import AgencyThanks, FollowUpSend
from app.models import AnswerQuality, DecisionKind, FollowUpRoute

M = TypeVar("M", bound=BaseModel)

MAX_SLOTS = 20
"""Question boxes a debrief form offers at most (the API takes 100)."""
MIN_SLOTS = 3
MAX_FIELD = 10_000
"""No form field is longer (the schemas' own limits are lower; this only bounds the work)."""
FORMS = ("debrief", "decision", "thanks", "note")


@dataclass
class Filled(Generic[M]):
    """One posted form: the schema it makes (None while any field is wrong), what was typed,
    and a message per wrong field, all keyed by the page's field ids."""

    form: str
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    data: M | None = None
    slots: int = MIN_SLOTS
    more: bool = False
    """The debrief's "add another question": show the form again, one box more, send nothing."""

    def id(self, name: str) -> str:
        return f"{self.form}-{name}"

    def keep(self, name: str, value: str) -> str:
        self.values[self.id(name)] = value
        return value

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(self.id(name), message)

    def build(
        self, model: type[M], body: dict[str, Any], locate: Callable[[tuple[Any, ...]], str]
    ) -> "Filled[M]":
        """The schema from `body`, unless a field was already wrong; its own errors, each
        beside the field `locate` names for its location."""
        if self.errors:
            return self
        try:
            self.data = model.model_validate(body)
        except ValidationError as exc:
            for error in exc.errors():
                self.fail(locate(tuple(error["loc"])), _message(error))
        return self


def text(form: FormData, name: str) -> str:
    """A posted text field as the person sees it: a browser's CRLF as one line break."""
    value = form.get(name)
    return value[:MAX_FIELD].replace("\r\n", "\n") if isinstance(value, str) else ""


def lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


def _message(error: ErrorDetails) -> str:
    kind = error["type"]
    if kind == "string_too_long":
        limit, length = error.get("ctx", {}).get("max_length"), len(error["input"])
        return f"Please shorten this to {limit:,} characters or fewer (it has {length:,})."
    if kind == "too_long":
        limit = error.get("ctx", {}).get("max_length")
        return f"Please give at most {limit} of these."
    if kind in ("missing", "string_too_short"):
        return "Please fill this in."
    if kind.startswith("url"):
        return "Each line should be a web address starting with https:// (or http://)."
    if kind == "single_line":
        return "Please keep this to one line."
    return "Please check this answer."


# --- Step 2: the debrief ------------------------------------------------------------------------


def debrief(form: FormData) -> Filled[DebriefWrite]:
    filled: Filled[DebriefWrite] = Filled("debrief")
    slots = _slots(form)
    questions, positions = [], []
    for i in range(slots):
        question = _question(form, filled, i)
        if question is not None:
            questions.append(question)
            positions.append(i)
    went_well = filled.keep("went_well", text(form, "went_well"))
    could_improve = filled.keep("could_improve", text(form, "could_improve"))
    links = filled.keep("links", text(form, "links"))
    if not went_well.strip():
        filled.fail("went_well", "Write what went well.")
    if not could_improve.strip():
        filled.fail("could_improve", "Write what could have gone better.")
    filled.more = form.get("action") == "more"
    filled.slots = min(MAX_SLOTS, slots + 1) if filled.more else slots
    if filled.more:
        return filled

    def locate(loc: tuple[Any, ...]) -> str:
        if loc[:1] == ("questions",) and len(loc) > 2:
            return f"q{positions[loc[1]]}_{'quality' if loc[2] == 'answer_quality' else 'text'}"
        return str(loc[0]) if loc else "went_well"

    body = {
        "questions": questions,
        "went_well": went_well,
        "could_improve": could_improve,
        "links": lines(links),
    }
    return filled.build(DebriefWrite, body, locate)


def _slots(form: FormData) -> int:
    try:
        posted = int(str(form.get("slots") or MIN_SLOTS))
    except ValueError:
        posted = MIN_SLOTS
    return max(1, min(MAX_SLOTS, posted))


def _question(form: FormData, filled: Filled[DebriefWrite], i: int) -> dict[str, Any] | None:
    """Question box `i`: None when left blank; an error beside the part that is missing."""
    asked = filled.keep(f"q{i}_text", text(form, f"q{i}_text"))
    quality = filled.keep(f"q{i}_quality", text(form, f"q{i}_quality"))
    half = filled.keep(f"q{i}_half", "yes" if form.get(f"q{i}_half") == "yes" else "")
    if not (asked.strip() or quality or half):
        return None
    if not asked.strip():
        filled.fail(f"q{i}_text", "Write the question you were asked, or clear this box.")
    if quality not in AnswerQuality.__members__:
        filled.fail(f"q{i}_quality", "Choose how your answer went.")
    return {"text": asked.strip(), "answer_quality": quality, "half_answered": bool(half)}


# --- Step 3: the decision -----------------------------------------------------------------------


def decision(form: FormData) -> Filled[DecisionWrite]:
    filled: Filled[DecisionWrite] = Filled("decision")
    choice = filled.keep("decision", text(form, "decision"))
    questions = filled.keep("open_questions", text(form, "open_questions"))
    reason = filled.keep("reason", text(form, "reason"))
    if choice not in DecisionKind.__members__:
        filled.fail("decision", "Choose one of the three answers.")
        return filled
    if choice == DecisionKind.withdraw and not reason.strip():
        filled.fail("reason", "Tell us why you are withdrawing; we pass it on kindly.")
    body: dict[str, Any] = {"decision": choice}
    if choice == DecisionKind.unsure:
        body["open_questions"] = lines(questions)
    if choice == DecisionKind.withdraw:
        body["reason"] = reason.strip()

    def locate(loc: tuple[Any, ...]) -> str:
        return str(loc[0]) if loc and loc[0] in ("open_questions", "reason") else "decision"

    return filled.build(DecisionWrite, body, locate)


# --- Step 4: thanks to the agency, then the note to the interviewers ----------------------------


def thanks(form: FormData) -> Filled[AgencyThanks]:
    filled: Filled[AgencyThanks] = Filled("thanks")
    note = filled.keep("note", text(form, "note"))
    return filled.build(AgencyThanks, {"note": note.strip() or None}, lambda _loc: "note")


def note(form: FormData) -> Filled[FollowUpSend]:
    filled: Filled[FollowUpSend] = Filled("note")
    subject = filled.keep("subject", text(form, "subject"))
    body = filled.keep("body", text(form, "body"))
    links = filled.keep("links", text(form, "links"))
    answers = filled.keep("answers_question_id", text(form, "answers_question_id"))
    if not subject.strip():
        filled.fail("subject", "Write a subject line.")
    if not body.strip():
        filled.fail("body", "Write your note to the interviewers.")
    answer: UUID | None = None
    if answers:
        try:
            answer = UUID(answers)
        except ValueError:
            filled.fail("answers_question_id", "Choose one of the questions below, or none.")
    draft = {
        "route": FollowUpRoute.direct,
        "subject": subject,
        "body": body,
        "links": lines(links),
        "answers_question_id": answer,
    }

    def locate(loc: tuple[Any, ...]) -> str:
        return str(loc[0]) if loc and loc[0] != "route" else "body"

    return filled.build(FollowUpSend, draft, locate)
