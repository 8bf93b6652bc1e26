"""Pressed profile packs: the optimized profiles pyhmmer searches with, read ready-made from
disk instead of being rebuilt from each HMM at every search.

A pack's HMM file is used where it is when it is a complete pressed database (``X.h3m``
beside ``X.h3i``, ``X.h3f`` and ``X.h3p``, as ``lanhai profiles install`` writes it). Any other
pack (HMMER3 text, gzip'ed text, or a bare binary ``.h3m`` such as GECCO's Pfam file) is
pressed with :func:`pyhmmer.hmmer.hmmpress` once, at its first use, into a cache in the
bank's profiles folder::

    profiles/.pressed/<pack>-<digest>-<engine>/         pressed.json + hmms.h3m/.h3i/.h3f/.h3p
    profiles/.pressed/.staging-<pack>-<digest>-<engine>-<hex>/   being pressed (locked)
    profiles/.pressed/.<pack>-<digest>-<engine>.lock    held while one process presses it
    profiles/.pressed/.old-<pack>-<...>-<hex>/          a superseded entry being removed

``<digest>`` is the start of the HMM file's SHA-256, so a rebuilt pack is pressed again and a
stale entry is never read; ``<engine>`` names pyhmmer's version and the machine's architecture,
on which the binary profile format depends. An entry is written in a locked staging folder
renamed into place when complete, so an entry under its final name is always whole; two
processes needing the same entry take turns (the second one reads what the first pressed).
Pressing a pack's new entry removes the pack's older entries. Pressing changes nothing about
a pack's identity: annotation markers name the pack's own file, never its pressed copy.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import functools
import hashlib
import json
import os
import platform
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyhmmer
from pyhmmer.plan7 import HMMFile, HMMPressedFile

from lanhai.errors import LanhaiError
from lanhai.profiles.pack import Pack
from lanhai.profiles.registry import MANIFEST, builtin_dir, held_folder, locked_open

#: the cache folder's name inside a bank's profiles folder
PRESSED = ".pressed"
#: base name of the pressed files inside a cache entry
BASE = "hmms"
#: the four files of a pressed database
SUFFIXES = (".h3m", ".h3i", ".h3f", ".h3p")
#: what a cache entry records about itself
INFO = "pressed.json"
_UNSAFE = re.compile(r"[^A-Za-z0-9._]")


def engine() -> str:
    """What the binary profile format depends on: pyhmmer's version and the architecture."""
    return _UNSAFE.sub("_", f"pyhmmer{pyhmmer.__version__}.{platform.machine() or 'any'}")


def cache_folder(profiles: Path) -> Path:
    """The pressed cache of the bank whose profiles folder is ``profiles``."""
    return profiles / PRESSED


def pressed_base(path: Path) -> Path | None:
    """The pressed database ``path`` belongs to (``X`` for ``X.h3m``) when all four of its
    files are there, else None."""
    if path.suffix != ".h3m":
        return None
    base = path.with_suffix("")
    return base if _whole(base) else None


def _whole(base: Path) -> bool:
    return all(base.with_name(base.name + suffix).is_file() for suffix in SUFFIXES)


