"""Assemblies kept in object storage (``LANHAI_STORAGE_URL=s3://bucket/prefix``).

The sequence store (:mod:`lanhai.store.sequences`) writes and reads local files; with a
storage URL those files are a cache of what the storage holds, and the storage is the
record. Object storage cannot rename, so a write is committed by a small pointer written
last. Under the URL::

    assemblies/<ACC>/<UNIT>.json              the pointer: which attempt holds the unit's files,
                                              with each file's size and SHA-256
    assemblies/<ACC>/parts/part-NNNNN.json    the pointer of one contig batch of a metagenome
    objects/<ACC>/<ATTEMPT>/<PATH>            the files of one attempt, never changed

A unit is what one step makes visible at once (:data:`UNITS`): the ingested sequences, the
called genes, the family hits with the loci, the gene clusters, a batch of genes. A writer
uploads the files under a fresh attempt, then writes the pointer (one PUT, which object
storage makes visible whole), then deletes the attempt the pointer named before. A reader
reads the pointer, then the files it names. A writer stopped before its pointer leaves an
attempt nobody reads; the next run starts again. Credentials and the endpoint come from the
usual variables of the storage's client (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
``AWS_ENDPOINT_URL`` …); the bank never stores them.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from lanhai.errors import LanhaiError
from lanhai.store.content import file_sha256

#: unit -> the files it holds, relative to the assembly's folder
UNITS: dict[str, tuple[str, ...]] = {
    "sequences": ("manifest.json", "contigs.parquet", "proteins.parquet"),
    "genes": ("genes/genes.parquet", "genes/proteins.parquet", "genes.done.json"),
    "annotation": ("annotation/hits.parquet", "annotation/loci.parquet",
                   "annotation/gecco_domains.parquet", "annotation.done.json"),
    "clusters": ("annotation/clusters.parquet", "clusters.done.json"),
}
#: files of one contig batch, relative to its folder ``genes-parts/part-NNNNN/``
PART_FILES = ("genes.parquet", "proteins.parquet", "part.json")
PARTS = "parts"


class StorageUnavailable(LanhaiError):
    """The object storage refused a read or a write (unreachable, access denied, throttled);
    nothing half-written became visible, and the same command may be run again."""

    code = "storage_unavailable"
    http_status = 503


def is_url(location: str | os.PathLike[str]) -> bool:
    """Whether ``location`` names object storage (``s3://…``) rather than a local folder."""
    return "://" in str(location) and not str(location).startswith("file://")


def part_unit(part: int) -> str:
    return f"{PARTS}/part-{part:05d}"


def unit_files(unit: str) -> tuple[str, ...]:
    """The files of ``unit`` relative to the assembly's folder."""
    if unit.startswith(PARTS + "/"):
        folder = "genes-parts/" + unit.split("/", 1)[1]
        return tuple(f"{folder}/{name}" for name in PART_FILES)
    return UNITS[unit]


class RemoteStorage:
    """The assemblies' pointers and attempt files under one storage URL (any fsspec file
    system; ``s3://`` through s3fs)."""

    def __init__(self, url: str) -> None:
        import fsspec

        self.url = url.rstrip("/")
        try:
            # listings are read fresh, as other machines write the same storage; a new
            # client each time, so that it reads the endpoint and credentials now set
            self.fs, root = fsspec.core.url_to_fs(self.url, use_listings_cache=False,
                                                  skip_instance_cache=True)
        except (ImportError, ValueError) as err:
            raise StorageUnavailable(
                f"cannot use the storage {self.url}: {err}; for s3:// install s3fs "
                "(pip install \"lanhai[cluster]\")") from None
        self.root = root.rstrip("/")

    # -- keys -------------------------------------------------------------------------------
    def pointer_key(self, accession: str, unit: str) -> str:
        return f"{self.root}/assemblies/{accession}/{unit}.json"

    def attempt_key(self, accession: str, attempt: str) -> str:
        return f"{self.root}/objects/{accession}/{attempt}"

    def _fail(self, doing: str, err: BaseException) -> StorageUnavailable:
        reason = str(err) or type(err).__name__
        return StorageUnavailable(
            f"the storage {self.url} refused {doing}: {reason}. Nothing half-written is "
            "visible; check the storage and its credentials (AWS_ACCESS_KEY_ID, "
            "AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL) and run the command again")

    # -- reading ----------------------------------------------------------------------------
    def pointers(self, accession: str, units: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The current pointers of ``units`` that exist (one request each, concurrently)."""
        keys = {self.pointer_key(accession, unit): unit for unit in units}
        try:
            found = self.fs.cat(list(keys), on_error="return")
        except Exception as err:  # s3fs raises botocore's own errors too
            raise self._fail(f"reading {accession}", err) from err
        pointers: dict[str, dict[str, Any]] = {}
        for key, data in found.items():
            if isinstance(data, FileNotFoundError):
                continue
            if isinstance(data, BaseException):
                raise self._fail(f"reading {accession}", data)
            pointers[keys[self._key(key)]] = json.loads(data)
        return pointers

    def _key(self, path: str) -> str:
        """A path as this file system names it back, as :meth:`pointer_key` made it."""
        path = self.fs._strip_protocol(path)
        return str(path).rstrip("/")

    def with_unit(self, unit: str) -> list[str]:
        """Assemblies holding ``unit`` (only pointers are listed, never attempt files)."""
        base = f"{self.root}/assemblies"
        try:
            keys = self.fs.find(base)
        except FileNotFoundError:
            return []
        except Exception as err:  # s3fs raises botocore's own errors too
            raise self._fail("listing the assemblies", err) from err
        suffix = f"/{unit}.json"
        return sorted(str(k)[len(base) + 1:-len(suffix)] for k in keys
                      if str(k).endswith(suffix) and str(k)[len(base) + 1:].count("/") == 1)

    def download(self, accession: str, pointer: Mapping[str, Any], into: Path) -> None:
        """Fetch the files ``pointer`` names into the folder ``into`` (same relative paths),
        checking each file's size and SHA-256."""
        self.get_files(self.attempt_key(accession, pointer["attempt"]), pointer["files"],
                       into, accession, "Annotate the assembly again to rewrite it")

    def get_files(self, base: str, files: Mapping[str, Mapping[str, Any]], into: Path,
                  what: str, remedy: str) -> None:
        """Fetch ``files`` (relative name -> size and SHA-256) under the key ``base`` into
        the folder ``into``, checking each; ``what`` and ``remedy`` word the errors.
        FileNotFoundError when one is gone (replaced meanwhile)."""
        for name, facts in files.items():
            target = into / name
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                self.fs.get_file(f"{base}/{name}", str(target))
            except FileNotFoundError:
                raise  # replaced meanwhile: the caller reads the pointer again
            except Exception as err:  # s3fs raises botocore's own errors too
                raise self._fail(f"reading {what}/{name}", err) from err
            if target.stat().st_size != facts["size"] or file_sha256(target) != facts["sha256"]:
                raise StorageUnavailable(
                    f"{what}/{name} in the storage {self.url} is not the file its pointer "
                    f"names (size or SHA-256 differ); it was changed outside Lanhai. {remedy}")

    def accessions(self) -> list[str]:
        """Every assembly with a pointer, in name order."""
        try:
            entries = self.fs.ls(f"{self.root}/assemblies", detail=False)
        except FileNotFoundError:
            return []
        except Exception as err:  # s3fs raises botocore's own errors too
            raise self._fail("listing the assemblies", err) from err
        return sorted(str(e).rstrip("/").rsplit("/", 1)[-1] for e in entries)

    def part_units(self, accession: str) -> list[str]:
        try:
            entries = self.fs.ls(f"{self.root}/assemblies/{accession}/{PARTS}", detail=False)
        except FileNotFoundError:
            return []
        except Exception as err:  # s3fs raises botocore's own errors too
            raise self._fail(f"listing {accession}'s contig batches", err) from err
        return sorted(f"{PARTS}/" + str(e).rsplit("/", 1)[-1].removesuffix(".json")
                      for e in entries if str(e).endswith(".json"))

    # -- writing ----------------------------------------------------------------------------
    def publish(self, accession: str, unit: str, folder: Path) -> dict[str, Any]:
        """Upload the files of ``unit`` found in the assembly's local ``folder`` under a new
        attempt, write the pointer last, then delete the attempt it replaced. Returns the
        pointer."""
        attempt = uuid.uuid4().hex
        base = self.attempt_key(accession, attempt)
        old = self.pointers(accession, [unit]).get(unit)
        try:
            files = self.put_files(base, folder, unit_files(unit))
            pointer = {"unit": unit, "attempt": attempt, "files": files}
            self.fs.pipe_file(self.pointer_key(accession, unit),
                              json.dumps(pointer, indent=1, sort_keys=True).encode())
        except Exception as err:  # s3fs raises botocore's own errors too
            self._discard(base)
            raise self._fail(f"writing {accession} ({unit})", err) from err
        if old is not None and old.get("attempt") != attempt:
            self._discard(self.attempt_key(accession, old["attempt"]))
        return pointer

    def put_files(self, base: str, folder: Path, names: Iterable[str]
                  ) -> dict[str, dict[str, Any]]:
        """Upload the files ``names`` of ``folder`` that exist under the key ``base``;
        return each one's size and SHA-256 (storage errors propagate as the client's)."""
        files: dict[str, dict[str, Any]] = {}
        for name in names:
            path = folder / name
            if not path.exists():
                continue
            self.fs.put_file(str(path), f"{base}/{name}")
            files[name] = {"size": path.stat().st_size, "sha256": file_sha256(path)}
        return files

    # -- index segments ---------------------------------------------------------------------
    def segment_key(self, db: str, segment: str) -> str:
        """Where a sequence index segment's files are kept for the cluster's workers (a
        segment never changes once built, and its name is unique)."""
        return f"{self.root}/indexes/{db}/{segment}"

    def publish_segment(self, db: str, segment: str, folder: Path, names: Iterable[str]
                        ) -> dict[str, Any]:
        """Upload the files ``names`` of the segment in ``folder``; return the pointer a
        worker fetches them by (passed with each search task)."""
        base = self.segment_key(db, segment)
        try:
            files = self.put_files(base, folder, names)
        except Exception as err:  # s3fs raises botocore's own errors too
            self._discard(base)
            raise self._fail(f"writing the search index segment {segment}", err) from err
        return {"url": self.url, "db": db, "segment": segment, "files": files}

    def fetch_segment(self, pointer: Mapping[str, Any], into: Path) -> None:
        """Fetch a published segment (:meth:`publish_segment`) into the folder ``into``."""
        what = f"search index segment {pointer['segment']}"
        try:
            self.get_files(self.segment_key(pointer["db"], pointer["segment"]),
                           pointer["files"], into, what,
                           "Run `lanhai index --rebuild` on the server to write it again")
        except FileNotFoundError as err:
            raise StorageUnavailable(
                f"the {what} is missing from the storage {self.url} (removed by its server "
                "meanwhile); search again") from err

    def drop_segment(self, db: str, segment: str) -> None:
        """Delete a segment's files (a compaction replaced it); best effort."""
        self._discard(self.segment_key(db, segment))

    def drop(self, accession: str, unit: str) -> None:
        """Remove ``unit``'s pointer (it is no longer visible), then its files."""
        old = self.pointers(accession, [unit]).get(unit)
        if old is None:
            return
        try:
            self.fs.rm_file(self.pointer_key(accession, unit))
        except FileNotFoundError:
            pass
        except Exception as err:  # s3fs raises botocore's own errors too
            raise self._fail(f"removing {accession} ({unit})", err) from err
        self._discard(self.attempt_key(accession, old["attempt"]))

    def _discard(self, key: str) -> None:
        """Delete an attempt's files; what cannot be deleted now is never read again."""
        with contextlib.suppress(Exception):  # left: an attempt no pointer names is never read
            self.fs.rm(key, recursive=True)

    # -- upkeep -----------------------------------------------------------------------------
    def abandoned(self, min_age: float) -> list[dict[str, Any]]:
        """Attempts no pointer names whose newest file is older than ``min_age`` seconds:
        writers that died before their pointer, or deletes the storage refused. A younger
        one may belong to a writer still uploading, and is left alone."""
        import datetime as dt

        try:
            pointer_keys = [k for k in self.fs.find(f"{self.root}/assemblies")
                            if str(k).endswith(".json")]
            named = {json.loads(data)["attempt"] for data in
                     self.fs.cat(pointer_keys, on_error="raise").values()} if pointer_keys \
                else set()
            objects = self.fs.find(f"{self.root}/objects", detail=True)
        except FileNotFoundError:
            return []
        except Exception as err:  # s3fs raises botocore's own errors too
            raise self._fail("listing the stored attempts", err) from err
        base = f"{self.root}/objects/"
        attempts: dict[str, dict[str, Any]] = {}
        for key, info in objects.items():
            accession, attempt = str(key)[len(base):].split("/", 2)[:2]
            found = attempts.setdefault(f"{accession}/{attempt}", {
                "key": f"{base}{accession}/{attempt}", "accession": accession,
                "attempt": attempt, "size": 0, "newest": 0.0})
            found["size"] += int(info.get("size") or 0)
            when = info.get("LastModified") or info.get("mtime") or info.get("created")
            if isinstance(when, dt.datetime):
                when = when.timestamp()
            found["newest"] = max(found["newest"], float(when or 0))
        now = dt.datetime.now(dt.UTC).timestamp()
        return [{**found, "age": now - found["newest"]}
                for name, found in sorted(attempts.items())
                if found["attempt"] not in named and now - found["newest"] >= min_age]

    def remove(self, key: str) -> None:
        """Delete an abandoned attempt (:meth:`abandoned`)."""
        try:
            self.fs.rm(key, recursive=True)
        except FileNotFoundError:
            pass
        except Exception as err:  # s3fs raises botocore's own errors too
            raise self._fail(f"removing {key}", err) from err

    def check(self) -> None:
        """Write, read back and delete a small file; raise :class:`StorageUnavailable` with
        the reason when the storage refuses."""
        name = f"doctor-{uuid.uuid4().hex}.txt"
        key = self.write_probe(name, name)
        try:
            if self.read_probe(key) != name:
                raise StorageUnavailable(f"the storage {self.url} returned another file than "
                                         "the one just written")
        finally:
            self.remove(key)

    def write_probe(self, name: str, text: str) -> str:
        key = f"{self.root}/.probes/{name}"
        try:
            self.fs.pipe_file(key, text.encode())
        except Exception as err:  # s3fs raises botocore's own errors too
            raise self._fail("writing a probe file", err) from err
        return key

    def read_probe(self, key: str) -> str:
        try:
            return bytes(self.fs.cat_file(key)).decode()
        except Exception as err:  # s3fs raises botocore's own errors too
            raise self._fail("reading the client's probe file", err) from err

    def remove_probe(self, key: str) -> None:
        self._discard(key)
