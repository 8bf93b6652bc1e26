"""Uploaded files: ``LANHAI_DATA_DIR/uploads/<id>/`` holds a request's file(s) and
``upload.json`` (owner, what it is for, the file's name). An upload a request or a job is
using is *held*: its folder is locked (:mod:`lanhai.store.leftovers`) until the request or
job lets it go, so one whose process died is removed at once; an upload waiting for a second
step (a table checked by a dry run, then committed) is not held and is removed a day after it
arrived. Both are cleaned when the next upload arrives (and by ``lanhai clean``)."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import time
from pathlib import Path
from typing import Any

from lanhai.model import Upload
from lanhai.store import leftovers

_ID = re.compile(r"^[0-9a-f]{32}$")
META = "upload.json"
#: uploads waiting longer than this (seconds) are removed
MAX_AGE = leftovers.UPLOAD_MAX_AGE


def safe_name(filename: str | None, default: str = "upload.csv") -> str:
    """The base name of an uploaded file, safe as a file name (its suffix says the format)."""
    name = Path((filename or "").replace("\\", "/")).name
    name = re.sub(r"[^\w.\- ]+", "_", name).strip(". ") or default
    if name == META:
        name = "upload-table.json"
    return name[-120:]


class UploadStore:
    """The waiting uploads of one bank."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        #: the uploads this process holds, by id
        self._held: dict[str, leftovers.Hold] = {}

    def new(self, filename: str | None, meta: dict[str, Any], *, hold: bool = False
            ) -> Upload:
        """A fresh upload folder; the caller writes the file to ``upload.path``. With
        ``hold`` this process keeps it locked until :meth:`remove` (a request or a job is
        using it); without, it waits for a commit, at most a day."""
        self.clean()
        upload_id = secrets.token_hex(16)
        folder = self.root / upload_id
        lock = leftovers.hold_folder(folder)
        path = folder / safe_name(filename)
        record = {**meta, "file": path.name, "created": time.time(), "held": hold,
                  "host": socket.gethostname(), "pid": os.getpid()}
        try:
            (folder / META).write_text(json.dumps(record), "utf-8")
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            lock.release()
            raise
        if hold:
            self._held[upload_id] = lock
        else:
            lock.release()
        return Upload(upload_id, path, record)

    def get(self, upload_id: str) -> Upload | None:
        """The waiting upload with this id, or None (unknown, malformed id, or gone)."""
        if not _ID.match(upload_id or ""):
            return None
        folder = self.root / upload_id
        try:
            meta = json.loads((folder / META).read_text("utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        return Upload(upload_id, folder / str(meta.get("file", "")), meta)

    def update(self, upload_id: str, changes: dict[str, Any]) -> None:
        """Add ``changes`` to a waiting upload's description (written whole, then renamed)."""
        upload = self.get(upload_id)
        if upload is None:
            return
        folder = self.root / upload_id
        partial = folder / (META + ".partial")
        partial.write_text(json.dumps({**upload.meta, **changes}), "utf-8")
        os.replace(partial, folder / META)

    def remove(self, upload_id: str) -> None:
        if _ID.match(upload_id or ""):
            shutil.rmtree(self.root / upload_id, ignore_errors=True)
            lock = self._held.pop(upload_id, None)
            if lock is not None:
                lock.release()

    def clean(self) -> None:
        """Remove uploads whose request or job stopped, and those older than
        :data:`MAX_AGE` that nobody holds."""
        leftovers.sweep_uploads(self.root)
