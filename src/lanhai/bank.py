"""Opening a bank: settings -> engine -> services. Nothing here runs at import time."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from lanhai.db.engine import current_revision, head_revision, make_engine, migrate
from lanhai.errors import UsageError
from lanhai.services.catalog import CatalogService
from lanhai.settings import Settings


@dataclass
class Bank:
    """One bank: its settings, catalog engine and the services over it."""

    settings: Settings
    engine: Engine
    catalog: CatalogService

    def close(self) -> None:
        self.engine.dispose()


def init_bank(settings: Settings) -> Bank:
    """Create (or upgrade) the bank's database and data folder; safe to run again."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url)
    migrate(engine)
    return Bank(settings, engine, CatalogService(engine))


def open_bank(settings: Settings) -> Bank:
    """Open an initialised bank; tells the user to run `lanhai init` otherwise."""
    engine = make_engine(settings.database_url)
    revision = current_revision(engine)
    if revision is None:
        engine.dispose()
        raise UsageError(f"no Lanhai bank at {settings.database_url}; run `lanhai init` first "
                         "(or set LANHAI_DATA_DIR / LANHAI_DATABASE_URL)")
    if revision != head_revision():
        engine.dispose()
        raise UsageError(
            f"the bank at {settings.database_url} has schema revision {revision}; this "
            f"version of Lanhai needs {head_revision()}. Run `lanhai init` to upgrade it "
            "(records are kept; back the database up first if it matters)")
    return Bank(settings, engine, CatalogService(engine))
