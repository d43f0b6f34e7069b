from datetime import datetime

from sqlalchemy import BigInteger, Identity, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class LoginFailure(Base):
    """A failed login, counted per account and per client address to throttle guessing.

    Global, not a tenant table: a login happens before anyone knows the agency. It holds no
    personal data, only SHA-256 digests of the email or the address."""

    __tablename__ = "login_failure"
    __table_args__ = (Index(None, "scope", "key_digest", "failed_at"), Index(None, "failed_at"))

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    scope: Mapped[str] = mapped_column(String(10))
    """`account` or `address`."""
    key_digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    failed_at: Mapped[datetime]
