"""The technology market: a user's organisation and e-mail, accredited brokers, deals and
their events, releases of selected offers, notifications of new matches, financing needs.

Revision 0001 creates its tables from the schema as declared at run time, so this revision
only creates what is missing (a bank made by 0001 today already has these tables and the
column).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lanhai.db.schema import metadata

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_TABLES = ["brokers", "deals", "deal_events", "releases", "notifications", "market_sweeps",
           "financing_needs"]


def upgrade() -> None:
    bind = op.get_bind()
    columns = {c["name"] for c in sa.inspect(bind).get_columns("users")}
    if "organisation" not in columns:
        op.add_column("users", sa.Column("organisation", sa.String(16), nullable=True))
    if "email" not in columns:
        op.add_column("users", sa.Column("email", sa.String(320), nullable=True))
    for name in _TABLES:
        metadata.tables[name].create(bind, checkfirst=True)


def downgrade() -> None:
    for name in reversed(_TABLES):
        metadata.tables[name].drop(op.get_bind(), checkfirst=True)
    with op.batch_alter_table("users") as batch:
        batch.drop_column("email")
        batch.drop_column("organisation")
