from datetime import datetime

from sqlalchemy import Integer, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class RateLimitCounter(Base):
    """Requests per credential per minute, shared by every API process. Global, not a tenant
    table: counted before the request's agency is looked up; it holds digests only."""

    __tablename__ = "rate_limit_counter"

    key_digest: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
