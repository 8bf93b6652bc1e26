"""`lanhai profiles …`: list, show, build, install and add profile packs (HMM sets)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from lanhai.cli.common import (
    emit,
    handles_errors,
    is_tty,
    json_option,
    progress_bar,
    settings,
)
from lanhai.profiles.pack import Pack
from lanhai.services.profiles import ProfileService


@click.group("profiles")
def profiles_group() -> None:
    """Profile packs (HMM sets) that annotation searches proteins against."""


def register(cli: click.Group) -> None:
    """Add `lanhai profiles` and its subcommands to ``cli``."""
    cli.add_command(profiles_group)


def _packs() -> ProfileService:
    """The packs of the bank LANHAI_DATA_DIR names (its database need not exist yet)."""
    return ProfileService.for_settings(settings())


def _cpus(jobs: int) -> int:
    return jobs if jobs > 0 else (os.cpu_count() or 1)


def _pack_json(pack: Pack, *, families: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": pack.name, "version": pack.version, "category": pack.category,
        "path": str(pack.path), "hmm_count": pack.hmm_count, "cutoff": pack.cutoff,
        "evalue": pack.evalue, "description": pack.description,
    }
    if families:
        built = pack.provenance.get("families") or {}
        body["families"] = [
            {"name": f.name, "accession": f.accession, "description": f.description,
             "substrates": list(f.substrates), "role": f.role,
             "threshold": pack.thresholds.get(f.name),
             "threshold_on": pack.threshold_on.get(f.name, "sequence")
             if f.name in pack.thresholds else None,
             "quality": _quality(built.get(f.name))}
            for f in pack.families.values()]
        body["unsupported"] = {name: record.get("reason") for name, record in built.items()
                               if isinstance(record, dict) and record.get("built") is False}
        body["provenance"] = dict(pack.provenance)
    return body


def _quality_text(quality: dict[str, Any] | None) -> str:
    """' (24 members; cross-validated recall 0.92, precision 0.96)'."""
    if not quality or "members" not in quality:
        return ""
    parts = [f"{quality['members']} members"]
    if quality.get("cv_recall") is not None:
        parts.append(f"cross-validated recall {quality['cv_recall']:.2f}"
                     + (f", precision {quality['cv_precision']:.2f}"
                        if quality.get("cv_precision") is not None else ""))
    return " (" + "; ".join(parts) + ")"


def _quality(record: Any) -> dict[str, Any] | None:
    """How well a built family is supported: members and cross-validated recall/precision."""
    if not isinstance(record, dict):
        return None
    keys = ("members", "organisms", "training_recall", "cv_members", "cv_recall",
            "cv_precision")
    found = {k: record[k] for k in keys if record.get(k) is not None}
    return found or None


@profiles_group.command("list")
@json_option
@handles_errors
def list_(as_json: bool) -> None:
    """Built-in and installed packs: name, version, category, HMM count, cut-off, source."""
    rows = _packs().list()

    def text() -> None:
        click.echo(f"{'name':<14} {'version':<9} {'category':<10} {'HMMs':>6}  "
                   f"{'cutoff':<11} source")
        for r in rows:
            click.echo(f"{r['name']:<14} {r['version']:<9} {r['category']:<10} "
                       f"{r['hmm_count']:>6}  {r['cutoff']:<11} {r['source']}")

    emit(rows, as_json, text)


@profiles_group.command("show")
@click.argument("name")
@json_option
@handles_errors
def show(name: str, as_json: bool) -> None:
    """One pack's families (substrates, roles, thresholds) and how it was made."""
    pack = _packs().get(name)
    body = _pack_json(pack, families=True)

    def text() -> None:
        click.echo(f"{pack.name} {pack.version} ({pack.category}, {pack.hmm_count} HMMs, "
                   f"cutoff {pack.cutoff}): {pack.description}")
        for fam in body["families"][:200]:
            extra = f" >= {fam['threshold']} bits" if fam["threshold"] is not None else ""
            subs = f" [{', '.join(fam['substrates'])}]" if fam["substrates"] else ""
            click.echo(f"  {fam['name']}{subs}{extra}{_quality_text(fam['quality'])} "
                       f"{fam['description'][:60]}")
        if len(body["families"]) > 200:
            click.echo(f"  … {len(body['families']) - 200} more (use --json)")
        if body["unsupported"]:
            click.echo(f"not built for lack of labelled members ({len(body['unsupported'])}): "
                       + ", ".join(body["unsupported"]))

    emit(body, as_json, text)


