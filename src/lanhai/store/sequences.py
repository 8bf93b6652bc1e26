"""On-disk layout of sequence data; the only module that knows it.

Under ``LANHAI_DATA_DIR/assemblies/<ACCESSION>/`` (:attr:`lanhai.store.layout.Layout.assemblies`)::

    manifest.json        what was ingested: kind, file name, SHA-256, statistics
    contigs.parquet      genome: id, description, length, sequence (input order)
    proteins.parquet     proteome: id, description, length, sequence (input order)
    genes/genes.parquet      called genes (contig, start, end, strand, partial flags, ...)
    genes/proteins.parquet   their translations, ids ``<contig>_<n>``
    genes.done.json      completion marker of gene calling, written last
    annotation/hits.parquet      domain hits against the profile packs (sorted by protein in
                                 gene order, then position)
    annotation/loci.parquet      polysaccharide utilisation loci
    annotation/gecco_domains.parquet  GECCO's Pfam domains from the same search
    annotation.done.json         completion marker of hits + loci (with the substrate summary)
    annotation/clusters.parquet  biosynthetic gene clusters (GECCO)
    clusters.done.json           completion marker of the clusters

Every table is zstd Parquet written in row groups, so neither writing nor reading holds a
whole metagenome in memory. Writes go to a staging folder (``assemblies/.staging/``) that is
renamed into place: a reader sees the old data or the new, never half of it. The marker is
renamed in last, so an interrupted run leaves no marker and the next run redoes that
assembly. The writer holds a lock on its staging folder while it writes; whoever stages next
removes the folders of runs that died (:mod:`lanhai.store.leftovers`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from lanhai.store import leftovers
from lanhai.store.remote import PARTS, UNITS, RemoteStorage, is_url, part_unit, unit_files

SEQUENCES = pa.schema([("id", pa.string()), ("description", pa.string()),
                       ("length", pa.int64()), ("sequence", pa.large_string())])
GENES = pa.schema([
    ("contig", pa.string()), ("protein_id", pa.string()), ("start", pa.int64()),
    ("end", pa.int64()), ("strand", pa.int8()), ("partial_begin", pa.bool_()),
    ("partial_end", pa.bool_()), ("start_type", pa.string()), ("rbs_motif", pa.string()),
    ("rbs_spacer", pa.string()), ("gc", pa.float64()), ("score", pa.float64()),
    ("translation_table", pa.int8()), ("sequence", pa.large_string())])
#: one row per domain hit of a protein against a profile pack (annotation/hits.parquet),
#: sorted by protein then position; ``protein_id`` is the id the protein had in its input
#: file (proteome) or the gene id ``<contig>_<n>`` (called genes)
HITS = pa.schema([
    ("protein_id", pa.string()), ("pack", pa.string()), ("category", pa.string()),
    ("family", pa.string()), ("family_accession", pa.string()), ("description", pa.string()),
    ("evalue", pa.float64()), ("score", pa.float64()), ("bias", pa.float64()),
    ("ali_from", pa.int32()), ("ali_to", pa.int32()), ("hmm_from", pa.int32()),
    ("hmm_to", pa.int32()), ("hmm_length", pa.int32()), ("coverage", pa.float64()),
    ("substrates", pa.list_(pa.string()))])
#: polysaccharide utilisation loci (annotation/loci.parquet), in gene order
LOCI = pa.schema([
    ("locus_id", pa.string()), ("type", pa.string()), ("contig", pa.string()),
    ("start", pa.int64()), ("end", pa.int64()), ("first_protein", pa.string()),
    ("last_protein", pa.string()), ("gene_count", pa.int32()),
    ("proteins", pa.list_(pa.string())), ("roles", pa.list_(pa.string())),
    ("families", pa.list_(pa.string())), ("cazyme_count", pa.int32()),
    ("sulfatase_count", pa.int32()), ("susc_susd_pairs", pa.int32()),
    ("substrate", pa.string()), ("substrate_evidence", pa.string()),
    ("substrate_confidence", pa.float64())])
#: biosynthetic gene clusters (annotation/clusters.parquet), by contig then start
CLUSTERS = pa.schema([
    ("cluster_id", pa.string()), ("contig", pa.string()), ("start", pa.int64()),
    ("end", pa.int64()), ("type", pa.string()), ("type_probabilities", pa.string()),
    ("average_probability", pa.float64()), ("max_probability", pa.float64()),
    ("proteins", pa.list_(pa.string())), ("domains", pa.list_(pa.string()))])
#: GECCO's Pfam domains (annotation/gecco_domains.parquet), taken from the family step's
#: search of GECCO's own Pfam file so that the gene-cluster step need not search again
GECCO_DOMAINS = pa.schema([
    ("protein_id", pa.string()), ("name", pa.string()), ("start", pa.int32()),
    ("end", pa.int32()), ("i_evalue", pa.float64()), ("pvalue", pa.float64())])
TABLES = ("contigs", "proteins", "genes", "hits", "loci", "clusters", "gecco_domains")
#: result tables of the annotation steps -> the marker that makes them visible
STEP_TABLES = {"hits": "annotation", "loci": "annotation", "gecco_domains": "annotation",
               "clusters": "clusters"}
#: a row group is flushed at this many residues or rows, whichever comes first
ROW_GROUP_RESIDUES = 8_000_000
ROW_GROUP_ROWS = 10_000
MARKER = "genes.done.json"
#: with object storage, an assembly's pointers are read again after this many seconds
REFRESH_SECONDS = 2.0
#: the hidden folder of a local cache recording which attempt of each unit it holds
SYNCED = ".remote"
#: the local folder of the cluster's storage probes
PROBE_FOLDER = ".cluster-probe"


class TableWriter:
    """Buffered zstd Parquet writer that flushes a row group when the buffer is full."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.path, self.schema = path, schema
        self.rows = 0
        self._writer = pq.ParquetWriter(path, schema, compression="zstd")
        self._buffer: dict[str, list[Any]] = {name: [] for name in schema.names}
        self._residues = 0
        self._pending = 0

    def add(self, row: Mapping[str, Any]) -> None:
        for name, column in self._buffer.items():
            column.append(row[name])
        self.rows += 1
        self._pending += 1
        self._residues += len(row.get("sequence") or "")
        if self._residues >= ROW_GROUP_RESIDUES or self._pending >= ROW_GROUP_ROWS:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            self._writer.write_table(pa.Table.from_pydict(self._buffer, schema=self.schema))
            for column in self._buffer.values():
                column.clear()
            self._residues = self._pending = 0

    def close(self) -> None:
        self.flush()
        self._writer.close()


