"""Genome projects: projects, their target species and each species' status events.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from alembic import op

from lanhai.db.schema import metadata

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_TABLES = ["genome_projects", "genome_targets", "genome_status_events"]


def upgrade() -> None:
    bind = op.get_bind()
    for name in _TABLES:
        metadata.tables[name].create(bind, checkfirst=True)


def downgrade() -> None:
    for name in reversed(_TABLES):
        metadata.tables[name].drop(op.get_bind(), checkfirst=True)