def content_digest(path: Path) -> str:
    """The SHA-256 of a file's bytes (computed once per process for an unchanged file)."""
    stat = path.stat()
    return _digest(str(path.resolve()), stat.st_dev, stat.st_ino, stat.st_size,
                   stat.st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _digest(path: str, dev: int, ino: int, size: int, mtime_ns: int) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def default_cache(pack: Pack) -> Path | None:
    """Where a pack's pressed copy is kept when the caller names no cache: beside the pack for
    a pack installed, built or added in a bank's profiles folder; for a built-in pack, in the
    bank ``LANHAI_DATA_DIR`` names (when that folder exists); None otherwise."""
    folder = Path(pack.path).parent
    try:
        shipped = folder.resolve().parent == builtin_dir().resolve()
    except OSError:
        return None
    if not shipped and folder.name == pack.name and (folder / MANIFEST).is_file():
        return cache_folder(folder.parent)
    from lanhai.settings import Settings

    try:
        data = Settings.from_env().data_dir
    except (ValueError, LanhaiError):  # a malformed LANHAI_* setting: no bank to write into
        return None
    return cache_folder(data / "profiles") if data.is_dir() else None


def entry_name(pack: Pack, digest: str) -> str:
    """The cache entry of ``pack`` whose HMM file has the SHA-256 ``digest``."""
    return f"{pack.name}-{digest[:16]}-{engine()}"


def ensure(pack: Pack, cache: Path) -> Path:
    """The base path of a pressed copy of ``pack``'s HMMs: the pack's own file when it is
    pressed already, otherwise the cache entry, pressed first when missing. Raises
    :class:`OSError` when the cache cannot be written and ``ValueError`` for an HMM file
    pyhmmer cannot read."""
    own = pressed_base(Path(pack.path))
    if own is not None:
        return own
    digest = content_digest(Path(pack.path))
    key = entry_name(pack, digest)
    entry = cache / key
    if _complete(entry):
        return entry / BASE
    cache.mkdir(parents=True, exist_ok=True)
    with _key_lock(cache / f".{key}.lock"):
        if not _complete(entry):
            if entry.exists():  # damaged by hand: never read, replaced
                _discard(cache, entry)
            _press_entry(pack, cache, key, digest)
        _remove_superseded(cache, pack.name, key)
    return entry / BASE


def _complete(entry: Path) -> bool:
    return (entry / INFO).is_file() and _whole(entry / BASE)


@contextlib.contextmanager
def _key_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on the lock file ``path`` (waiting for another holder); the file
    is removed before the lock is let go, so a leftover lock file means a dead presser."""
    fd = locked_open(path, lambda: os.open(path, os.O_RDWR | os.O_CREAT, 0o644))
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _press_entry(pack: Pack, cache: Path, key: str, digest: str) -> None:
    """Press ``pack`` (whose HMM file has the SHA-256 ``digest``) into a locked staging
    folder and rename it to ``cache/key``."""
    staging = cache / f".staging-{key}-{uuid.uuid4().hex[:12]}"
    started = time.perf_counter()
    with held_folder(staging):
        try:
            with HMMFile(str(pack.path)) as handle:
                count = pyhmmer.hmmer.hmmpress(handle, staging / BASE)
            if not count:
                raise ValueError(f"pack {pack.name}: {pack.path} holds no HMM")
            if content_digest(Path(pack.path)) != digest:  # rebuilt while being read
                raise OSError(f"pack {pack.name}: {pack.path} changed while being pressed")
            for suffix in SUFFIXES:  # on disk before the entry is named complete
                _sync(staging / (BASE + suffix))
            info = {"pack": pack.name, "source": str(pack.path),
                    "sha256": digest, "hmm_count": count,
                    "engine": engine(),
                    "pressed_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    "seconds": round(time.perf_counter() - started, 3)}
            (staging / INFO).write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
            _sync(staging / INFO)
            try:
                staging.rename(cache / key)
            except OSError:
                if not _complete(cache / key):  # another writer's entry is as good
                    raise
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)


def _sync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_superseded(cache: Path, pack: str, keep: str) -> None:
    """Remove the pack's other entries (older HMM files or pressing engines)."""
    for entry in cache.iterdir():
        if entry.name == keep or entry.name.startswith(".") or not entry.is_dir():
            continue
        if entry.name.rsplit("-", 2)[0] == pack:
            _discard(cache, entry)


def _discard(cache: Path, entry: Path) -> None:
    """Remove a cache entry: renamed aside first (one atomic step, so no reader finds half of
    it under its name), then deleted while locked."""
    old = cache / f".old-{entry.name}-{uuid.uuid4().hex[:12]}"
    try:
        entry.rename(old)
    except OSError:
        return  # already gone
    with held_folder(old, exist_ok=True):
        shutil.rmtree(old, ignore_errors=True)


def read_profiles(base: Path) -> list[Any]:
    """Every optimized profile of the pressed database ``base``, in file order."""
    with HMMPressedFile(str(base)) as handle:
        profiles = list(handle)
    return profiles


def open_profiles(base: Path) -> Any:
    """The pressed database ``base`` opened for reading its optimized profiles one by one, as
    they are needed (``rewind()`` starts again; closed when no longer referenced)."""
    return HMMPressedFile(str(base))


def profiles_size(base: Path) -> int:
    """Bytes of the optimized profiles on disk (``.h3p`` + ``.h3f``): about what they take in
    memory."""
    return sum(base.with_name(base.name + s).stat().st_size for s in (".h3p", ".h3f"))
