from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantOwned


class ScheduledRun(TenantOwned, Base):
    """One run of a periodic job for one agency and period (the daily digest of 2026-11-30).

    Inserted in the transaction that does the job: its unique key lets one worker through
    however many race, and a job that fails leaves no row, so it runs again."""

    __tablename__ = "scheduled_run"
    __table_args__ = (UniqueConstraint("agency_id", "job", "period"),)

    job: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(64))
    ran_at: Mapped[datetime]
