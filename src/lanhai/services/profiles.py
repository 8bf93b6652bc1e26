"""Profile packs (HMM sets) of a bank: the built-in ones and those installed, built or added
into its data folder. Managing packs is done on the bank's own machine (the command line)."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from lanhai.profiles import registry
from lanhai.profiles.pack import Pack
from lanhai.settings import Settings
from lanhai.store.layout import Layout

Progress = Callable[[int, int, str], None]


class ProfileService:
    """The packs available to one bank (``root`` is where it keeps its own)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def for_settings(cls, settings: Settings) -> ProfileService:
        """The packs of the bank ``settings`` name (its database need not exist)."""
        return cls(Layout(settings.data_dir).profiles)

    def list(self) -> builtins.list[dict[str, Any]]:
        """One summary row per available pack (built-in first)."""
        return registry.list_packs(self.root)

    def get(self, name: str) -> Pack:
        return registry.load_pack(self.root, name)

    def load(self, names: Sequence[str] | None = None) -> builtins.list[Pack]:
        """The packs named (every available one when None), in the order given."""
        return registry.load_packs(self.root, names)

    def install(self, database: str, *, url: str | None = None, sha256: str | None = None,
                extra_url: str | None = None, press: bool = True, replace: bool = False,
                pack_name: str | None = None, progress: Progress | None = None) -> Pack:
        """Download, verify, press and register a public database (Pfam-A, dbCAN, KOfam)."""
        from lanhai.profiles.install import install

        return install(self.root, database, url=url, sha256=sha256, extra_url=extra_url,
                       press=press, replace=replace, pack_name=pack_name, progress=progress)

    def add(self, name: str, hmm_file: Path, *, category: str = "custom",
            description: str = "", replace: bool = False) -> Pack:
        """Register a user's own HMM file as a pack."""
        return registry.add_pack(self.root, name, hmm_file, category=category,
                                 description=description, replace=replace)

    def build_target(self, out: Path | None) -> Path:
        """Where ``lanhai profiles build`` writes: ``out``, else the bank's own packs (where a
        rebuilt pack takes the built-in pack's place)."""
        return out if out is not None else self.root