@profiles_group.command("build")
@click.argument("name", type=click.Choice(["cazy", "marine-cazy", "plastics", "sus"]))
@click.option("--data", "data", type=click.Path(file_okay=False, path_type=Path),
              default=Path("data"), show_default=True,
              help="Folder of the labelled public data (holds cazy/, plastics/, hmm/).")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder to write the pack folder into; default LANHAI_DATA_DIR/profiles "
                   "(where it takes the built-in pack's place). Use src/lanhai/profiles/data "
                   "to refresh the shipped pack.")
@click.option("--jobs", type=int, default=1, show_default=True,
              help="Threads for HMM searches (0 = all cores).")
@json_option
@handles_errors
def build(name: str, data: Path, out: Path | None, jobs: int, as_json: bool) -> None:
    """Rebuild a shipped pack reproducibly from labelled public data."""
    target = _packs().build_target(out)
    body: dict[str, Any]
    with progress_bar(is_tty() and not as_json, f"building {name}") as bar:
        if name == "cazy":
            from lanhai.profiles.build_cazy_general import build_general_cazy

            pack, units = build_general_cazy(data, target, cpus=_cpus(jobs), progress=bar)
            body = _pack_json(pack) | {
                "built": [u.unit for u in units if u.built],
                "not_built": {u.unit: u.reason for u in units if not u.built},
                "held_out_strains": pack.provenance["held_out_strains"]}
        elif name == "marine-cazy":
            from lanhai.profiles.build_cazy import build_marine_cazy

            pack, builds = build_marine_cazy(data, target, cpus=_cpus(jobs), progress=bar)
            body = _pack_json(pack) | {
                "built": [b.family for b in builds if b.built],
                "not_built": {b.family: b.reason for b in builds if not b.built},
                "held_out_strains": pack.provenance["held_out_strains"]}
        elif name == "plastics":
            from lanhai.profiles.build_plastics import build_plastics

            pack, _records = build_plastics(data, target, cpus=_cpus(jobs), progress=bar)
            body = _pack_json(pack) | {
                "held_out_enzymes": len(pack.provenance["held_out_enzymes"])}
        else:
            from lanhai.profiles.build_sus import build_sus

            pack = build_sus(data, target)
            body = _pack_json(pack)

    def text() -> None:
        click.echo(f"built {pack.name}: {pack.hmm_count} HMMs in {pack.path.parent}")
        for family, reason in body.get("not_built", {}).items():
            click.echo(f"  not built {family}: {reason}", err=True)

    emit(body, as_json, text)


@profiles_group.command("install")
@click.argument("database", type=click.Choice(["pfam", "dbcan", "kofam"]))
@click.option("--url", default=None, help="Download from this URL instead of the official one "
                                          "(a mirror; the published md5 is then not used).")
@click.option("--sha256", default=None, help="Expected SHA-256 of the downloaded file.")
@click.option("--ko-list-url", default=None, help="kofam: URL of ko_list(.gz).")
@click.option("--name", "pack_name", default=None, help="Pack name (default: the database).")
@click.option("--no-press", is_flag=True, help="Keep HMMER3 text instead of pressing.")
@click.option("--replace", is_flag=True, help="Replace an installed pack of that name.")
@json_option
@handles_errors
def install(database: str, url: str | None, sha256: str | None, ko_list_url: str | None,
            pack_name: str | None, no_press: bool, replace: bool, as_json: bool) -> None:
    """Download, verify, press and register a full public database (Pfam-A, dbCAN, KOfam).

    Interrupted downloads resume when the command is run again."""
    if sha256 is not None and (len(sha256) != 64
                               or any(c not in "0123456789abcdefABCDEF" for c in sha256)):
        raise click.UsageError("--sha256 must be 64 hexadecimal digits")
    with progress_bar(is_tty() and not as_json, f"installing {database}") as bar:
        pack = _packs().install(database, url=url, sha256=sha256, extra_url=ko_list_url,
                                press=not no_press, replace=replace, pack_name=pack_name,
                                progress=bar)
    emit(_pack_json(pack) | {"checksum": pack.provenance.get("checksum")}, as_json,
         f"installed {pack.name}: {pack.hmm_count} HMMs ({pack.path})")


@profiles_group.command("add")
@click.argument("name")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--category", default="custom", show_default=True,
              type=click.Choice(["families", "cazy", "plastics", "pul", "orthology", "custom"]),
              help="What the families mean to annotation (cazy: marine substrates added).")
@click.option("--description", default="", help="One line about the pack.")
@click.option("--replace", is_flag=True, help="Replace an installed pack of that name.")
@json_option
@handles_errors
def add(name: str, file: Path, category: str, description: str, replace: bool,
        as_json: bool) -> None:
    """Register your own HMM file (HMMER3 text, gzip or pressed) as a pack."""
    pack = _packs().add(name, file, category=category, description=description,
                        replace=replace)
    emit(_pack_json(pack), as_json,
         f"added {pack.name}: {pack.hmm_count} HMMs, cutoff {pack.cutoff}")
