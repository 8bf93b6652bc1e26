"""What interrupted work leaves behind, and the lock that tells it from work in progress.

**The lock.** A writer that stages a folder or writes a partial file holds an exclusive
``flock`` on it (the folder's own descriptor, or the file's) from the moment it exists until
it is renamed into place or removed. The kernel lets the lock go when the writer's process
ends, however it ends (``kill -9`` included). A cleaner asks for the same lock without
waiting: if it gets it, nobody is writing there any more and the item is a leftover, which
the cleaner removes while holding the lock. A writer checks, once it holds its lock, that the
path still names what it locked (a cleaner may have removed an item in the instant between
its creation and its lock), and makes it again if not. The sequence index has one lock for
the whole index (``search/<db>/.lock``, :mod:`lanhai.store.seq_index`); a job's runner holds
``jobs/<id>.lock`` (:mod:`lanhai.store.jobs`).

**Where leftovers are** (names as the writers make them; ``<hex>`` is random)::

    assemblies/.staging/<label>-<hex>/     sequences being written: <label> is the accession
                                           (an ingest) or <ACC>+genes, +annotation, +clusters
    assemblies/.staging/<label>-<hex>.old/ the data a commit was replacing
    assemblies/.staging/.<name>.<hex>.part a completion marker being written
    search/<db>/.staging/, .state.*.json, segments/ not in state.json (past their grace)
    search/.compounds.parquet.<hex>.part   the compound cache being written
    breeding/.<name>.<hex>.part/ and .old/ a dataset being imported, the one it replaces
    profiles/.staging-<name>-<hex>/, .old-<name>-<hex>/   a profile pack being written
    profiles/.downloads/<pack>/            an install's download (kept so a rerun resumes)
    profiles/.pressed/.staging-<key>-<hex>/, .old-<key>-<hex>/, .<key>.lock
                                           a pack being pressed, a superseded pressed copy
                                           being removed, the lock of a pack's pressing
    jobs/.<id>.json.<hex>.part, <id>.lock  a job file being written; a stopped job's lock
    uploads/<id>/                          a request's or a job's upload (held while in use),
                                           or one waiting for a commit (kept a day)
    .writing/<hex>.json                    notes of files written outside the data folder
                                           (exports, result tables): the partial file
                                           ``.<name>.<hex>.part`` beside the target
    .<name>.<hex>.part                     a small file of the data folder being replaced
    <temp>/lanhai-work-<hex>/              a search's scratch folder in the system's temp
    .scratch/lanhai-work-<hex>/            the same, for a search on a Dask cluster

An interrupted commit that had moved the old data aside but not yet put the new data in its
place (``.old`` beside a staging folder nobody holds, and no data at the target) is rolled
back: the old data goes back. Nothing here looks at the catalog database.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import shutil
import socket
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from lanhai.errors import UsageError
from lanhai.store.layout import Layout

#: the hidden folder a sequence store stages its writes in (under ``assemblies/``)
STAGING = ".staging"
#: a waiting upload nobody holds is removed this long (seconds) after it arrived
UPLOAD_MAX_AGE = 86400
#: prefix of the scratch folders searches make in the system's temporary folder
SCRATCH_PREFIX = "lanhai-work-"

REMOVE, RESTORE = "remove", "restore"
ABANDONED, IN_USE, EXPIRED = "abandoned", "in use", "expired"
#: a partial file another machine is writing: only that machine can tell whether its writer
#: lives
ELSEWHERE = "on another machine"
_BUSY = (errno.EWOULDBLOCK, errno.EAGAIN, errno.EINTR)


# -- the lock ---------------------------------------------------------------------------------

class Hold:
    """A writer's lock on a folder or file it is writing; :meth:`release` lets it go."""

    def __init__(self, fd: int | None, path: Path) -> None:
        #: None when the file system cannot lock (the work goes on; no cleaner removes it)
        self.fd = fd
        self.path = path

    def release(self) -> None:
        """Let the lock go (safe to call twice). Unlocking first also frees it for a child
        process that inherited the descriptor."""
        if self.fd is None:
            return
        fd, self.fd = self.fd, None
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    def __enter__(self) -> Hold:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _same(fd: int, path: Path) -> bool:
    """Whether ``path`` still names the file open as ``fd``."""
    try:
        named = os.stat(path, follow_symlinks=False)
    except OSError:
        return False
    opened = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (opened.st_dev, opened.st_ino)


