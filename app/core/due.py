"""When post-interview work falls due: a number of hours (an agency setting) after the
interview ended. The same rule in Python (a step's `due_at`) and in SQL (the worklist)."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Interval, literal_column, select
from sqlalchemy.orm import InstrumentedAttribute

from app.models import Agency

_HOUR = literal_column("interval '1 hour'", Interval())


@dataclass(frozen=True)
class Deadline:
    """Due `setting` hours (a column of the agency) after the interview's end."""

    setting: InstrumentedAttribute[int]

    def at(self, ends_at: datetime, agency: Agency) -> datetime:
        return ends_at + timedelta(hours=getattr(agency, self.setting.key))

    def sql(self, ends_at: Any, agency_id: UUID) -> ColumnElement[datetime]:
        """`at` as an expression over the column `ends_at`, reading the agency's setting."""
        hours = select(self.setting).where(Agency.id == agency_id).scalar_subquery()
        due: ColumnElement[datetime] = ends_at + hours * _HOUR
        return due


DEBRIEF = Deadline(Agency.debrief_due_hours)
"""The consultant's debrief notes."""
FOLLOW_UP = Deadline(Agency.follow_up_window_hours)
"""The candidate's thank-you follow-up."""