class Staged:
    """A staging folder for one assembly's new files, locked while it is written; ``commit``
    renames it into place. Its name is the target's path under the store (``/`` as ``+``)
    and a random part, so what a dead run left says what it was for."""

    def __init__(self, store: SequenceStore, accession: str, target: Path) -> None:
        self.store, self.accession, self.target = store, accession, target
        staging = store.root / leftovers.STAGING
        leftovers.sweep_staging(staging)  # what earlier runs left when they died
        label = target.relative_to(store.root).as_posix().replace("/", "+")
        self.folder = staging / f"{label}-{uuid.uuid4().hex}"
        self._hold = leftovers.hold_folder(self.folder)
        self.writers: dict[str, TableWriter] = {}

    def table(self, name: str, schema: pa.Schema) -> TableWriter:
        """A writer for ``<name>.parquet`` in the staging folder."""
        writer = self.writers[name] = TableWriter(self.folder / f"{name}.parquet", schema)
        return writer

    def write_json(self, name: str, data: Mapping[str, Any]) -> None:
        (self.folder / name).write_text(json.dumps(data, indent=1), "utf-8")

    def commit(self, *, publish: bool = True) -> None:
        """Close the tables and swap the staging folder in for ``target`` (atomic rename);
        with object storage, an ingest or a contig batch is then published there
        (``publish=False``: the files came from there)."""
        for writer in self.writers.values():
            writer.close()
        self.writers.clear()
        self.target.parent.mkdir(parents=True, exist_ok=True)
        old = None
        if self.target.exists():
            old = self.folder.with_name(self.folder.name + ".old")
            self.target.rename(old)
        self.folder.rename(self.target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        self._hold.release()
        if publish and self.store.remote is not None:
            self.store.published(self.accession, self.target)

    def commit_into(self, folder: Path) -> None:
        """Close the tables and move each file into ``folder`` (one atomic rename per file;
        the caller removed the step's marker first and writes it after this)."""
        for writer in self.writers.values():
            writer.close()
        self.writers.clear()
        folder.mkdir(parents=True, exist_ok=True)
        for path in sorted(self.folder.iterdir()):
            os.replace(path, folder / path.name)
        shutil.rmtree(self.folder, ignore_errors=True)
        self._hold.release()

    def abort(self) -> None:
        for writer in self.writers.values():
            with contextlib.suppress(Exception):  # the folder is removed anyway
                writer.close()
        shutil.rmtree(self.folder, ignore_errors=True)
        self._hold.release()

    def __enter__(self) -> Staged:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self.folder.exists():
            self.abort()
        self._hold.release()


class SequenceStore:
    """Sequence tables of the assemblies under one data folder; with ``remote`` (object
    storage, :mod:`lanhai.store.remote`) the folder is a cache of what the storage holds:
    reads fetch what changed there, and each step's commit is published there."""

    def __init__(self, root: Path, remote: RemoteStorage | None = None) -> None:
        self.root = Path(root)
        self.remote = remote
        self._checked: dict[str, float] = {}

    @property
    def address(self) -> str:
        """How a worker task names this store (:meth:`at`): the folder, or the storage URL
        with this machine's cache folder."""
        if self.remote is None:
            return str(self.root)
        return json.dumps({"url": self.remote.url, "cache": str(self.root)})

    @classmethod
    def at(cls, address: str) -> SequenceStore:
        """The store an :attr:`address` names. A worker caches what it reads from object
        storage in the client's cache folder when it can write there and ``LANHAI_CACHE_DIR``
        is not set, else under ``LANHAI_CACHE_DIR`` (default ``~/.cache/lanhai``)."""
        if not address.startswith("{"):
            return cls(Path(address))
        named = json.loads(address)
        cache = Path(named["cache"])
        if os.environ.get("LANHAI_CACHE_DIR") or not _writable(cache):
            cache = default_cache(named["url"])
        return cls(cache, RemoteStorage(named["url"]))

    def folder(self, accession: str) -> Path:
        return self.root / accession

    def profiles_folder(self) -> Path:
        """The bank's profile-pack folder (installed packs and the pressed cache)."""
        from lanhai.store.layout import Layout

        return Layout(self.root.parent).profiles

    def accessions(self) -> list[str]:
        """Every assembly with a folder (finished or not), in name order."""
        if self.remote is not None:
            return self.remote.accessions()
        try:
            entries = list(os.scandir(self.root))
        except FileNotFoundError:
            return []
        # names starting with '.' hold unfinished writes (staging)
        return sorted(e.name for e in entries if not e.name.startswith(".") and e.is_dir())

    def with_sequences(self) -> set[str]:
        """Assemblies whose contigs or proteins were ingested (a manifest is in their folder)."""
        if self.remote is not None:
            return set(self.remote.with_unit("sequences"))
        return {acc for acc in self.accessions()
                if os.path.exists(os.path.join(self.root, acc, "manifest.json"))}

    def annotated(self) -> dict[str, Path]:
        """Assembly accession -> its hits table, for finished annotations only (the marker is
        there and belongs to the stored sequences)."""
        found: dict[str, Path] = {}
        annotated = set(self.remote.with_unit("annotation")) if self.remote else None
        for accession in self.accessions():
            if annotated is not None:
                if accession not in annotated:
                    continue
            elif not os.path.exists(os.path.join(self.root, accession,
                                                 "annotation.done.json")):
                continue
            path = self.table_path(accession, "hits")
            if path is not None:
                found[accession] = path
        return found

    def count_rows(self, accession: str, table: str) -> int | None:
        """Rows of a table (from the Parquet footer), or None when it does not exist."""
        path = self.table_path(accession, table)
        return None if path is None else int(pq.ParquetFile(path).metadata.num_rows)

    # -- ingested sequences -----------------------------------------------------------------
    def manifest(self, accession: str) -> dict[str, Any] | None:
        """What was ingested into ``accession``, or None."""
        self.refresh(accession)
        return _read_json(self.folder(accession) / "manifest.json")

    def stage_ingest(self, accession: str) -> Staged:
        """Staging for a new ingest; committing replaces all sequence data of the assembly
        (including earlier annotation results, which belonged to the old sequences)."""
        return Staged(self, accession, self.folder(accession))

    def input_table(self, accession: str) -> str:
        manifest = self.manifest(accession) or {}
        return "proteins" if manifest.get("kind") == "proteome" else "contigs"

    def iter_sequences(self, accession: str, table: str = "contigs",
                       batch_size: int = 1000, start: int = 0,
                       stop: int | None = None) -> Iterator[tuple[str, str]]:
        """(id, sequence) of the ingested contigs or proteins (rows ``start`` to ``stop``),
        one row group at a time; row groups wholly outside the range are not read."""
        self.refresh(accession)
        path = self.folder(accession) / f"{table}.parquet"
        parquet = pq.ParquetFile(path)
        groups, row, first = [], 0, None
        for index in range(parquet.num_row_groups):
            rows = parquet.metadata.row_group(index).num_rows
            if row + rows > start and (stop is None or row < stop):
                groups.append(index)
                first = row if first is None else first
            row += rows
        row = first or 0
        for batch in parquet.iter_batches(batch_size, row_groups=groups,
                                          columns=["id", "sequence"]):
            for ident, sequence in zip(batch.column(0).to_pylist(),
                                       batch.column(1).to_pylist(), strict=True):
                if row >= start and (stop is None or row < stop):
                    yield ident, sequence
                row += 1

    def contig_lengths(self, accession: str) -> list[tuple[str, int]]:
        self.refresh(accession)
        path = self.folder(accession) / "contigs.parquet"
        table = pq.read_table(path, columns=["id", "length"])
        return list(zip(table.column(0).to_pylist(), table.column(1).to_pylist(), strict=True))

    # -- gene calls --------------------------------------------------------------------------
    def stage_genes(self, accession: str) -> Staged:
        """Staging for gene-calling results; commit, then :meth:`mark_genes_done`."""
        (self.folder(accession) / MARKER).unlink(missing_ok=True)
        self._forget(accession, "genes")
        return Staged(self, accession, self.folder(accession) / "genes")

    def mark_genes_done(self, accession: str, marker: Mapping[str, Any]) -> None:
        """Write the completion marker last, by atomic rename."""
        self._mark(self.folder(accession) / MARKER, marker)

    def _mark(self, path: Path, marker: Mapping[str, Any]) -> None:
        """Write a marker atomically (its partial file in the staging folder)."""
        staging = self.root / leftovers.STAGING
        staging.mkdir(parents=True, exist_ok=True)
        leftovers.replace_file(path, json.dumps(marker, indent=1, sort_keys=True).encode(),
                               folder=staging)
        if self.remote is not None:
            self.published(path.parent.name, path)

    def genes_done(self, accession: str) -> dict[str, Any] | None:
        """The completion marker of gene calling, or None when it has not finished."""
        self.refresh(accession)
        return _read_json(self.folder(accession) / MARKER)

    # -- gene calls of a large assembly in contig batches -------------------------------------
    def stage_gene_part(self, accession: str, part: int) -> Staged:
        """Staging for one contig batch's genes and proteins; write ``part.json`` into it and
        commit: the part is there whole, with its marker, or not at all."""
        return Staged(self, accession, self._parts(accession) / f"part-{part:05d}")

    def gene_part(self, accession: str, part: int) -> dict[str, Any] | None:
        """A finished contig batch's marker (``part.json``), or None."""
        if self.remote is not None:
            self._pull_part(accession, part)
        return _read_json(self._parts(accession) / f"part-{part:05d}" / "part.json")

    def iter_gene_part(self, accession: str, part: int, table: str,
                       batch_size: int = 5000) -> Iterator[dict[str, Any]]:
        """Rows of a finished batch's ``genes`` or ``proteins`` table, in order."""
        path = self._parts(accession) / f"part-{part:05d}" / f"{table}.parquet"
        for batch in pq.ParquetFile(path).iter_batches(batch_size):
            yield from batch.to_pylist()

    def remove_gene_parts(self, accession: str) -> None:
        """Drop the batches once their genes are joined (and marked done)."""
        if self.remote is not None:
            for unit in self.remote.part_units(accession):
                self.remote.drop(accession, unit)
                self._forget(accession, unit)
        shutil.rmtree(self._parts(accession), ignore_errors=True)

    def _parts(self, accession: str) -> Path:
        return self.folder(accession) / "genes-parts"

    # -- annotation steps (hits + loci, clusters) --------------------------------------------
    def stage_step(self, accession: str, step: str) -> Staged:
        """Staging for an annotation step ("annotation" or "clusters"): removes the step's
        marker; commit with ``staged.commit_into(store.annotation_folder(acc))``, then
        :meth:`mark_step_done`."""
        (self.folder(accession) / f"{step}.done.json").unlink(missing_ok=True)
        self._forget(accession, step)
        return Staged(self, accession, self.annotation_folder(accession))

    def annotation_folder(self, accession: str) -> Path:
        return self.folder(accession) / "annotation"

    def mark_step_done(self, accession: str, step: str, marker: Mapping[str, Any]) -> None:
        """Write a step's completion marker last, by atomic rename."""
        self._mark(self.folder(accession) / f"{step}.done.json", marker)

    def step_done(self, accession: str, step: str) -> dict[str, Any] | None:
        """A step's completion marker if it matches the stored sequences, else None."""
        self.refresh(accession)
        marker = _read_json(self.folder(accession) / f"{step}.done.json")
        manifest = self.manifest(accession)
        if marker is None or manifest is None or marker.get("input_sha256") != manifest.get(
                "sha256"):
            return None
        return marker

    # -- reading results -------------------------------------------------------------------
    def table_path(self, accession: str, table: str) -> Path | None:
        """Where ``table`` (contigs, proteins, genes, hits, loci, clusters) of ``accession``
        is, if it exists and the step that writes it has finished."""
        self.refresh(accession)
        folder = self.folder(accession)
        if table in STEP_TABLES:
            if self.step_done(accession, STEP_TABLES[table]) is None:
                return None
            path = self.annotation_folder(accession) / f"{table}.parquet"
        elif table == "proteins" and self.input_table(accession) == "proteins":
            path = folder / "proteins.parquet"
        elif table in ("genes", "proteins"):
            if self.genes_done(accession) is None:
                return None
            path = folder / "genes" / f"{table}.parquet"
        else:
            path = folder / f"{table}.parquet"
        return path if path.exists() else None

    def iter_rows(self, accession: str, table: str, columns: list[str] | None = None,
                  batch_size: int = 5000) -> Iterator[dict[str, Any]]:
        """Rows of a table as dicts, streamed by batches (nothing when it does not exist)."""
        path = self.table_path(accession, table)
        if path is None:
            return
        for batch in pq.ParquetFile(path).iter_batches(batch_size, columns=columns):
            yield from batch.to_pylist()

    # -- object storage (lanhai.store.remote) -----------------------------------------------
    def refresh(self, accession: str) -> None:
        """With object storage: bring the cached assembly up to what the storage holds
        (at most every :data:`REFRESH_SECONDS` per assembly in this process)."""
        if self.remote is None:
            return
        now = time.monotonic()
        if now - self._checked.get(accession, -REFRESH_SECONDS) < REFRESH_SECONDS:
            return
        for attempt in range(3):  # a writer may replace a unit while its files are fetched
            try:
                self._pull(accession)
                break
            except FileNotFoundError:
                if attempt == 2:
                    raise
        self._checked[accession] = time.monotonic()

    def _pull(self, accession: str) -> None:
        assert self.remote is not None
        synced_path = self._synced_path(accession)
        synced_path.parent.mkdir(parents=True, exist_ok=True)
        lock = synced_path.with_suffix(".lock")
        with leftovers.hold_file(lock):
            synced = _read_json(synced_path) or {}
            pointers = self.remote.pointers(accession, UNITS)
            sequences = pointers.get("sequences")
            if sequences is None:
                if synced or self.folder(accession).exists():
                    shutil.rmtree(self.folder(accession), ignore_errors=True)
                synced_path.unlink(missing_ok=True)
                return
            if synced.get("sequences") != sequences["attempt"]:
                with Staged(self, accession, self.folder(accession)) as staged:
                    self.remote.download(accession, sequences, staged.folder)
                    staged.commit(publish=False)
                synced = {"sequences": sequences["attempt"]}
            for unit in UNITS:
                if unit == "sequences":
                    continue
                pointer = pointers.get(unit)
                if pointer is None:
                    if unit in synced:
                        self._uninstall(accession, unit)
                        del synced[unit]
                elif synced.get(unit) != pointer["attempt"]:
                    self._install(accession, unit, pointer)
                    synced[unit] = pointer["attempt"]
            _write_json(synced_path, synced, self.root / leftovers.STAGING)

    def _pull_part(self, accession: str, part: int) -> None:
        assert self.remote is not None
        unit = part_unit(part)
        pointer = self.remote.pointers(accession, [unit]).get(unit)
        synced = _read_json(self._synced_path(accession)) or {}
        if pointer is None:
            if unit in synced:
                shutil.rmtree(self._parts(accession) / f"part-{part:05d}", ignore_errors=True)
                self._forget(accession, unit)
        elif synced.get(unit) != pointer["attempt"]:
            with Staged(self, accession, self._parts(accession) / f"part-{part:05d}") as staged:
                self.remote.download(accession, pointer, staged.folder)
                for name in list(pointer["files"]):  # the part's files sit at its root
                    os.replace(staged.folder / name, staged.folder / Path(name).name)
                shutil.rmtree(staged.folder / "genes-parts", ignore_errors=True)
                staged.commit(publish=False)
            self._remember(accession, unit, pointer["attempt"])

    def _install(self, accession: str, unit: str, pointer: Mapping[str, Any]) -> None:
        """Put a unit fetched from the storage in place: its marker last."""
        folder = self.folder(accession)
        files = unit_files(unit)
        marker = files[-1]
        (folder / marker).unlink(missing_ok=True)
        with Staged(self, accession, folder / unit) as staged:
            assert self.remote is not None
            self.remote.download(accession, pointer, staged.folder)
            for name in files[:-1]:
                if name in pointer["files"]:
                    (folder / name).parent.mkdir(parents=True, exist_ok=True)
                    os.replace(staged.folder / name, folder / name)
                else:
                    (folder / name).unlink(missing_ok=True)
            if marker in pointer["files"]:
                os.replace(staged.folder / marker, folder / marker)

    def _uninstall(self, accession: str, unit: str) -> None:
        for name in reversed(unit_files(unit)):  # the marker first
            (self.folder(accession) / name).unlink(missing_ok=True)

    def published(self, accession: str, written: Path) -> None:
        """Publish what a commit or a marker just made visible here (``written``: the
        assembly's folder, a contig batch's folder, or a step's marker) to the storage. When
        the storage refuses, the local copy is withdrawn too and the error is raised."""
        assert self.remote is not None
        folder = self.folder(accession)
        if written == folder:
            unit = "sequences"
        elif written.parent == self._parts(accession):
            unit = part_unit(int(written.name.removeprefix("part-")))
        else:
            markers = [u for u, files in UNITS.items() if folder / files[-1] == written]
            if not markers:  # a step's files: published with its marker
                return
            unit = markers[0]
        try:
            if unit == "sequences":  # a new ingest: what belonged to the old one goes first
                for other in [*UNITS, *self.remote.part_units(accession)]:
                    if other != "sequences":
                        self.remote.drop(accession, other)
            pointer = self.remote.publish(accession, unit, folder)
        except Exception:
            if unit == "sequences":
                shutil.rmtree(folder, ignore_errors=True)
                self._synced_path(accession).unlink(missing_ok=True)
            elif unit.startswith(PARTS + "/"):
                shutil.rmtree(written, ignore_errors=True)
                self._forget(accession, unit)
            else:
                written.unlink(missing_ok=True)
                self._forget(accession, unit)
            raise
        if unit == "sequences":
            path = self._synced_path(accession)
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_json(path, {"sequences": pointer["attempt"]},
                        self.root / leftovers.STAGING)
        else:
            self._remember(accession, unit, pointer["attempt"])
        self._checked[accession] = time.monotonic()

    def _synced_path(self, accession: str) -> Path:
        return self.root / SYNCED / f"{accession}.json"

    def _remember(self, accession: str, unit: str, attempt: str) -> None:
        path = self._synced_path(accession)
        path.parent.mkdir(parents=True, exist_ok=True)
        with leftovers.hold_file(path.with_suffix(".lock")):
            synced = _read_json(path) or {}
            synced[unit] = attempt
            _write_json(path, synced, self.root / leftovers.STAGING)

    def _forget(self, accession: str, unit: str) -> None:
        """This cache no longer holds ``unit`` as the storage has it (its marker is gone)."""
        if self.remote is None:
            return
        path = self._synced_path(accession)
        if not path.exists():
            return
        with leftovers.hold_file(path.with_suffix(".lock")):
            synced = _read_json(path) or {}
            if synced.pop(unit, None) is not None:
                _write_json(path, synced, self.root / leftovers.STAGING)
        self._checked.pop(accession, None)

    # -- the cluster's storage probe ----------------------------------------------------------
    def write_probe(self, token: str) -> str:
        """Leave a file holding ``token`` where every worker must read it; its name."""
        if self.remote is not None:
            return self.remote.write_probe(f"{token}.txt", token)
        folder = self.root / PROBE_FOLDER
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f"{token}.txt"
        probe.write_text(token, encoding="utf-8")
        return str(probe)

    def read_probe(self, name: str) -> str:
        if self.remote is not None:
            return self.remote.read_probe(name)
        return Path(name).read_text(encoding="utf-8")

    def remove_probe(self, name: str) -> None:
        if self.remote is not None:
            self.remote.remove_probe(name)
        else:
            Path(name).unlink(missing_ok=True)


def _writable(folder: Path) -> bool:
    """Whether ``folder`` exists (or can be made) and this process may write there."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(folder, os.W_OK)


def default_cache(url: str) -> Path:
    """Where a machine caches the assemblies of the storage ``url``."""
    base = Path(os.environ.get("LANHAI_CACHE_DIR") or Path.home() / ".cache" / "lanhai")
    return base / hashlib.sha256(url.encode()).hexdigest()[:16] / "assemblies"


def open_store(root: Path, storage_url: str = "") -> SequenceStore:
    """The sequence store of a bank: its ``assemblies/`` folder, or with ``storage_url``
    (``s3://bucket/prefix``) the storage, cached in that folder."""
    if not storage_url:
        return SequenceStore(root)
    if not is_url(storage_url):
        raise ValueError(f"LANHAI_STORAGE_URL must be a URL such as s3://bucket/prefix, "
                         f"not {storage_url!r}; leave it unset to keep the files under "
                         "LANHAI_DATA_DIR")
    return SequenceStore(root, RemoteStorage(storage_url))


def _write_json(path: Path, data: Mapping[str, Any], staging: Path) -> None:
    staging.mkdir(parents=True, exist_ok=True)
    leftovers.replace_file(path, json.dumps(data, sort_keys=True).encode(), folder=staging)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        loaded = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return None
    return loaded if isinstance(loaded, dict) else None
