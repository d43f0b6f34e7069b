"""All ORM models, imported together so relationships and Alembic see the whole schema."""

from app.models.agency import Agency
from app.models.api_key import ApiKey
from app.models.audit import AuditEntry
from app.models.base import Base
from app.models.user import Role, User

__all__ = ["Agency", "ApiKey", "AuditEntry", "Base", "Role", "User"]
