"""Writing a request's uploaded file where a service gave room for it: in chunks, never all
in memory, off the event loop. The one place the API and the pages save uploads."""

from __future__ import annotations

import shutil
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from lanhai.errors import writing

_CHUNK = 1 << 20


def _copy(upload: UploadFile, path: Path) -> None:
    upload.file.seek(0)
    with writing(f"the uploaded file {base_name(upload.filename)!r} under {path.parent}",
                 "nothing was written"):
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as out:
            shutil.copyfileobj(upload.file, out, _CHUNK)


async def save_upload(upload: UploadFile, path: Path) -> None:
    """Copy ``upload`` to ``path``."""
    await run_in_threadpool(_copy, upload, path)


def base_name(filename: str | None) -> str:
    """An upload's file name without any folder the browser sent (for reports)."""
    return Path((filename or "").replace("\\", "/")).name[-120:]
