"""Opening a bank: settings -> database and data folder -> every service over them.

One :class:`Bank` carries every service and cache of an open bank; adapters (CLI, API, pages)
reach the bank only through these services. Nothing here runs at import time.
"""

from __future__ import annotations

from dataclasses import dataclass

from lanhai.errors import UsageError
from lanhai.exports.common import ExportOptions
from lanhai.services.breeding import BreedingService
from lanhai.services.catalog import CatalogService
from lanhai.services.compounds import CompoundService
from lanhai.services.dashboard import DashboardService
from lanhai.services.exports import ExportService
from lanhai.services.families import FamilySearchService
from lanhai.services.imports import ImportService
from lanhai.services.jobs import JobRunner
from lanhai.services.parts_mining import PartMiner
from lanhai.services.profiles import ProfileService
from lanhai.services.search import SearchService
from lanhai.services.sequence_search import SequenceSearch
from lanhai.services.sequences import SequenceService
from lanhai.services.uploads import UploadService
from lanhai.services.users import UserService
from lanhai.settings import Settings
from lanhai.store.breeding import DatasetStore
from lanhai.store.database import Database
from lanhai.store.layout import Layout
from lanhai.store.sequences import SequenceStore
from lanhai.store.uploads import UploadStore


@dataclass
class Bank:
    """One open bank: its settings and the services over its catalog and data folder."""

    settings: Settings
    catalog: CatalogService
    users: UserService
    search: SearchService
    families: FamilySearchService
    compounds: CompoundService
    sequences: SequenceService
    sequence_search: SequenceSearch
    parts: PartMiner
    imports: ImportService
    exports: ExportService
    breeding: BreedingService
    jobs: JobRunner
    dashboard: DashboardService
    profiles: ProfileService
    uploads: UploadService
    #: the catalog database (for the services, and for tests that set a bank up)
    db: Database

    @classmethod
    def over(cls, settings: Settings, db: Database) -> Bank:
        """Every service over ``db`` and the data folder of ``settings``."""
        layout = Layout(settings.data_dir)
        stored = SequenceStore(layout.assemblies)
        catalog = CatalogService(db)
        profiles = ProfileService(layout.profiles)
        uploads = UploadStore(layout.uploads)
        sequences = SequenceService(catalog, stored, profiles)
        return cls(
            settings=settings, db=db, catalog=catalog,
            users=UserService(db, layout.secret_key, settings.secret_key),
            search=SearchService(db, stored),
            families=FamilySearchService(db, stored),
            compounds=CompoundService(db, layout.compound_cache),
            sequences=sequences,
            sequence_search=SequenceSearch(catalog, layout, binary=settings.mmseqs),
            parts=PartMiner(catalog, sequences),
            imports=ImportService(catalog, uploads),
            exports=ExportService(catalog, ExportOptions(sbol_namespace=settings.sbol_namespace)),
            breeding=BreedingService(DatasetStore(layout.breeding), catalog),
            jobs=JobRunner(layout.jobs),
            dashboard=DashboardService(db, settings.targets_file),
            profiles=profiles, uploads=UploadService(uploads))

    def warm(self) -> None:
        """Load what a long-running server keeps in memory (catalogue search's columns, the
        dashboard's and facets' counts) now rather than at the first visit."""
        self.search.warm()
        self.dashboard.warm()

    def close(self) -> None:
        self.jobs.shutdown()
        self.db.dispose()


def init_bank(settings: Settings) -> Bank:
    """Create (or upgrade) the bank's database and data folder; safe to run again."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.database_url)
    db.migrate()
    return Bank.over(settings, db)


def open_bank(settings: Settings) -> Bank:
    """Open an initialised bank; tells the user to run `lanhai init` otherwise."""
    db = Database(settings.database_url)
    revision = db.revision()
    if revision is None:
        db.dispose()
        raise UsageError(f"no Lanhai bank at {db.safe_url}; run `lanhai init` first "
                         "(or set LANHAI_DATA_DIR / LANHAI_DATABASE_URL)")
    if revision != db.head_revision():
        db.dispose()
        raise UsageError(
            f"the bank at {db.safe_url} has schema revision {revision}; this "
            f"version of Lanhai needs {db.head_revision()}. Run `lanhai init` to upgrade it "
            "(records are kept; back the database up first if it matters)")
    return Bank.over(settings, db)


__all__ = ["Bank", "init_bank", "open_bank"]
