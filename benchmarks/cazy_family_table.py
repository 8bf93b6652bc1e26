"""Write the per-family support table of the shipped ``cazy`` pack as Markdown
(docs/cazy-families.md), from its manifest: members, organisms, threshold, training and
cross-validated recall and precision; then every family the data could not support, with why.

Run it from the repository root after rebuilding the pack::

    .venv/bin/python -m benchmarks.cazy_family_table > docs/cazy-families.md
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any, TextIO


def _cell(value: Any, digits: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def write_table(manifest_families: Mapping[str, Mapping[str, Any]], pack_version: str,
                held_out: Sequence[str], out: TextIO) -> None:
    """The Markdown document for one manifest's ``provenance.families``."""
    built = {u: r for u, r in manifest_families.items() if r.get("built")}
    missing = {u: r for u, r in manifest_families.items() if not r.get("built")}
    out.write(f"# CAZy families of the `cazy` pack (version {pack_version})\n\n")
    out.write("Generated from the pack's manifest by `python -m benchmarks.cazy_family_table`. "
              "Members are distinct labelled proteins (dbCAN hits of the training strains and "
              "dbCAN-PUL's characterised loci); organisms are the strains and organisms they "
              "come from. Cross-validated (CV) figures: 3 folds grouped by organism, each fold's "
              "proteins called by models rebuilt without them; recall = members found, "
              "precision = calls that were members. A dash: too few members in other folds "
              "to leave any out. Strains held out of the build: "
              f"{', '.join(held_out)}.\n\n")
    out.write(f"## Built ({len(built)})\n\n")
    out.write("| family | members | organisms | threshold (bits) | training recall | "
              "CV members | CV recall | CV precision |\n|---|---|---|---|---|---|---|---|\n")
    for unit, r in built.items():
        out.write(f"| {unit} | {r.get('members')} | {r.get('organisms')} | "
                  f"{_cell(r.get('threshold'), 1)} | {_cell(r.get('training_recall'))} | "
                  f"{_cell(r.get('cv_members'))} | {_cell(r.get('cv_recall'))} | "
                  f"{_cell(r.get('cv_precision'))} |\n")
    out.write(f"\n## Not built: too few labelled members ({len(missing)})\n\n")
    out.write("| family | members | organisms | why |\n|---|---|---|---|\n")
    for unit, r in missing.items():
        out.write(f"| {unit} | {r.get('members')} | {r.get('organisms')} | "
                  f"{r.get('reason') or ''} |\n")


def main() -> int:
    from lanhai.profiles.registry import builtin_pack

    pack = builtin_pack("cazy")
    write_table(pack.provenance["families"], pack.version,
                pack.provenance.get("held_out_strains", []), sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
