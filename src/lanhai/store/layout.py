"""Where a bank keeps its files under ``LANHAI_DATA_DIR``; the only module that names them.

::

    lanhai.sqlite         the catalog (SQLite; LANHAI_DATABASE_URL may point elsewhere)
    assemblies/<ACC>/     an assembly's sequences, genes and annotation (store/sequences.py);
                          with LANHAI_STORAGE_URL a cache of the object storage holding them
                          (store/remote.py)
    search/               compound fingerprints, MMseqs2 sequence indexes
    profiles/<NAME>/      installed HMM profile packs
    breeding/<NAME>/      imported breeding datasets
    models/<SHA256>.model trained screening models, named by the SHA-256 of their bytes
    chassis/<SHA256>.xml  chassis models' SBML, named by the SHA-256 of their text
    designs/<SHA256>.json strain designs' analyses, named by the SHA-256 of their bytes
    jobs/<ID>.json        background jobs (and <ID>.lock while one runs)
    uploads/<ID>/         web uploads waiting to be committed
    web-secret.key        the key signing the pages' cookies (unless LANHAI_SECRET_KEY)
    .writing/             notes of files being written outside the data folder (exports)
    .scratch/             scratch folders of searches run on a Dask cluster

Folders and files whose name starts with '.' hold unfinished writes (staging, partial
downloads); the store renames finished work into place, so a reader never sees half of
anything. A writer holds a lock on what it is writing; what an interrupted run left is found
and removed by :mod:`lanhai.store.leftovers` (`lanhai doctor`, `lanhai clean`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lanhai.store.sequences import SequenceStore


@dataclass(frozen=True)
class Layout:
    """The paths of one bank's data folder."""

    root: Path
    #: object storage holding the assemblies (``s3://bucket/prefix``); empty: ``assemblies/``
    storage_url: str = ""

    def sequence_store(self) -> SequenceStore:
        """The assemblies' store: ``assemblies/``, or the storage cached there."""
        from lanhai.store.sequences import open_store

        return open_store(self.assemblies, self.storage_url)

    @property
    def assemblies(self) -> Path:
        return self.root / "assemblies"

    @property
    def search(self) -> Path:
        return self.root / "search"

    @property
    def compound_cache(self) -> Path:
        return self.search / "compounds.parquet"

    @property
    def profiles(self) -> Path:
        return self.root / "profiles"

    @property
    def breeding(self) -> Path:
        return self.root / "breeding"

    @property
    def models(self) -> Path:
        return self.root / "models"

    @property
    def chassis(self) -> Path:
        return self.root / "chassis"

    @property
    def designs(self) -> Path:
        return self.root / "designs"

    @property
    def jobs(self) -> Path:
        return self.root / "jobs"

    @property
    def uploads(self) -> Path:
        return self.root / "uploads"

    @property
    def secret_key(self) -> Path:
        return self.root / "web-secret.key"

    @property
    def scratch(self) -> Path:
        return self.root / ".scratch"

    @property
    def writing(self) -> Path:
        return self.root / ".writing"
