"""Install full public HMM[Any] databases as packs: ``lanhai profiles install pfam|dbcan|kofam``.

Each install downloads from the official address (resumable: the partial file is kept as
``<file>.part`` under ``LANHAI_DATA_DIR/profiles/.downloads/`` and continued with an HTTP
``Range`` request), verifies it (the md5 the provider publishes, or ``--sha256`` given by the
user; otherwise the SHA-256 is computed and recorded), unpacks and validates every HMM[Any], presses
them with ``pyhmmer.hmmer.hmmpress`` (or keeps text) into a staging folder, and renames that
folder to ``profiles/<name>`` only when everything succeeded: a failed install registers
nothing. A pack kept as text is pressed into the bank's cache of pressed profiles
(:mod:`lanhai.profiles.pressed`) right after, so that annotation searches pressed profiles
from its first use. An install holds a lock on its downloads folder from start to end, so
two installs of one pack take turns and ``lanhai clean`` removes only the downloads of
installs that stopped.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.client
import shutil
import tarfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, BinaryIO, cast

import pyhmmer
from pyhmmer.plan7 import HMM, HMMFile

from lanhai.errors import LanhaiError, Problem, UsageError, ValidationFailed
from lanhai.profiles import pressed
from lanhai.profiles.pack import Category, Cutoff, Family, Pack
from lanhai.profiles.registry import (
    check_name,
    held_folder,
    load_pack,
    pack_to_manifest,
    staging,
    with_cazy_substrates,
    write_manifest,
)

Progress = Callable[[int, int, str], None]
CHUNK = 1 << 20


class DownloadFailed(LanhaiError):
    """A download could not be completed (network, server); rerunning resumes it."""

    code = "download_failed"
    http_status = 502


@dataclass(frozen=True)
class Source:
    """Where a public database lives and how to turn it into a pack."""

    name: str
    category: str
    url: str
    description: str
    cutoff: str
    evalue: float = 1e-5
    #: a file listing "<md5>  <file name>" published next to the data, if any
    md5_list_url: str | None = None
    #: second file (KOfam's ko_list.gz)
    extra_url: str | None = None
    licence: str = ""


SOURCES: dict[str, Source] = {
    "pfam": Source(
        "pfam", "families",
        "https://ftp.ebi.ac.uk/pub/databases/Pfam/current_release/Pfam-A.hmm.gz",
        "Pfam-A, current release (EBI), searched with its gathering (GA) cut-offs",
        "gathering",
        md5_list_url="https://ftp.ebi.ac.uk/pub/databases/Pfam/current_release/md5_checksums",
        licence="CC0"),
    "dbcan": Source(
        "dbcan", "cazy",
        "https://bcb.unl.edu/dbCAN2/download/Databases/V13/dbCAN-HMMdb-V13.txt",
        "dbCAN HMMdb V13 (all CAZy families and subfamilies); dbCAN's recommended "
        "E-value < 1e-15 (also filter by coverage > 0.35); marine substrates from the shipped "
        "table", "evalue", evalue=1e-15, licence="free for academic use (dbCAN)"),
    "kofam": Source(
        "kofam", "orthology", "https://www.genome.jp/ftp/db/kofam/profiles.tar.gz",
        "KOfam (KEGG Orthology HMMs, GenomeNet) with the per-KO adaptive thresholds of "
        "ko_list (score_type full: sequence score, domain: domain score)", "calibrated",
        extra_url="https://www.genome.jp/ftp/db/kofam/ko_list.gz",
        licence="KEGG/GenomeNet terms of use"),
}


# -- downloading -------------------------------------------------------------------------------

def download(url: str, dest: Path, *, progress: Progress | None = None,
             timeout: float = 60.0) -> Path:
    """Fetch ``url`` to ``dest``, resuming from ``dest.part`` with an HTTP Range request.

    An interrupted transfer leaves ``dest.part`` and raises :class:`DownloadFailed`;
    calling again continues where it stopped. ``file://`` URLs are read directly.
    """
    report = progress or (lambda done, total, what: None)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    if dest.exists():
        return dest
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "lanhai-profiles"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as err:
        if err.code == 416 and have:  # the part file is already complete
            part.rename(dest)
            return dest
        raise DownloadFailed(f"download of {url} failed: HTTP {err.code} {err.reason}", [
            Problem("the server refused the request", value=url,
                    fix="check the URL (or --url), then rerun")]) from None
    except (urllib.error.URLError, OSError) as err:
        raise DownloadFailed(f"download of {url} failed: {err}", [Problem(
            "could not connect", value=url,
            fix="check the network or proxy, then rerun; a partial download resumes")]) from None
    with response:
        status = getattr(response, "status", 200)
        if have and status != 206:
            have = 0  # server ignored Range: start again
        length = response.headers.get("Content-Length")
        total = have + int(length) if length is not None else 0
        done = have
        try:
            with part.open("ab" if have else "wb") as out:
                while True:
                    chunk = response.read(CHUNK)
                    if not chunk:
                        break
                    out.write(chunk)
                    done += len(chunk)
                    report(done, total, dest.name)
        except (OSError, ValueError, http.client.HTTPException) as err:
            raise DownloadFailed(f"download of {url} was interrupted at {done:,} bytes", [
                Problem(str(err) or type(err).__name__, value=url,
                        fix="rerun the same command: it resumes from the partial file")
            ]) from None
    if total and done < total:
        raise DownloadFailed(f"download of {url} was interrupted at {done:,} of {total:,} "
                             "bytes", [Problem("the connection closed early", value=url,
                                               fix="rerun the same command: it resumes "
                                                   "from the partial file")])
    part.rename(dest)
    return dest


def file_digest(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def published_md5(list_url: str, file_name: str, *, timeout: float = 60.0) -> str:
    """The md5 a provider publishes for ``file_name`` in a ``md5sum``-style list."""
    try:
        with urllib.request.urlopen(list_url, timeout=timeout) as response:
            text = response.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as err:
        raise DownloadFailed(f"could not read the published checksums {list_url}: {err}", [
            Problem("the checksum list is unreachable", value=list_url,
                    fix="rerun later, or give the file's SHA-256 with --sha256")]) from None
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[-1].lstrip("*").rsplit("/", 1)[-1] == file_name:
            return str(parts[0]).lower()
    raise ValidationFailed(f"{list_url} lists no checksum for {file_name}", [Problem(
        "file missing from the checksum list", value=file_name,
        fix="give the file's SHA-256 with --sha256")])


def verify(path: Path, *, sha256: str | None, md5: str | None) -> dict[str, str]:
    """Check ``path`` against the expected digest; delete it and raise on a mismatch."""
    if sha256:
        kind, expected = "sha256", sha256.lower()
    elif md5:
        kind, expected = "md5", md5
    else:
        return {"sha256": file_digest(path, "sha256"), "verified": "no checksum published; "
                "SHA-256 recorded"}
    actual = file_digest(path, kind)
    if actual != expected:
        path.unlink(missing_ok=True)
        raise ValidationFailed(f"checksum mismatch for {path.name}: nothing was installed", [
            Problem(f"expected {kind} {expected}, got {actual}", value=path.name, field=kind,
                    fix="the download was corrupt or the file changed upstream; rerun to "
                        "download it again, or check the --sha256 value")])
    return {kind: actual, "verified": f"{kind} matches " + ("--sha256" if sha256 else
                                                            "the published checksum")}


# -- unpacking -----------------------------------------------------------------------------------

def _hmms_in_text(stream: BinaryIO, label: str) -> Iterator[HMM[Any]]:
    try:
        with HMMFile(stream) as hmm_file:
            yield from hmm_file
    except (ValueError, EOFError) as err:
        raise ValidationFailed(f"{label} is not a valid HMMER3 file", [Problem(
            str(err), file=label, fix="the download may be corrupt: delete it and rerun")
        ]) from None


def _iter_source_hmms(name: str, path: Path) -> Iterator[HMM[Any]]:
    if name == "kofam":
        try:
            with tarfile.open(path, "r:*") as archive:
                members = sorted((m for m in archive.getmembers()
                                  if m.isfile() and m.name.endswith(".hmm")),
                                 key=lambda m: m.name)
                if not members:
                    raise ValidationFailed(f"{path.name} holds no .hmm file", [Problem(
                        "empty profile archive", file=path.name,
                        fix="check the URL; KOfam's is profiles.tar.gz")])
                for member in members:
                    handle = archive.extractfile(member)
                    if handle is not None:
                        yield from _hmms_in_text(cast(BinaryIO, handle), member.name)
        except tarfile.TarError as err:
            raise ValidationFailed(f"{path.name} is not a tar archive", [Problem(
                str(err), file=path.name, fix="delete it and rerun")]) from None
        return
    with path.open("rb") as probe:
        gz = probe.read(2) == b"\x1f\x8b"
    with (gzip.open(path, "rb") if gz else path.open("rb")) as raw:
        yield from _hmms_in_text(cast(BinaryIO, raw), path.name)


def read_ko_list(path: Path) -> tuple[dict[str, float], dict[str, str], dict[str, str]]:
    """KOfam's ko_list(.gz): ``(thresholds, score types, definitions)`` per KO.

    Columns: knum, threshold, score_type (full/domain), profile_type, F-measure, nseq,
    nseq_used, alen, mlen, eff_nseq, re/pos, definition. A threshold of ``-`` means none.
    """
    with path.open("rb") as probe:
        gz = probe.read(2) == b"\x1f\x8b"
    raw: IO[str] = (gzip.open(path, "rt", encoding="utf-8") if gz  # noqa: SIM115
                    else path.open("r", encoding="utf-8"))
    thresholds: dict[str, float] = {}
    score_types: dict[str, str] = {}
    definitions: dict[str, str] = {}
    with raw as handle:
        header = handle.readline().rstrip("\n").split("\t")
        if header[:3] != ["knum", "threshold", "score_type"]:
            raise ValidationFailed(f"{path.name} is not a KOfam ko_list", [Problem(
                "the header must start with knum, threshold, score_type", file=path.name,
                row=1, value="\t".join(header[:3]), fix="check the ko_list URL")])
        for row_no, line in enumerate(handle, start=2):
            cols = line.rstrip("\n").split("\t")
            if len(cols) < 3:
                continue
            knum, threshold, score_type = cols[0], cols[1], cols[2]
            definitions[knum] = cols[-1] if len(cols) >= 12 else ""
            if threshold in ("-", ""):
                continue
            try:
                thresholds[knum] = float(threshold)
            except ValueError:
                raise ValidationFailed(f"{path.name}: bad threshold", [Problem(
                    "not a number", file=path.name, row=row_no, column="threshold",
                    value=threshold)]) from None
            score_types[knum] = "domain" if score_type == "domain" else "sequence"
    return thresholds, score_types, definitions


# -- installing ------------------------------------------------------------------------------------

def install(root: Path, name: str, *, url: str | None = None, sha256: str | None = None,
            extra_url: str | None = None, press: bool = True, replace: bool = False,
            pack_name: str | None = None, progress: Progress | None = None,
            timeout: float = 60.0) -> Pack:
    """Download, verify, unpack, press and register the public database ``name``."""
    if name not in SOURCES:
        raise UsageError(f"unknown database {name!r}", [Problem(
            f"installable databases: {', '.join(SOURCES)}", value=name, field="name")])
    source = SOURCES[name]
    target = check_name(pack_name or name)
    if (root / target).exists() and not replace:
        raise UsageError(f"profile pack {target!r} is already installed", [Problem(
            "a pack with this name exists", value=target, field="name",
            fix="pass --replace to install it again")])
    downloads = root / ".downloads" / target
    with held_folder(downloads, exist_ok=True):
        _install(root, source, target, downloads, url=url, sha256=sha256,
                 extra_url=extra_url, press=press, replace=replace,
                 progress=progress or (lambda done, total, what: None), timeout=timeout)
        shutil.rmtree(downloads, ignore_errors=True)
    pack = load_pack(root, target)
    if not press:  # kept as text: its pressed copy is made now rather than at first use
        with contextlib.suppress(OSError, ValueError):  # then it is made at first use
            pressed.ensure(pack, pressed.cache_folder(root))
    return pack


def _install(root: Path, source: Source, target: str, downloads: Path, *, url: str | None,
             sha256: str | None, extra_url: str | None, press: bool, replace: bool,
             progress: Progress, timeout: float) -> None:
    name = source.name
    report = progress
    main_url = url or source.url
    file_name = main_url.rstrip("/").rsplit("/", 1)[-1] or f"{name}.download"
    main_file = download(main_url, downloads / file_name, progress=report, timeout=timeout)
    md5 = None
    if not sha256 and source.md5_list_url and url is None:
        md5 = published_md5(source.md5_list_url, file_name, timeout=timeout)
    checksum = verify(main_file, sha256=sha256, md5=md5)
    extra_file = None
    extra_checksum: dict[str, str] = {}
    if source.extra_url:
        extra = extra_url or source.extra_url
        extra_name = extra.rstrip("/").rsplit("/", 1)[-1]
        extra_file = download(extra, downloads / extra_name, progress=report, timeout=timeout)
        extra_checksum = verify(extra_file, sha256=None, md5=None)

    thresholds: dict[str, float] = {}
    score_types: dict[str, str] = {}
    definitions: dict[str, str] = {}
    if extra_file is not None:
        thresholds, score_types, definitions = read_ko_list(extra_file)

    with staging(root, target, replace=replace) as folder:
        families: dict[str, Family] = {}
        seen: list[str] = []

        def collect() -> Iterator[HMM[Any]]:
            for count, hmm in enumerate(_iter_source_hmms(name, main_file), start=1):
                hmm_name = str(hmm.name)
                if hmm_name in families:
                    raise ValidationFailed(f"{file_name} has two HMMs named {hmm_name}", [
                        Problem("duplicate HMM[Any] name", value=hmm_name, file=file_name)])
                families[hmm_name] = Family(
                    hmm_name, hmm.accession and str(hmm.accession),
                    definitions.get(hmm_name) or str(hmm.description or ""))
                seen.append(hmm_name)
                if count % 500 == 0:
                    report(count, 0, "HMMs read")
                yield hmm

        text_name = f"{target}.hmm"
        if press:
            pyhmmer.hmmer.hmmpress(collect(), folder / text_name)
            hmm_path = f"{text_name}.h3m"
        else:
            with (folder / text_name).open("wb") as out:
                for hmm in collect():
                    hmm.write(out, binary=False)
            hmm_path = text_name
        if not families:
            raise ValidationFailed(f"{file_name} holds no HMM", [Problem(
                "no profile found", file=file_name, fix="check the URL")])
        without_ga = _without_gathering(folder / hmm_path) if name == "pfam" else []
        provenance: dict[str, Any] = {
            "source": main_url, "installed": datetime.now(UTC).isoformat(timespec="seconds"),
            "file": file_name, "size": main_file.stat().st_size, "checksum": checksum,
            "licence": source.licence, "pressed": press,
        }
        if extra_file is not None:
            provenance["thresholds_from"] = {"url": extra_url or source.extra_url,
                                             "checksum": extra_checksum}
            provenance["threshold_score_types"] = score_types
            provenance["families_without_threshold"] = sum(
                1 for f in families if f not in thresholds)
        if without_ga:
            provenance["hmms_without_gathering"] = without_ga
        pack = with_cazy_substrates(Pack(
            name=target, version=_version(name, main_url), category=cast(Category,
                                                                          source.category),
            path=folder / hmm_path, cutoff=cast(Cutoff, source.cutoff), evalue=source.evalue,
            thresholds={k: v for k, v in thresholds.items() if k in families},
            threshold_on={k: v for k, v in score_types.items() if k in families},
            families=families, description=source.description, provenance=provenance,
            hmm_count=len(families)))
        write_manifest(folder, pack_to_manifest(pack, hmm_path))


def _without_gathering(path: Path) -> list[str]:
    with HMMFile(path) as hmm_file:
        missing = [str(h.name) for h in hmm_file if not h.cutoffs.gathering_available()]
    return missing


def _version(name: str, url: str) -> str:
    if name == "dbcan":
        for part in url.replace(".", "-").split("-"):
            if part.startswith("V") and part[1:].isdigit():
                return part
        return "current"
    return "current"


def describe_sources() -> list[Mapping[str, Any]]:
    return [{"name": s.name, "url": s.url, "category": s.category, "cutoff": s.cutoff,
             "checksum": "published md5" if s.md5_list_url else "none published (use "
                         "--sha256 to verify; the SHA-256 is recorded)",
             "extra": s.extra_url} for s in SOURCES.values()]
