"""A secret key kept in a file of the data folder (created once, readable by its owner)."""

from __future__ import annotations

import contextlib
import os
import secrets
import uuid
from pathlib import Path


def load_or_create(path: Path) -> bytes:
    """The key in ``path``; a new random one written there when there is none yet (or, in a
    read-only data folder, a key that lasts as long as the process).

    Several servers starting at once on one data folder agree on one key: a new key is
    written whole to a file of its own and then linked to ``path``, which fails if another
    process linked its key first; everyone then reads the key that won."""
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    key = secrets.token_hex(32).encode("ascii")
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(key + b"\n")
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileExistsError):  # another process's key came first
            os.link(partial, path)
        return path.read_bytes().strip()
    except OSError:
        return key
    finally:
        with contextlib.suppress(OSError):
            partial.unlink()
