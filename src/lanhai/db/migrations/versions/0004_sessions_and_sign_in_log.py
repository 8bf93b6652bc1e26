"""Server-side sessions, the sign-in audit log, and usernames unique whatever their case.

Revision 0001 creates its tables from the schema as declared at run time, so this revision
only creates what is missing (a bank made by 0001 today already has these tables).
Usernames become unique ignoring case (``ADMIN1`` and ``admin1`` are one name): should a bank
hold two such users, the later one is renamed ``name~id`` and disabled, so it can neither
sign in nor be confused with the other; an admin sees it in ``lanhai users list``.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import logging

from alembic import op
from sqlalchemy import text

from lanhai.db.schema import metadata

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_TABLES = ["sessions", "auth_events"]
UNIQUE_KEY = "uq_users_username_lower"


def upgrade() -> None:
    bind = op.get_bind()
    for name in _TABLES:
        metadata.tables[name].create(bind, checkfirst=True)
    seen: dict[str, int] = {}
    for user_id, username in bind.execute(text("SELECT id, username FROM users ORDER BY id")):
        key = username.lower()
        if key in seen:
            renamed = f"{username}~{user_id}"
            bind.execute(text("UPDATE users SET username = :name, active = :off WHERE id = :id"),
                         {"name": renamed, "off": False, "id": user_id})
            logging.getLogger("lanhai.migrations").warning(
                "user %r differs only in case from an older user: renamed %r and disabled",
                username, renamed)
        else:
            seen[key] = user_id
    op.execute(f"CREATE UNIQUE INDEX IF NOT EXISTS {UNIQUE_KEY} ON users (lower(username))")


def downgrade() -> None:
    op.execute(f"DROP INDEX IF EXISTS {UNIQUE_KEY}")
    for name in reversed(_TABLES):
        metadata.tables[name].drop(op.get_bind(), checkfirst=True)
