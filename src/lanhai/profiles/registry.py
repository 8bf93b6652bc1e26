"""Which profile packs exist: the ones shipped in the package and the ones under
``LANHAI_DATA_DIR/profiles/<name>/`` (installed, built or added by the user).

A pack folder holds an HMM file and a ``pack.json`` manifest (see :func:`write_manifest`),
written in a hidden ``.staging-<name>-<id>`` folder that its writer locks (``flock``) while it
writes and renames into place (:func:`staging`). Built-in packs:

* ``pfam-gecco`` — the 2,766 Pfam 35 HMMs shipped in the gecco wheel (``gecco/hmmer/Pfam.h3m``),
  searched with their gathering (GA) cut-offs; the file is used where it is, not copied;
* ``cazy`` — CAZy families and subfamilies (GH, GT, PL, CE, AA, CBM) built by ``lanhai profiles
  build cazy`` from labelled public data, with per-family quality figures;
* ``marine-cazy`` — marine CAZyme families built by ``lanhai profiles build marine-cazy``;
* ``plastics`` — plastic-degrading enzymes built by ``lanhai profiles build plastics``;
* ``sus`` — the 8 SusC/SusD Pfam HMMs (GA cut-offs) used to find PUL signatures.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import functools
import json
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any, cast, get_args

from lanhai.errors import Conflict, Problem, UsageError, ValidationFailed
from lanhai.profiles.pack import Category, Cutoff, Family, Pack
from lanhai.profiles.substrates import family_of, substrates_of
from lanhai.profiles.substrates import table as substrate_table

#: format version of pack.json
MANIFEST_FORMAT = 1
MANIFEST = "pack.json"
BUILTIN = ("pfam-gecco", "cazy", "marine-cazy", "plastics", "sus")
CATEGORIES: tuple[str, ...] = get_args(Category)
CUTOFFS: tuple[str, ...] = get_args(Cutoff)
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")


def builtin_dir() -> Path:
    """The folder of the packs shipped in the package."""
    return Path(str(files("lanhai.profiles") / "data"))


def marine_substrates() -> dict[str, tuple[str, ...]]:
    """CAZy family -> marine substrates: the ``[marine]`` section of ``cazy_substrates.toml``,
    the families the marine-cazy pack is built from."""
    return dict(substrate_table().marine)


def cazy_substrates() -> dict[str, tuple[str, ...]]:
    """CAZy family or subfamily -> substrates: the general table (``cazy_substrates.toml``)."""
    return dict(substrate_table().families)


def cazy_family(name: str) -> str | None:
    """The CAZy (or SulfAtlas S) family of an HMM name: ``GH16_3.hmm`` -> ``GH16``."""
    return family_of(name)


def substrates_for(name: str) -> tuple[str, ...]:
    """The substrates of an HMM name from the general table, its subfamily's entry first
    (``GH16_3.hmm`` -> laminarin, beta-glucan), else its family's."""
    return substrates_of(name)


# -- manifests ----------------------------------------------------------------------------------

def pack_to_manifest(pack: Pack, hmm_file: str) -> dict[str, Any]:
    """The ``pack.json`` content of a pack whose HMM file is ``hmm_file`` (relative name)."""
    return {
        "format": MANIFEST_FORMAT, "name": pack.name, "version": pack.version,
        "category": pack.category, "description": pack.description, "hmm": hmm_file,
        "hmm_count": pack.hmm_count, "cutoff": pack.cutoff, "evalue": pack.evalue,
        "thresholds": dict(pack.thresholds), "threshold_on": dict(pack.threshold_on),
        "families": {name: {"accession": fam.accession, "description": fam.description,
                            "substrates": list(fam.substrates), "role": fam.role}
                     for name, fam in pack.families.items()},
        "provenance": dict(pack.provenance),
    }


def write_manifest(folder: Path, manifest: Mapping[str, Any]) -> None:
    tmp = folder / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=1, ensure_ascii=False, sort_keys=False) + "\n",
                   encoding="utf-8")
    tmp.replace(folder / MANIFEST)


