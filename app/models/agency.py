from uuid import UUID

from sqlalchemy import Boolean, CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.ids import new_id
from app.models.base import Base, Timestamps, Versioned


class Agency(Timestamps, Versioned, Base):
    """The tenant. Its own row is visible only inside a transaction scoped to it."""

    __tablename__ = "agency"
    __table_args__ = (
        CheckConstraint("debrief_due_hours BETWEEN 1 AND 720", name="debrief_due_hours"),
        CheckConstraint("follow_up_window_hours BETWEEN 1 AND 720", name="follow_up_window_hours"),
        CheckConstraint("follow_up_max_words BETWEEN 10 AND 2000", name="follow_up_max_words"),
        CheckConstraint(
            "feedback_chase_after_days BETWEEN 1 AND 90", name="feedback_chase_after_days"
        ),
        CheckConstraint("feedback_max_chases BETWEEN 0 AND 20", name="feedback_max_chases"),
        CheckConstraint("retention_days BETWEEN 30 AND 3650", name="retention_days"),
        CheckConstraint("candidate_link_days BETWEEN 1 AND 30", name="candidate_link_days"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    debrief_due_hours: Mapped[int] = mapped_column(Integer, server_default="24")
    follow_up_window_hours: Mapped[int] = mapped_column(Integer, server_default="24")
    follow_up_max_words: Mapped[int] = mapped_column(Integer, server_default="150")
    feedback_chase_after_days: Mapped[int] = mapped_column(Integer, server_default="5")
    feedback_max_chases: Mapped[int] = mapped_column(Integer, server_default="3")
    timezone: Mapped[str] = mapped_column(String(64), server_default="UTC")
    sender_name: Mapped[str | None] = mapped_column(String(200))
    sender_email: Mapped[str | None] = mapped_column(String(320))
    retention_days: Mapped[int] = mapped_column(Integer, server_default="730")
    candidate_links: Mapped[bool] = mapped_column(Boolean, server_default="false")
    """The worker emails the candidate a signed link when an interview ends."""
    candidate_link_days: Mapped[int] = mapped_column(Integer, server_default="3")
