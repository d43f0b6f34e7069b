"""question bank index: no question text in a btree

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 09:00:00

`debrief_question` was indexed on `(agency_id, client_id, normalized_text)`. A btree entry holds
at most 2,704 bytes, and a question may be 1,000 characters: 900 CJK characters (2,700 bytes in
UTF-8) made the debrief a 500. The question bank reads every question of one client and groups
them anyway, so `(agency_id, client_id)` serves it (and the cascade from `client`) as well.

The downgrade puts the old index back; it fails if a question over that size was stored since.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = "ix_debrief_question_agency_id_client_id_normalized_text"
NEW = "ix_debrief_question_agency_id_client_id"


def upgrade() -> None:
    op.drop_index(OLD, table_name="debrief_question")
    op.create_index(NEW, "debrief_question", ["agency_id", "client_id"])


def downgrade() -> None:
    op.drop_index(NEW, table_name="debrief_question")
    op.create_index(OLD, "debrief_question", ["agency_id", "client_id", "normalized_text"])
