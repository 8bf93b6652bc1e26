"""A long bulk write keeps the database's planner informed of the rows it wrote, so looking
records up by identifier as it goes stays an index lookup (PostgreSQL; SQLite has nothing to
refresh)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from lanhai.db.schema import records
from lanhai.kinds import kind_spec
from lanhai.kinds.fields import validate_fields
from lanhai.model import NewRecord
from lanhai.services.catalog import CatalogBatch
from tests.support import CURATOR, SAMPLE, catalog_on


def _samples(first: int, count: int) -> list[NewRecord]:
    spec = kind_spec("sample")
    out = []
    for number in range(first, first + count):
        fields, problems = validate_fields(spec, {**SAMPLE, "samp_name": f"S{number}",
                                                  "biosample": f"SAMN{70_000_000 + number}"})
        assert not problems
        out.append(NewRecord(spec, fields, spec.identifiers(fields), False))
    return out


def test_a_bulk_write_refreshes_the_statistics_as_it_grows(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(CatalogBatch, "STATISTICS_AFTER", 200)
    refreshed: list[int] = []
    from lanhai.store import records as store

    real = store.refresh_statistics
    monkeypatch.setattr(store, "refresh_statistics",
                        lambda conn: (refreshed.append(1), real(conn))[1])
    catalog = catalog_on(engine)
    with catalog.batch(CURATOR, "sample") as batch:
        for first in range(0, 1_000, 100):
            batch.insert(_samples(first, 100))
            found = batch.owners([f"SAMN{70_000_000 + first + 99}", "SAMN1"])
            assert list(found.values()) and "samn1" not in found
        assert len(refreshed) == 3  # at 200, 400 and 800 rows written
        if engine.dialect.name == "postgresql":
            # the planner counts the rows written so far in this transaction (800 at the
            # last refresh), not the tables as they were before it
            counted = dict(batch._conn.exec_driver_sql(
                "SELECT relname, reltuples FROM pg_class "
                "WHERE relname IN ('records', 'identifiers')").all())
            assert counted["records"] >= 800 and counted["identifiers"] >= 800, counted
        batch.commit()
    with engine.connect() as conn:
        assert len(conn.execute(select(records.c.id).where(records.c.kind == "sample")
                                ).all()) == 1_000