def read_manifest(folder: Path) -> Pack:
    """The pack described by ``folder/pack.json``; clear errors for a broken manifest."""
    path = folder / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ValidationFailed(f"profile pack manifest {path} is unreadable", [Problem(
            str(err), file=str(path),
            fix="reinstall the pack (lanhai profiles install/add/build) or delete its folder")
        ]) from None
    problems = []
    for key in ("name", "version", "category", "hmm", "cutoff"):
        if key not in data:
            problems.append(Problem("required key missing", field=key, file=str(path)))
    if not problems and data["category"] not in CATEGORIES:
        problems.append(Problem(f"unknown category; valid: {', '.join(CATEGORIES)}",
                                field="category", value=str(data["category"]), file=str(path)))
    if not problems and data["cutoff"] not in CUTOFFS:
        problems.append(Problem(f"unknown cutoff; valid: {', '.join(CUTOFFS)}",
                                field="cutoff", value=str(data["cutoff"]), file=str(path)))
    if problems:
        raise ValidationFailed(f"profile pack manifest {path} is invalid", problems)
    hmm_path = Path(data["hmm"])
    if not hmm_path.is_absolute():
        hmm_path = folder / hmm_path
    families = {
        name: Family(name=name, accession=fam.get("accession"),
                     description=fam.get("description") or "",
                     substrates=tuple(fam.get("substrates") or ()), role=fam.get("role"))
        for name, fam in (data.get("families") or {}).items()
    }
    pack = Pack(
        name=data["name"], version=str(data["version"]),
        category=cast(Category, data["category"]), path=hmm_path,
        cutoff=cast(Cutoff, data["cutoff"]), evalue=float(data.get("evalue", 1e-5)),
        thresholds={k: float(v) for k, v in (data.get("thresholds") or {}).items()},
        families=families, description=data.get("description", ""),
        provenance=data.get("provenance") or {}, hmm_count=int(data.get("hmm_count", 0)),
        threshold_on=dict(data.get("threshold_on") or {}))
    return with_cazy_substrates(pack)


def with_cazy_substrates(pack: Pack) -> Pack:
    """For a "cazy" pack, fill each family's substrates from the general table (subfamily
    first) when its manifest leaves them empty."""
    if pack.category != "cazy":
        return pack
    families = {
        name: fam if fam.substrates else Family(
            fam.name, fam.accession, fam.description, substrates_for(name), fam.role)
        for name, fam in pack.families.items()
    }
    return dataclasses.replace(pack, families=families)


# -- built-in packs ------------------------------------------------------------------------------

def _gecco_pfam() -> tuple[Path, Path]:
    try:
        import gecco.hmmer
    except ImportError:  # pragma: no cover - gecco is a dependency
        raise UsageError("pack pfam-gecco needs the gecco package", [Problem(
            "gecco is not installed", fix="pip install gecco-tool")]) from None
    folder = Path(str(files(gecco.hmmer)))
    return folder / "Pfam.h3m", folder / "Pfam.ini"


@functools.lru_cache(maxsize=1)
def _pfam_gecco() -> Pack:
    import configparser

    from lanhai.profiles.hmmtools import read_hmms

    hmm_path, ini_path = _gecco_pfam()
    ini = configparser.ConfigParser()
    ini.read(ini_path)
    meta = ini["hmm"]
    hmms = read_hmms(hmm_path)
    families = {str(h.name): Family(str(h.name), h.accession and str(h.accession),
                                    str(h.description or "")) for h in hmms}
    missing_ga = sorted(str(h.name) for h in hmms if not h.cutoffs.gathering_available())
    return Pack(
        name="pfam-gecco", version=meta.get("version", "35.0"), category="families",
        path=hmm_path, cutoff="gathering", evalue=1e-5, families=families,
        description=("Pfam 35.0 subset shipped in the gecco wheel (the domains GECCO uses "
                     "for biosynthetic gene clusters), searched with their GA cut-offs"),
        provenance={"source": meta.get("url", ""), "md5_of_full_release": meta.get("md5", ""),
                    "file": str(hmm_path), "hmms_without_gathering": missing_ga,
                    "licence": "Pfam: CC0"},
        hmm_count=len(hmms))


def builtin_pack(name: str) -> Pack:
    if name == "pfam-gecco":
        return _pfam_gecco()
    return read_manifest(builtin_dir() / name)


# -- listing and loading ---------------------------------------------------------------------------

def installed_names(root: Path) -> list[str]:
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir()
                  if p.is_dir() and not p.name.startswith(".") and (p / MANIFEST).is_file())


def available_names(root: Path) -> list[str]:
    return list(BUILTIN) + [n for n in installed_names(root) if n not in BUILTIN]


