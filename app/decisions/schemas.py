from typing import Annotated, Self
from uuid import UUID

from pydantic import Field, StringConstraints, model_validator

from app.applications.schemas import ApplicationRead
from app.core.schemas import InputModel, OutputModel, Timestamp
from app.models import Application, ApplicationStatus, Decision, DecisionKind, OutcomeKind


class DecisionWrite(InputModel):
    """`withdraw` closes the application: it needs a reason, cancels what is pending, and
    queues a courteous note to the client."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {"decision": "unsure", "open_questions": ["Is the hybrid pattern negotiable?"]},
                {"decision": "withdraw", "reason": "Accepted another offer closer to home."},
            ],
            # The rule below, said in the schema: a withdrawal carries a non-blank reason.
            "if": {"properties": {"decision": {"const": "withdraw"}}, "required": ["decision"]},
            "then": {
                "properties": {"reason": {"type": "string", "pattern": "\\S"}},
                "required": ["reason"],
            },
        }
    }

    decision: DecisionKind
    reason: str | None = Field(default=None, max_length=2000)
    open_questions: list[Annotated[str, StringConstraints(min_length=1, max_length=500)]] = Field(
        default_factory=list,
        max_length=20,
        description="What the candidate needs answered before accepting an offer.",
    )

    @model_validator(mode="after")
    def _withdrawal_has_a_reason(self) -> Self:
        if self.decision == DecisionKind.withdraw and not (self.reason or "").strip():
            raise ValueError("a withdrawal needs a reason")
        return self


class DecisionRead(OutputModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "application_id": "0196f0b4-4444-7c0e-9a3b-1f2e3d4c5b6a",
                    "decision": "unsure",
                    "reason": None,
                    "open_questions": ["Is the hybrid pattern negotiable?"],
                    "decided_at": "2026-12-02T15:00:00+00:00",
                    "application_status": "active",
                }
            ]
        }
    }

    application_id: UUID
    decision: DecisionKind
    reason: str | None
    open_questions: list[str]
    decided_at: Timestamp
    application_status: ApplicationStatus

    @classmethod
    def of(cls, decision: Decision, application: Application) -> "DecisionRead":
        return cls(
            application_id=decision.application_id,
            decision=decision.decision,
            reason=decision.reason,
            open_questions=decision.open_questions,
            decided_at=decision.decided_at,
            application_status=application.status,
        )


class OutcomeWrite(InputModel):
    model_config = {
        "json_schema_extra": {"examples": [{"outcome": "offer", "note": "£62k, start in January."}]}
    }

    outcome: OutcomeKind
    note: str | None = Field(default=None, max_length=2000)


class OutcomeRead(OutputModel):
    """The application after the outcome; with an offer, the candidate's open questions."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "application": {
                        "id": "0196f0b4-4444-7c0e-9a3b-1f2e3d4c5b6a",
                        "status": "offer",
                    },
                    "open_questions": ["Is the hybrid pattern negotiable?"],
                }
            ]
        }
    }

    application: ApplicationRead
    open_questions: list[str] = Field(
        description="From an `unsure` decision: raise these with the client now."
    )


class ReopenWrite(InputModel):
    model_config = {
        "json_schema_extra": {
            "examples": [{"reason": "The client came back after their first choice declined."}]
        }
    }

    reason: str = Field(min_length=1, max_length=2000)