def _lock(path: Path, *, wait: bool) -> Hold | None:
    """Lock an existing folder or file: the hold, or None when it is gone or (not waiting)
    when someone holds it or it cannot be locked. A writer (waiting) on a file system that
    cannot lock gets a hold without a lock: it works on, and cleaners, which cannot lock it
    either, leave its work alone."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except OSError as err:
        os.close(fd)
        if wait and err.errno not in _BUSY:
            return Hold(None, path)
        return None
    if not _same(fd, path):
        os.close(fd)
        return None
    return Hold(fd, path)


def hold_folder(path: Path, *, exist_ok: bool = False) -> Hold:
    """Create the folder ``path`` (a fresh name; or, ``exist_ok``, a fixed one another
    writer may be using: then this waits for it) and hold its lock."""
    while True:
        try:
            path.mkdir(parents=True, exist_ok=exist_ok)
        except FileExistsError:
            if not exist_ok:
                raise
        hold = _lock(path, wait=True)
        if hold is not None:
            return hold
        # removed as a leftover between its creation and our lock: make it again


def hold_file(path: Path) -> Hold:
    """Create the file ``path`` if it is missing and hold its lock (waiting for another
    holder). Removing it is the holder's job, before :meth:`Hold.release`."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
        if _same(fd, path):
            return Hold(fd, path)
        os.close(fd)


def in_use(path: Path) -> bool:
    """Whether a live process holds the lock of ``path`` (False when there is none)."""
    hold = _lock(path, wait=False)
    if hold is not None:
        hold.release()
        return False
    return path.exists()


# -- writing ----------------------------------------------------------------------------------

