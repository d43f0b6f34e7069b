from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, LargeBinary, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantOwned


class IdempotencyKey(TenantOwned, Base):
    """A POST's stored response, keyed by agency, credential and the caller's Idempotency-Key.

    Written in the same transaction as the POST's effects, so a response is stored exactly when
    the effects are.
    """

    __tablename__ = "idempotency_key"
    __table_args__ = (
        Index(
            "uq_idempotency_key_agency_id_credential_key",
            "agency_id",
            "credential",
            "key",
            unique=True,
        ),
        Index(None, "agency_id", "expires_at"),
        Index("ix_idempotency_key_expires_at", "expires_at"),  # the worker's sweep
    )

    credential: Mapped[str] = mapped_column(String(80))
    key: Mapped[str] = mapped_column(String(255))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(2000))
    request_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    response_status: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[Any] = mapped_column(JSONB)
    response_headers: Mapped[dict[str, str]] = mapped_column(JSONB, server_default="{}")
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
