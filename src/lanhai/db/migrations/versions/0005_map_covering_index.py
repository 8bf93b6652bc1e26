"""The map's index: every column the map's grid query reads, so it never reads a record's
row (with its fields) — about 3x faster on 100,000 samples. Replaces the plain latitude,
longitude index (its leading columns are the same, so what used it still can).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

MAP_COLUMNS = ["latitude", "longitude", "restricted", "depth_m", "kind", "accession", "name",
               "event_date"]


def upgrade() -> None:
    op.drop_index("ix_records_lat_lon", table_name="records", if_exists=True)
    op.create_index("ix_records_map", "records", MAP_COLUMNS, if_not_exists=True)


def downgrade() -> None:
    op.drop_index("ix_records_map", table_name="records", if_exists=True)
    op.create_index("ix_records_lat_lon", "records", ["latitude", "longitude"],
                    if_not_exists=True)