@contextlib.contextmanager
def partial_file(target: Path, *, folder: Path | None = None, sync: bool = False,
                 mode: int | None = None, note: Path | None = None, what: str = ""
                 ) -> Iterator[IO[bytes]]:
    """A locked partial file ``.<name>.<hex>.part`` (beside ``target``, or in ``folder`` on
    the same file system): write to the handle; when the block ends without an error it is
    flushed (synced to disk with ``sync``) and renamed to ``target``, otherwise removed.

    ``mode``: the new file's permissions (default: those of the file it replaces, else
    0o644). ``note``: a folder where a note names the partial file while it is written, so
    that one left outside the data folder is found (``what`` says what it is)."""
    where = folder or target.parent
    token = uuid.uuid4().hex
    path = where / f".{target.name}.{token}.part"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with contextlib.suppress(OSError):  # a file system that cannot lock: write on
        fcntl.flock(fd, fcntl.LOCK_EX)  # a fresh, unique name: no one else can have locked it
    hold = Hold(fd, path)
    noted = note / f"{token}.json" if note is not None else None
    try:
        if mode is None:
            try:
                mode = target.stat().st_mode & 0o777
            except OSError:
                mode = 0o644
        if noted is not None:
            replace_file(noted, json.dumps({
                "path": str(path.absolute()), "target": str(target.absolute()), "what": what,
                "pid": os.getpid(), "host": socket.gethostname(),
                "started": time.time()}).encode())
        with os.fdopen(os.dup(fd), "wb") as handle:
            yield handle
            handle.flush()
            if sync:
                os.fsync(handle.fileno())
        os.chmod(path, mode)
        os.replace(path, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        if noted is not None:
            with contextlib.suppress(FileNotFoundError):
                noted.unlink()
        hold.release()


def replace_file(path: Path, data: bytes, *, folder: Path | None = None,
                 mode: int | None = None) -> None:
    """Replace the small file ``path`` with ``data`` atomically (a reader sees the old file
    or the new one), through a locked partial file (in ``folder`` when given)."""
    with partial_file(path, folder=folder, mode=mode) as handle:
        handle.write(data)


class PartialFiles:
    """Files written outside the data folder (exports, result tables, ``-o FILE``): each is
    written to a locked partial file beside its target and noted in the data folder's
    ``.writing/`` while it is written, so that one left by a killed run is found by
    ``lanhai doctor``; the next write to the same target removes those left beside it."""

    def __init__(self, notes: Path | None) -> None:
        self.notes = notes

    @contextlib.contextmanager
    def open(self, target: Path, what: str, *, sync: bool = True) -> Iterator[IO[bytes]]:
        """The handle to write ``target``'s bytes to; renamed into place when the block ends
        without an error (see :func:`partial_file`)."""
        target = Path(target)
        if target.is_dir():
            raise UsageError(f"{target} is a folder; give a file name, e.g. "
                             f"{target}/export.csv")
        if not target.parent.is_dir():
            raise UsageError(f"folder {target.parent} does not exist; create it or choose "
                             "another -o")
        sweep_beside(target)
        note = self.notes
        if note is not None:
            sweep(item for item in _note_items(note) if item.kind == "note")
            try:
                note.mkdir(parents=True, exist_ok=True)
            except OSError:  # a read-only data folder: write without a note
                note = None
        with partial_file(target, sync=sync, note=note, what=what) as handle:
            yield handle

    def write(self, target: Path, chunks: Iterable[bytes], what: str) -> None:
        """Write ``chunks`` to ``target`` atomically."""
        with self.open(target, what) as handle:
            for chunk in chunks:
                handle.write(chunk)


def sweep_beside(target: Path) -> list[Path]:
    """Remove the partial files of ``target`` (``.<name>.<hex>.part`` beside it) that no live
    writer holds; the paths removed."""
    removed = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(target.parent):
            name = entry.name
            if name.startswith(f".{target.name}.") and name.endswith(".part") \
                    and entry.is_file(follow_symlinks=False):
                hold = _lock(Path(entry.path), wait=False)
                if hold is None:
                    continue
                with hold:
                    os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


@contextlib.contextmanager
def scratch(parent: Path | None = None) -> Iterator[Path]:
    """A locked scratch folder in ``parent`` (default: the system's temporary folder;
    the data folder's ``.scratch`` when a cluster's workers must read it), removed when the
    block ends (and by ``lanhai clean`` when the process that made it died)."""
    path = (parent or Path(tempfile.gettempdir())) / f"{SCRATCH_PREFIX}{uuid.uuid4().hex}"
    hold = hold_folder(path)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        hold.release()


# -- what is left -----------------------------------------------------------------------------

@dataclass
class Leftover:
    """One item an interrupted run left (or a live one is still writing)."""

    path: Path
    kind: str
    why: str
    state: str = ABANDONED
    #: what cleaning does: remove it, or put it back where it came from (``restore_to``)
    action: str = REMOVE
    #: whose lock says the item is in use (None: nobody locks it)
    lock: Path | None = None
    restore_to: Path | None = None
    #: files removed with it (the note of a partial file written outside the data folder)
    also: tuple[Path, ...] = ()
    #: removed by the cleanup a server runs when it starts (a download is kept: rerunning
    #: the install resumes it)
    at_startup: bool = True
    size: int = 0
    modified: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def removable(self) -> bool:
        return self.state in (ABANDONED, EXPIRED)

    def to_dict(self, now: float | None = None) -> dict[str, Any]:
        moment = time.time() if now is None else now
        return {
            "path": str(self.path), "kind": self.kind, "why": self.why, "state": self.state,
            "action": self.action if self.removable else "keep",
            "size": self.size, "age_seconds": max(0, int(moment - self.modified)),
            "modified": dt.datetime.fromtimestamp(self.modified, dt.UTC).isoformat(
                timespec="seconds"),
            **({"restore_to": str(self.restore_to)} if self.action == RESTORE else {}),
            **self.extra}


def scan(layout: Layout) -> list[Leftover]:
    """Every leftover of the data folder (and of its writes outside it), each with its
    state: ``abandoned`` (its writer is gone), ``expired`` (an upload that waited longer
    than a day) or ``in use`` (a live process holds it: never removed)."""
    found: list[Leftover] = []
    for area in (_sequences, _index, _compound_cache, _breeding, _profiles, _jobs, _uploads,
                 _notes, _root, _scratch):
        found.extend(area(layout))
    for item in found:
        item.size, item.modified = _measure(item.path)
    return sorted(found, key=lambda item: str(item.path))


def remove(item: Leftover) -> str:
    """Clean one leftover found by :func:`scan`, checking again that nobody holds it:
    ``removed``, ``restored``, ``in use`` or ``gone``."""
    if not item.removable:
        return item.state
    hold: Hold | None = None
    if item.lock is not None and item.lock.exists():
        hold = _lock(item.lock, wait=False)
        if hold is None:
            return IN_USE if item.lock.exists() else "gone"
    try:
        if not os.path.lexists(item.path):
            return "gone"
        done = "removed"
        if item.action == RESTORE and item.restore_to is not None \
                and not os.path.lexists(item.restore_to):
            os.rename(item.path, item.restore_to)
            done = "restored"
        else:
            _delete(item.path)
        for other in item.also:
            with contextlib.suppress(FileNotFoundError):
                other.unlink()
        return done
    finally:
        if hold is not None:
            hold.release()


def sweep(items: Iterable[Leftover]) -> list[Leftover]:
    """Clean every abandoned or expired item of ``items``; the ones cleaned."""
    return [item for item in items
            if item.removable and remove(item) in ("removed", "restored")]


def sweep_staging(folder: Path) -> list[Leftover]:
    """Clean what earlier runs left in a sequence store's staging folder (writers call this
    when they start)."""
    return sweep(_staging_items(folder))


def sweep_breeding(root: Path) -> list[Leftover]:
    """Clean what interrupted dataset imports left in the breeding folder."""
    return sweep(_breeding_items(root))


def sweep_uploads(root: Path) -> list[Leftover]:
    """Clean uploads whose request or job stopped, and those waiting longer than a day."""
    return sweep(_upload_items(root))


def _delete(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _measure(path: Path) -> tuple[int, float]:
    """(bytes, modification time) of a file or folder (its files summed)."""
    try:
        top = os.stat(path, follow_symlinks=False)
    except OSError:
        return 0, 0.0
    if not os.path.isdir(path) or os.path.islink(path):
        return top.st_size, top.st_mtime
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.stat(os.path.join(folder, name), follow_symlinks=False).st_size
    return total, top.st_mtime


def _entries(folder: Path) -> list[os.DirEntry[str]]:
    try:
        return sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return []


def _state(lock: Path) -> str:
    return IN_USE if in_use(lock) else ABANDONED


# -- the areas --------------------------------------------------------------------------------

_STEP_NAMES = {"genes": "gene calling", "annotation": "the family and PUL step",
               "clusters": "the gene-cluster step"}


def _sequences(layout: Layout) -> list[Leftover]:
    return _staging_items(layout.assemblies / STAGING)


def _staging_items(folder: Path) -> list[Leftover]:
    """The sequence store's staging folder: ``<label>-<hex>`` (held by its writer),
    ``<label>-<hex>.old`` (the data its commit replaced) and marker partial files."""
    root = folder.parent
    items = []
    for entry in _entries(folder):
        path = Path(entry.path)
        if entry.name.endswith(".old"):
            pair = path.with_name(entry.name[:-4])
            label = pair.name.rsplit("-", 1)[0]
            target = root / label.replace("+", "/")
            items.append(_old(path, pair, target, "sequence data",
                              f"{_what(label)}: the data it was replacing"))
            continue
        if entry.name.startswith("."):
            what = "a completion marker being written"
        else:
            what = _what(entry.name.rsplit("-", 1)[0])
        items.append(Leftover(path, "sequence staging", what, _state(path), lock=path))
    for item in items:
        if item.state == ABANDONED and item.action == REMOVE:
            item.why += "; the run stopped before it finished (the next run starts again)"
    return items


def _what(label: str) -> str:
    accession, _, step = label.partition("+")
    if not step:
        return f"an ingest of {accession}"
    return f"{_STEP_NAMES.get(step, step)} of {accession}"


def _old(path: Path, pair: Path, target: Path, kind: str, why: str) -> Leftover:
    """``path`` holds the data a commit moved aside to put new data at ``target``, from the
    staging folder ``pair``; a pair still held is in use, and a commit interrupted between
    its two renames (``pair`` still there, ``target`` not) is rolled back."""
    if pair.exists():
        if in_use(pair):
            return Leftover(path, kind, why, IN_USE, lock=pair)
        if not os.path.lexists(target):
            return Leftover(path, kind, why + "; the commit stopped half-way: the old data is "
                            "put back", action=RESTORE, lock=pair, restore_to=target)
    return Leftover(path, kind, why + "; no longer needed", lock=pair)


def _index(layout: Layout) -> list[Leftover]:
    """Unfinished builds of the sequence indexes, under each index's writer lock (the lock
    file is made by the first writer, before anything else)."""
    items: list[Leftover] = []
    for db in ("proteins", "contigs"):
        root = layout.search / db
        lock = root / ".lock"
        if not lock.is_file():
            continue
        hold = _lock(lock, wait=False)
        busy = hold is None
        try:
            items.extend(_index_items(root, lock, busy))
        finally:
            if hold is not None:
                hold.release()
    return items


def _index_items(root: Path, lock: Path, busy: bool) -> list[Leftover]:
    from lanhai.store.seq_index import GRACE_SECONDS  # only when there is an index

    state = IN_USE if busy else ABANDONED
    items = []
    why = f"a build of the {root.name} search index that stopped before it finished"
    for entry in _entries(root / ".staging"):
        items.append(Leftover(Path(entry.path), "index build", why, state, lock=lock))
    for entry in _entries(root):
        if entry.name.startswith(".state.") and entry.name.endswith(".json"):
            items.append(Leftover(Path(entry.path), "index build",
                                  f"the {root.name} index's state being written", state,
                                  lock=lock))
    try:
        current = json.loads((root / "state.json").read_text("utf-8"))
        live = {seg["name"] for seg in current["segments"]}
        retired = {r["name"]: float(r["at"]) for r in current.get("retired", [])}
    except FileNotFoundError:
        live, retired = set(), {}
    except (OSError, ValueError, KeyError, TypeError):
        return items  # a state we cannot read: leave its segments alone
    now = time.time()
    for entry in _entries(root / "segments"):
        if entry.name in live:
            continue
        at = retired.get(entry.name)
        if at is not None and now - at <= GRACE_SECONDS:
            continue  # searches that started before it was replaced may still read it
        items.append(Leftover(
            Path(entry.path), "index segment",
            f"a segment of the {root.name} index that " + (
                "a compaction replaced" if at is not None else
                "a build finished but never recorded"), state, lock=lock))
    return items


def _compound_cache(layout: Layout) -> list[Leftover]:
    items = []
    name = layout.compound_cache.name
    for entry in _entries(layout.search):
        if entry.name.startswith(f".{name}.") and entry.is_file(follow_symlinks=False):
            path = Path(entry.path)
            items.append(Leftover(path, "compound cache", "the compound fingerprint cache "
                                  "being written", _state(path), lock=path))
    return items


def _breeding(layout: Layout) -> list[Leftover]:
    return _breeding_items(layout.breeding)


def _breeding_items(root: Path) -> list[Leftover]:
    items = []
    for entry in _entries(root):
        if not entry.name.startswith(".") or not entry.is_dir(follow_symlinks=False):
            continue
        path = Path(entry.path)
        stem, _, suffix = entry.name[1:].rpartition(".")
        name = stem.rsplit(".", 1)[0]
        if suffix == "old":
            items.append(_old(path, root / f".{stem}.part", root / name, "breeding dataset",
                              f"dataset {name!r}: the version an import was replacing"))
        elif suffix == "part":
            state = _state(path)
            items.append(Leftover(path, "breeding dataset", f"an import of dataset {name!r}"
                                  + ("" if state == IN_USE else
                                     " that stopped before it finished"), state, lock=path))
    return items


def _profiles(layout: Layout) -> list[Leftover]:
    root = layout.profiles
    items = []
    for entry in _entries(root):
        path = Path(entry.path)
        if not entry.is_dir(follow_symlinks=False):
            continue
        if entry.name.startswith(".staging-"):
            name = entry.name[len(".staging-"):].rsplit("-", 1)[0]
            state = _state(path)
            items.append(Leftover(path, "profile pack", f"pack {name!r} being written"
                                  + ("" if state == IN_USE else
                                     " by a run that stopped"), state, lock=path))
        elif entry.name.startswith(".old-"):
            token = entry.name[len(".old-"):]
            name = token.rsplit("-", 1)[0]
            items.append(_old(path, root / f".staging-{token}", root / name, "profile pack",
                              f"pack {name!r}: the version an install was replacing"))
    for entry in _entries(root / ".downloads"):
        path = Path(entry.path)
        state = _state(path)
        items.append(Leftover(
            path, "profile download", f"the download of pack {entry.name!r}" + (
                "" if state == IN_USE else " for an install that stopped (running the "
                "same `lanhai profiles install` again resumes it)"),
            state, lock=path, at_startup=False))
    return items + _pressed_items(root / ".pressed")


def _pressed_items(folder: Path) -> list[Leftover]:
    """The cache of pressed packs (:mod:`lanhai.profiles.pressed`): only its hidden items are
    unfinished work; its entries are complete pressed copies."""
    items = []
    for entry in _entries(folder):
        path = Path(entry.path)
        directory = entry.is_dir(follow_symlinks=False)
        if directory and entry.name.startswith(".staging-"):
            key = entry.name[len(".staging-"):].rsplit("-", 1)[0]
            why = f"pressed profiles {key!r} being written"
        elif directory and entry.name.startswith(".old-"):
            key = entry.name[len(".old-"):].rsplit("-", 1)[0]
            why = f"superseded pressed profiles {key!r} being removed"
        elif not directory and entry.name.startswith(".") and entry.name.endswith(".lock"):
            why = f"the lock of the pressing of {entry.name[1:-len('.lock')]!r}"
        else:
            continue
        state = _state(path)
        items.append(Leftover(path, "pressed profiles", why + (
            "" if state == IN_USE else " (a run that stopped)"), state, lock=path))
    return items


def _jobs(layout: Layout) -> list[Leftover]:
    items = []
    for entry in _entries(layout.jobs):
        path = Path(entry.path)
        if entry.name.startswith(".") and entry.name.endswith((".part", ".tmp")):
            items.append(Leftover(path, "job file", "a job's file being written",
                                  _state(path), lock=path))
        elif entry.name.endswith(".lock"):
            state = _state(path)
            if state == ABANDONED:
                items.append(Leftover(path, "job lock", "the lock of a job whose server "
                                      "stopped (the job is reported interrupted)", state,
                                      lock=path))
    return items


def _uploads(layout: Layout) -> list[Leftover]:
    return _upload_items(layout.uploads)


def _upload_items(root: Path) -> list[Leftover]:
    """Uploads held by a request or job that is gone, and uploads waiting for a commit
    longer than :data:`UPLOAD_MAX_AGE`."""
    items = []
    now = time.time()
    for entry in _entries(root):
        path = Path(entry.path)
        if not entry.is_dir(follow_symlinks=False):
            continue
        if in_use(path):  # a request or a job is reading or writing it
            items.append(Leftover(path, "upload", "an upload a request or a job is using",
                                  IN_USE, lock=path))
            continue
        try:
            meta = json.loads((path / "upload.json").read_text("utf-8"))
        except (OSError, ValueError):
            meta = None
        if not isinstance(meta, dict):
            items.append(Leftover(path, "upload", "an upload whose request stopped before it "
                                  "was saved", lock=path))
            continue
        purpose = str(meta.get("purpose") or "an upload")
        owner = meta.get("owner")
        extra = {"owner": owner} if owner else {}
        if meta.get("held"):
            items.append(Leftover(path, "upload", f"{purpose}: the request or job that "
                                  "received it stopped", lock=path, extra=extra))
            continue
        try:
            created = float(meta.get("created") or entry.stat().st_mtime)
        except (OSError, TypeError, ValueError):
            created = 0.0
        if now - created > UPLOAD_MAX_AGE:
            items.append(Leftover(path, "upload", f"{purpose}: waited for its commit "
                                  "longer than a day", EXPIRED, lock=path, extra=extra))
    return items


def _notes(layout: Layout) -> list[Leftover]:
    return _note_items(layout.writing)


def _note_items(folder: Path) -> list[Leftover]:
    """Partial files written outside the data folder, found by their notes."""
    items = []
    here = socket.gethostname()
    for entry in _entries(folder):
        note = Path(entry.path)
        if entry.name.startswith("."):  # a note being written
            items.append(Leftover(note, "note", "a note being written", _state(note),
                                  lock=note))
            continue
        try:
            data = json.loads(note.read_text("utf-8"))
            partial = Path(data["path"])
            target = str(data.get("target", ""))
            what = str(data.get("what") or "a file")
            host = str(data.get("host") or here)
        except (OSError, ValueError, KeyError, TypeError):
            items.append(Leftover(note, "note", "an unreadable note", lock=None))
            continue
        if host != here:
            items.append(Leftover(partial, "outside file", f"{what} written on {host} "
                                  f"to {target} (run `lanhai clean` there)", ELSEWHERE,
                                  also=(note,), extra={"target": target, "host": host}))
        elif not os.path.lexists(partial):
            items.append(Leftover(note, "note", f"the note of {what} to {target}, which "
                                  "ended", lock=None))
        else:
            state = _state(partial)
            items.append(Leftover(
                partial, "outside file", f"{what} to {target}" + (
                    "" if state == IN_USE else " that stopped before it finished"),
                state, lock=partial, also=(note,), extra={"target": target}))
    return items


def _root(layout: Layout) -> list[Leftover]:
    items = []
    for entry in _entries(layout.root):
        if entry.name.startswith(".") and entry.name.endswith(".part") \
                and entry.is_file(follow_symlinks=False):
            path = Path(entry.path)
            items.append(Leftover(path, "data folder file", "a file of the data folder "
                                  "being replaced", _state(path), lock=path))
    return items


def _scratch(layout: Layout) -> list[Leftover]:
    items = []
    for entry in [*_entries(Path(tempfile.gettempdir())), *_entries(layout.scratch)]:
        if entry.name.startswith(SCRATCH_PREFIX) and entry.is_dir(follow_symlinks=False):
            path = Path(entry.path)
            state = _state(path)
            items.append(Leftover(path, "scratch", "a search's scratch folder" + (
                "" if state == IN_USE else " left by a process that stopped"), state,
                lock=path))
    return items


# -- the folder itself ----------------------------------------------------------------------

def folder_facts(root: Path) -> dict[str, Any]:
    """Whether the data folder exists and takes a new file (one written and removed), and
    the free space of its file system."""
    facts: dict[str, Any] = {"path": str(root.absolute()), "exists": root.is_dir(),
                             "writable": False}
    if not facts["exists"]:
        return facts
    try:
        with partial_file(root / "doctor-probe", mode=0o600):
            raise _Probed
    except _Probed:
        facts["writable"] = True
    except OSError as err:
        facts["error"] = err.strerror or str(err)
    try:
        usage = shutil.disk_usage(root)
    except OSError:
        return facts
    facts.update(free=usage.free, total=usage.total)
    return facts


class _Probed(Exception):
    """A probe file was made (and is removed, never renamed into place)."""


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite database URL (None for another database or an in-memory one)."""
    if not url.startswith("sqlite") or "///" not in url:
        return None
    path = url.split("///", 1)[1].split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


__all__ = ["Hold", "Leftover", "PartialFiles", "folder_facts", "hold_file", "hold_folder",
           "in_use", "partial_file", "remove", "replace_file", "scan", "scratch", "sweep",
           "sweep_beside", "sweep_breeding", "sweep_staging", "sweep_uploads"]
