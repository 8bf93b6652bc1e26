"""Programme monitoring: indicator versions, reported updates, closed periods and the
records behind their values.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from alembic import op

from lanhai.db.schema import metadata

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_TABLES = ["indicator_versions", "indicator_updates", "programme_periods", "period_evidence"]


def upgrade() -> None:
    bind = op.get_bind()
    for name in _TABLES:
        metadata.tables[name].create(bind, checkfirst=True)


def downgrade() -> None:
    for name in reversed(_TABLES):
        metadata.tables[name].drop(op.get_bind(), checkfirst=True)
