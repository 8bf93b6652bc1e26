"""Background jobs in the catalogue database, for banks on PostgreSQL served by several
processes or machines (decision 0021); an embedded bank keeps its job files.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from alembic import op

from lanhai.db.schema import metadata

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    metadata.tables["jobs"].create(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    metadata.tables["jobs"].drop(op.get_bind(), checkfirst=True)