def load_pack(root: Path, name: str) -> Pack:
    """One pack by name. A pack built into ``LANHAI_DATA_DIR/profiles/<name>`` with a built-in
    pack's name (``lanhai profiles build marine-cazy``) takes that built-in pack's place."""
    folder = root / name
    if name in BUILTIN and not (folder / MANIFEST).is_file():
        return builtin_pack(name)
    if not (folder / MANIFEST).is_file():
        raise UsageError(f"unknown profile pack {name!r}", [Problem(
            f"available packs: {', '.join(available_names(root))}", value=name,
            field="pack", fix="use one of them, or install/add/build it first "
                              "(lanhai profiles install|add|build)")])
    return read_manifest(folder)


def load_packs(root: Path, names: Sequence[str] | None = None) -> list[Pack]:
    """The packs named (all available ones when ``names`` is None), in the order given.

    Unknown names raise :class:`UsageError` listing the available packs.
    """
    wanted = list(names) if names is not None else available_names(root)
    unknown = [n for n in wanted if n not in BUILTIN
               and not (root / n / MANIFEST).is_file()]
    if unknown:
        raise UsageError(
            f"unknown profile pack{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}",
            [Problem(f"available packs: {', '.join(available_names(root))}", value=n,
                     field="pack", fix="use an available pack, or install/add/build it first "
                                       "(lanhai profiles install|add|build)")
             for n in unknown])
    return [load_pack(root, n) for n in wanted]


def pack_summary(pack: Pack, *, builtin: bool | str) -> dict[str, Any]:
    return {"name": pack.name, "version": pack.version, "category": pack.category,
            "hmm_count": pack.hmm_count, "cutoff": pack.cutoff, "evalue": pack.evalue,
            "source": builtin if isinstance(builtin, str) else
            ("built-in" if builtin else "installed"), "path": str(pack.path),
            "origin": str(pack.provenance.get("source", "")),
            "description": pack.description}


def list_packs(root: Path) -> list[dict[str, Any]]:
    """One summary row per available pack (built-in first), for display."""
    installed = set(installed_names(root))
    return [pack_summary(load_pack(root, n), builtin=(
        "installed (replaces built-in)" if n in BUILTIN and n in installed else n in BUILTIN))
        for n in available_names(root)]


# -- registering a pack folder atomically -------------------------------------------------------

def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise UsageError(f"invalid pack name {name!r}", [Problem(
            "a pack name is 1-63 lower-case letters, digits, '.', '_' or '-', starting with a "
            "letter or digit", value=name, field="name", fix="choose a name like 'my-gh16'")])
    if name in BUILTIN:
        raise Conflict(f"{name!r} is a built-in pack", [Problem(
            "built-in pack names cannot be reused", value=name, field="name",
            fix="choose another name")])
    return name


@contextlib.contextmanager
def held_folder(path: Path, *, exist_ok: bool = False) -> Iterator[Path]:
    """Create the folder ``path`` and hold an exclusive ``flock`` on it while the block runs,
    so that it is never taken for what a dead run left (the lock protocol of
    ``lanhai.store.leftovers``: a cleaner removes only what nobody holds). With ``exist_ok``
    the folder may exist already; another writer holding it is waited for."""
    def make() -> int:
        while True:
            path.mkdir(parents=True, exist_ok=exist_ok)
            try:
                return os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue  # removed as a leftover in between: make it again

    fd = locked_open(path, make)
    try:
        yield path
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def locked_open(path: Path, open_path: Callable[[], int]) -> int:
    """Open ``path`` (``open_path``) and hold an exclusive ``flock`` on it, opening it again
    until the locked file is still the one at ``path`` (its holder may remove it between our
    open and our lock). On a file system that cannot lock, the file is returned unlocked:
    the writer goes on and its final rename decides."""
    while True:
        fd = open_path()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:
            return fd
        if same_file(fd, path):
            return fd
        os.close(fd)


def same_file(fd: int, path: Path) -> bool:
    """Whether the open file ``fd`` is still the one at ``path`` (not removed or replaced)."""
    try:
        named = os.stat(path)
    except OSError:
        return False
    opened = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (opened.st_dev, opened.st_ino)


