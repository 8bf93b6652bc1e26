"""Opening a bank: settings -> database and data folder -> every service over them.

One :class:`Bank` carries every service and cache of an open bank; adapters (CLI, API, pages)
reach the bank only through these services. Nothing here runs at import time.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from lanhai.errors import UsageError
from lanhai.services.catalog import CatalogService
from lanhai.settings import Settings
from lanhai.store.database import Database
from lanhai.store.layout import Layout

if TYPE_CHECKING:
    from lanhai.services.breeding import BreedingService
    from lanhai.services.compounds import CompoundService
    from lanhai.services.dashboard import DashboardService
    from lanhai.services.deals import DealService
    from lanhai.services.design import DesignService
    from lanhai.services.exports import ExportService
    from lanhai.services.families import FamilySearchService
    from lanhai.services.financing import FinancingService
    from lanhai.services.genomes import GenomeService
    from lanhai.services.imports import ImportService
    from lanhai.services.jobs import JobRunner
    from lanhai.services.maintenance import MaintenanceService
    from lanhai.services.market import MarketService
    from lanhai.services.notifications import NotificationService
    from lanhai.services.parts_mining import PartMiner
    from lanhai.services.profiles import ProfileService
    from lanhai.services.programme import ProgrammeService
    from lanhai.services.proteins import ProteinService
    from lanhai.services.releases import ReleaseService
    from lanhai.services.screening import ScreeningService
    from lanhai.services.search import SearchService
    from lanhai.services.sequence_search import SequenceSearch
    from lanhai.services.sequences import SequenceService
    from lanhai.services.uploads import UploadService
    from lanhai.services.users import UserService
    from lanhai.store.sequences import SequenceStore


class Bank:
    """One open bank: its settings and the services over its catalog and data folder.

    Each service is made (and its module imported) the first time it is used, so a command
    that imports one kind of record does not load the breeding or sequence engines.
    """

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        #: the catalog database (for the services, and for tests that set a bank up)
        self.db = db
        self.layout = Layout(settings.data_dir, settings.storage_url)
        self.catalog = CatalogService(db)

    @classmethod
    def over(cls, settings: Settings, db: Database) -> Bank:
        """Every service over ``db`` and the data folder of ``settings``."""
        return cls(settings, db)

    @functools.cached_property
    def users(self) -> UserService:
        from lanhai.services.users import UserService

        return UserService(self.db, self.layout.secret_key, self.settings.secret_key)

    @functools.cached_property
    def _stored(self) -> SequenceStore:

        return self.layout.sequence_store()

    @functools.cached_property
    def search(self) -> SearchService:
        from lanhai.services.search import SearchService

        return SearchService(self.db, self._stored)

    @functools.cached_property
    def families(self) -> FamilySearchService:
        from lanhai.services.families import FamilySearchService

        return FamilySearchService(self.db, self._stored, limits=self.settings.limits)

    @functools.cached_property
    def compounds(self) -> CompoundService:
        from lanhai.services.compounds import CompoundService

        return CompoundService(self.db, self.layout.compound_cache)

    @functools.cached_property
    def profiles(self) -> ProfileService:
        from lanhai.services.profiles import ProfileService

        return ProfileService(self.layout.profiles)

    @functools.cached_property
    def sequences(self) -> SequenceService:
        from lanhai.services.sequences import SequenceService

        service = SequenceService(self.catalog, self._stored, self.profiles,
                                  limits=self.settings.limits,
                                  scheduler=self.settings.dask_scheduler)
        service.files = self.maintenance.files  # result tables written with -o
        return service

    @functools.cached_property
    def sequence_search(self) -> SequenceSearch:
        from lanhai.services.sequence_search import SequenceSearch

        return SequenceSearch(self.catalog, self.layout, binary=self.settings.mmseqs,
                              scheduler=self.settings.dask_scheduler,
                              limits=self.settings.limits)

    @functools.cached_property
    def proteins(self) -> ProteinService:
        from lanhai.services.proteins import ProteinService

        return ProteinService(self.catalog, self._stored)

    @functools.cached_property
    def parts(self) -> PartMiner:
        from lanhai.services.parts_mining import PartMiner

        return PartMiner(self.catalog, self.sequences)

    @functools.cached_property
    def uploads(self) -> UploadService:
        from lanhai.services.uploads import UploadService
        from lanhai.store.uploads import UploadStore

        return UploadService(UploadStore(self.layout.uploads))

    @functools.cached_property
    def imports(self) -> ImportService:
        from lanhai.services.imports import ImportService

        return ImportService(self.catalog, self.uploads.store, limits=self.settings.limits)

    @functools.cached_property
    def exports(self) -> ExportService:
        from lanhai.exports.common import ExportOptions
        from lanhai.services.exports import ExportService

        return ExportService(self.catalog,
                             ExportOptions(sbol_namespace=self.settings.sbol_namespace),
                             files=self.maintenance.files)

    @functools.cached_property
    def breeding(self) -> BreedingService:
        from lanhai.services.breeding import BreedingService
        from lanhai.store.breeding import DatasetStore

        return BreedingService(DatasetStore(self.layout.breeding), self.catalog,
                               limits=self.settings.limits)

    @functools.cached_property
    def jobs(self) -> JobRunner:
        from lanhai.services.jobs import JobRunner

        if self.db.dialect == "postgresql":  # every server of the bank sees every job
            from lanhai.store.jobs import DatabaseJobStore

            return JobRunner(store=DatabaseJobStore(self.db.engine))
        return JobRunner(self.layout.jobs)

    @functools.cached_property
    def dashboard(self) -> DashboardService:
        from lanhai.services.dashboard import DashboardService

        return DashboardService(self.db, self.settings.targets_file)

    @functools.cached_property
    def deals(self) -> DealService:
        from lanhai.services.deals import DealService

        return DealService(self.db, self.settings.incentives_file or None)

    @functools.cached_property
    def programme(self) -> ProgrammeService:
        from lanhai.services.programme import ProgrammeService

        return ProgrammeService(self.db, self.settings.indicators_file,
                                self.layout.root / "evidence")

    @functools.cached_property
    def genomes(self) -> GenomeService:
        from lanhai.services.genomes import GenomeService

        return GenomeService(self.db, self.imports, self.layout.scratch)

    @functools.cached_property
    def screening(self) -> ScreeningService:
        from lanhai.services.screening import ScreeningService

        return ScreeningService(self.db, self.compounds, self.layout.models)

    @functools.cached_property
    def design(self) -> DesignService:
        from lanhai.services.design import DesignService

        return DesignService(self.catalog, self.layout.chassis, self.layout.designs)

    @functools.cached_property
    def financing(self) -> FinancingService:
        from lanhai.services.financing import FinancingService

        return FinancingService(self.db)

    @functools.cached_property
    def releases(self) -> ReleaseService:
        from lanhai.services.releases import ReleaseService

        return ReleaseService(self.db, self.catalog)

    @functools.cached_property
    def notifications(self) -> NotificationService:
        from lanhai.services.notifications import NotificationService

        return NotificationService(self.db, self.market, self.settings)

    @functools.cached_property
    def market(self) -> MarketService:
        from lanhai.services.market import MarketService

        return MarketService(self.db, self.catalog)

    @functools.cached_property
    def maintenance(self) -> MaintenanceService:
        from lanhai.services.maintenance import MaintenanceService

        return MaintenanceService(self.settings, self.db)

    def warm(self) -> None:
        """Load what a long-running server keeps in memory (catalogue search's columns, the
        dashboard's and facets' counts, the market's readings of its entries) now rather
        than at the first visit."""
        self.search.warm()
        self.dashboard.warm()
        self.market.warm()

    def close(self) -> None:
        if "jobs" in self.__dict__:
            self.jobs.shutdown()
        if "notifications" in self.__dict__:
            self.notifications.stop()
        self.db.dispose()


def init_bank(settings: Settings) -> Bank:
    """Create (or upgrade) the bank's database and data folder; safe to run again."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.database_url, pool=settings.database_pool)
    db.migrate()
    return Bank.over(settings, db)


def open_bank(settings: Settings) -> Bank:
    """Open an initialised bank; tells the user to run `lanhai init` otherwise."""
    db = Database(settings.database_url, pool=settings.database_pool)
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
