"""Files named by the SHA-256 of their bytes (trained models, chassis SBML, design
analyses): written atomically, read back only when the bytes still match the name."""

from __future__ import annotations

import hashlib
from pathlib import Path

from lanhai.store.leftovers import replace_file


def content_path(folder: Path, digest: str, suffix: str) -> Path:
    """Where the file with ``digest`` lives (``<folder>/<digest><suffix>``)."""
    return folder / f"{digest}{suffix}"


def write_content(folder: Path, data: bytes, suffix: str) -> str:
    """Write ``data`` under its SHA-256 unless a file of that name is there; the digest."""
    digest = hashlib.sha256(data).hexdigest()
    path = content_path(folder, digest, suffix)
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        replace_file(path, data)
    return digest


def read_content(folder: Path, digest: str, suffix: str) -> bytes | None:
    """The bytes named ``digest``, or None when the file is missing or does not match."""
    try:
        data = content_path(folder, digest, suffix).read_bytes()
    except FileNotFoundError:
        return None
    return data if hashlib.sha256(data).hexdigest() == digest else None


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read a megabyte at a time."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
