"""Compound screening: assays, their results and trained models.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from alembic import op

from lanhai.db.schema import metadata

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_TABLES = ["assays", "assay_results", "screening_models"]


def upgrade() -> None:
    bind = op.get_bind()
    for name in _TABLES:
        metadata.tables[name].create(bind, checkfirst=True)


def downgrade() -> None:
    for name in reversed(_TABLES):
        metadata.tables[name].drop(op.get_bind(), checkfirst=True)
