"""A secret key kept in a file of the data folder (created once, readable by its owner)."""

from __future__ import annotations

import secrets
from pathlib import Path

from lanhai.store.leftovers import replace_file


def load_or_create(path: Path) -> bytes:
    """The key in ``path``; a new random one written there when there is none yet (or, in a
    read-only data folder, a key that lasts as long as the process)."""
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    key = secrets.token_hex(32).encode("ascii")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        replace_file(path, key, mode=0o600)
        return path.read_bytes().strip()
    except OSError:
        return key
