"""Full text: one- and two-character Chinese words through the index.

``search_text`` now ends with its runs of Han (kana, Hangul) characters spelled out one
character at a time (:func:`lanhai.kinds.spelled_out`), so that the SQLite trigram index finds
海参 as the trigram "海 参" instead of scanning every record. This revision appends that part
to the search text of the records already stored; the FTS5 triggers of revision 0001 keep
``records_fts`` in step. Only records containing such characters change. PostgreSQL gets the
same text (searches there use pg_trgm substring matching, which never needed it).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_BATCH = 5_000


def _rewrite(spell: bool) -> None:
    from lanhai.kinds import spelled_out

    conn = op.get_bind()
    last = 0
    while True:
        rows = conn.execute(text("SELECT id, search_text FROM records WHERE id > :last "
                                 "ORDER BY id LIMIT :n"), {"last": last, "n": _BATCH}).all()
        if not rows:
            return
        last = rows[-1][0]
        changed = []
        for rid, current in rows:
            if spell:
                spelled = spelled_out(current)
                new = f"{current} ||{spelled}" if spelled else current
            else:  # drop the spelled-out part where it is exactly what upgrade appended
                base, _, tail = current.rpartition(" ||")
                new = base if base and tail == spelled_out(base) else current
            if new != current:
                changed.append({"id": rid, "text": new})
        if changed:
            conn.execute(text("UPDATE records SET search_text = :text WHERE id = :id"), changed)


def upgrade() -> None:
    _rewrite(spell=True)


def downgrade() -> None:
    _rewrite(spell=False)