@contextlib.contextmanager
def staging(root: Path, name: str, *, replace: bool = False) -> Iterator[Path]:
    """A fresh hidden folder in ``root``, locked while the block writes a pack into it and
    renamed to ``root/<name>`` when the block ends without an error (replacing an existing
    pack only if asked); removed otherwise."""
    root.mkdir(parents=True, exist_ok=True)
    _sweep(root, name)
    folder = root / f".staging-{name}-{uuid.uuid4().hex[:12]}"
    with held_folder(folder):
        try:
            yield folder
            _commit(root, folder, name, replace=replace)
        finally:
            if folder.exists():
                shutil.rmtree(folder, ignore_errors=True)


def _sweep(root: Path, name: str) -> None:
    """Remove the staging folders of earlier writes of pack ``name`` whose writer died (no
    one holds their lock), and the packs they had moved aside once the pack is in place."""
    for kind in (".staging-", ".old-"):
        for path in root.glob(f"{kind}{name}-*"):
            if path.name[len(kind):].rsplit("-", 1)[0] != name:
                continue  # another pack whose name starts with this one
            pair = root / (".staging-" + path.name[len(kind):])
            if kind == ".old-" and (pair.exists() or not (root / name).exists()):
                continue  # a replace under way, or stopped half-way: `lanhai clean` decides
            try:
                fd = os.open(path, os.O_RDONLY)
            except OSError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                if same_file(fd, path):
                    shutil.rmtree(path, ignore_errors=True)
            except OSError:
                pass  # a live writer holds it
            finally:
                os.close(fd)


def _commit(root: Path, staging: Path, name: str, *, replace: bool = False) -> Path:
    """Rename a complete staging folder to ``root/<name>`` (replacing only if asked; the
    replaced pack waits in ``.old-<name>-<id>``, the staging folder's id, until it is
    removed)."""
    target = root / name
    if target.exists():
        if not replace:
            raise Conflict(f"profile pack {name!r} is already installed", [Problem(
                "a pack with this name exists", value=name, field="name",
                fix="pass --replace to replace it, or choose another name")])
        old = root / (".old-" + staging.name.removeprefix(".staging-"))
        target.rename(old)
        staging.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        staging.rename(target)
    return target


def write_pack(root: Path, pack: Pack, hmms: Sequence[Any], *, compress: bool = True,
               replace: bool = True) -> Path:
    """Write a pack's HMMs (text, gzip'ed when ``compress``) and manifest to ``root/<name>``,
    through a staging folder renamed into place; returns the pack folder."""
    from lanhai.profiles.hmmtools import write_hmms

    with staging(root, pack.name, replace=replace) as folder:
        write_hmms(hmms, folder / pack.path.name, compress=compress)
        write_manifest(folder, pack_to_manifest(pack, pack.path.name))
    return root / pack.name


def add_pack(root: Path, name: str, hmm_file: Path, *, category: str = "custom",
             description: str = "", replace: bool = False) -> Pack:
    """Register a user's own HMM file as pack ``name`` (validated, copied, atomic)."""
    from lanhai.profiles.hmmtools import read_hmms

    check_name(name)
    if category not in CATEGORIES:
        raise UsageError(f"unknown category {category!r}", [Problem(
            f"valid categories: {', '.join(CATEGORIES)}", value=category, field="category")])
    if not hmm_file.is_file():
        raise UsageError(f"no such file: {hmm_file}", [Problem(
            "the HMM file does not exist", file=str(hmm_file), fix="check the path")])
    hmms = read_hmms(hmm_file)
    names = [str(h.name) for h in hmms]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValidationFailed(f"{hmm_file} has HMMs with the same name", [Problem(
            "HMM names must be unique within a pack", value=d, file=str(hmm_file),
            fix="rename the duplicates (NAME line)") for d in dupes])
    all_ga = all(h.cutoffs.gathering_available() for h in hmms)
    with staging(root, name, replace=replace) as folder:
        target_name = hmm_file.name
        shutil.copyfile(hmm_file, folder / target_name)
        pack = Pack(
            name=name, version="1", category=cast(Category, category),
            path=folder / target_name, cutoff="gathering" if all_ga else "evalue",
            evalue=1e-5,
            families={str(h.name): Family(str(h.name), h.accession and str(h.accession),
                                          str(h.description or "")) for h in hmms},
            description=description or f"user HMMs from {hmm_file.name}",
            provenance={"source": str(hmm_file.resolve()), "added_by": "lanhai profiles add",
                        "cutoff_reason": "every HMM has GA lines" if all_ga else
                        "not every HMM has GA lines: E-value cut-off"},
            hmm_count=len(hmms))
        write_manifest(folder, pack_to_manifest(pack, target_name))
    return load_pack(root, name)
