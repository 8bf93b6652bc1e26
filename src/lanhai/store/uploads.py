"""Uploaded files: ``LANHAI_DATA_DIR/uploads/<id>/`` holds a request's file(s) and
``upload.json`` (owner, what it is for, the file's name). An upload lives as long as the
request that sent it, or waits for a second step (a table checked by a dry run, then
committed); uploads older than a day (a server killed mid-request, a check never committed)
are removed when the next one arrives."""

from __future__ import annotations

import json
import re
import secrets
import shutil
import time
from pathlib import Path
from typing import Any

from lanhai.model import Upload

_ID = re.compile(r"^[0-9a-f]{32}$")
META = "upload.json"
#: uploads waiting longer than this (seconds) are removed
MAX_AGE = 86400


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

    def new(self, filename: str | None, meta: dict[str, Any]) -> Upload:
        """A fresh upload folder; the caller writes the file to ``upload.path``."""
        self.clean()
        upload_id = secrets.token_hex(16)
        folder = self.root / upload_id
        folder.mkdir(parents=True)
        path = folder / safe_name(filename)
        record = {**meta, "file": path.name, "created": time.time()}
        (folder / META).write_text(json.dumps(record), "utf-8")
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

    def remove(self, upload_id: str) -> None:
        if _ID.match(upload_id or ""):
            shutil.rmtree(self.root / upload_id, ignore_errors=True)

    def clean(self) -> None:
        """Remove uploads older than :data:`MAX_AGE`."""
        if not self.root.is_dir():
            return
        for child in self.root.iterdir():
            try:
                if time.time() - child.stat().st_mtime > MAX_AGE:
                    shutil.rmtree(child, ignore_errors=True)
            except OSError:
                continue
