"""Alembic environment: runs on the connection handed in by lanhai.db.engine.migrate."""

from __future__ import annotations

from alembic import context

from lanhai.db.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only via `alembic` CLI
    raise SystemExit("run migrations with `lanhai init` (lanhai.db.engine.migrate)")
context.configure(connection=connection, target_metadata=metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
