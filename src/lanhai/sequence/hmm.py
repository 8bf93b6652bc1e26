"""Protein family annotation: pyhmmer hmmsearch of proteins against profile packs.

A pack (:class:`lanhai.profiles.pack.Pack`) says which bit-score thresholds decide a hit:

- ``gathering`` / ``trusted`` / ``noise``: the HMMs' own GA/TC/NC lines, as
  ``hmmsearch --cut_ga`` (``--cut_tc``, ``--cut_nc``) applies them (sequence and domain
  thresholds). An HMM without that line falls back to the pack's E-value (and is reported in
  the warnings);
- ``calibrated``: the pack's per-family bit-score thresholds on each domain; families without
  one use the E-value;
- ``evalue``: the pack's E-value alone, on the domain's independent E-value.

In every mode the pack's E-value is also an upper bound on a domain's independent E-value.

Proteins are searched in batches (a :class:`pyhmmer.easel.DigitalSequenceBlock` of at most
``batch_size`` proteins), so memory holds one batch and its hits, never the whole proteome
of a metagenome. E-values are computed with ``Z`` = the number of proteins of the whole
assembly, as one hmmsearch over all of them would; the domain E-value's ``domZ`` is that of
the batch (for a genome of under ``batch_size`` proteins the figures equal hmmsearch's).

Packs are searched with pressed optimized profiles (:mod:`lanhai.profiles.pressed`: the
pack's own pressed files, or a copy pressed into the bank's cache at first use), read once per
load and reused by every batch, so no profile is rebuilt from its HMM at each search; the
hits are the same as with the HMMs. A pack whose profiles would take more than
:data:`MEMORY_BUDGET` is streamed from its pressed files at each search instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyhmmer

from lanhai.profiles import pressed
from lanhai.profiles.pack import Pack

#: proteins searched at once (one DigitalSequenceBlock)
BATCH_SIZE = 20_000
#: the longest sequence pyhmmer's pipeline accepts; longer "proteins" (a gene caller's ORF
#: through a long gap, for example) are skipped and reported
MAX_LENGTH = 100_000
#: HMMER's option for each cutoff mode
_CUTOFFS = {"gathering": "gathering", "trusted": "trusted", "noise": "noise"}
#: a pack's optimized profiles are held in memory up to this size (bytes of ``.h3p`` +
#: ``.h3f``, about what they take in memory); a larger pack is read from disk at each search
MEMORY_BUDGET = 512 << 20


#: GECCO's own filter on its domain annotation (`gecco run --p-filter` default)
GECCO_P_FILTER = 1e-9
#: hmmsearch's default reporting E-value (GECCO searches with it)
DEFAULT_E = 10.0


@dataclass(frozen=True)
class Cutoffs:
    """A profile's GA/TC/NC bit-score pairs (sequence, domain), None when absent."""

    gathering: tuple[float, float] | None
    trusted: tuple[float, float] | None
    noise: tuple[float, float] | None


@dataclass(frozen=True)
class Model:
    """What annotation reads of a profile searched from disk (the profile itself is not
    kept): the same attributes as pyhmmer's HMMs and optimized profiles."""

    name: str
    accession: str | None
    description: str | None
    M: int
    cutoffs: Cutoffs

    @classmethod
    def of(cls, profile: Any) -> Model:
        cut = profile.cutoffs
        return cls(_name(profile.name), profile.accession and _name(profile.accession),
                   profile.description and _name(profile.description), int(profile.M),
                   Cutoffs(cut.gathering, cut.trusted, cut.noise))


@dataclass
class Group:
    """HMMs of a pack whose hits are decided the same way."""

    #: each HMM's metadata in search order (a pyhmmer HMM or OptimizedProfile, or a
    #: :class:`Model` when the profiles are read from disk at each search)
    models: list[Any]
    #: the HMMs' own cut-off used (``bit_cutoffs``), or None for E-value/calibrated filtering
    cutoff: str | None
    #: the models' positions in the pack's HMM file
    positions: list[int]


@dataclass
class LoadedPack:
    """A pack's HMMs, grouped by how their hits are decided."""

    pack: Pack
    groups: list[Group] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: for GECCO's own Pfam file: its size (GECCO's Z and domZ); the pack is then searched
    #: once, permissively, and both the pack's hits and GECCO's domains are taken from it
    gecco_size: int | None = None
    #: the pressed database the profiles were read from (None: read from the HMM file)
    pressed: Path | None = None
    #: whether the profiles are read from :attr:`pressed` at each search (a large pack)
    streamed: bool = False
    #: how many HMMs the pack has
    count: int = 0
    #: the pressed file a streamed pack's profiles are read from, open from its load on (so
    #: that a pack replaced meanwhile is still read whole)
    source: Any = None

    def queries(self, group: Group) -> Iterable[Any]:
        """What to search for ``group``: its models, or its profiles read from disk."""
        if self.source is None:
            return group.models
        self.source.rewind()
        if len(group.positions) == self.count:
            return (p for p in self.source)
        wanted = set(group.positions)
        return (p for index, p in enumerate(self.source) if index in wanted)


def gecco_pfam() -> tuple[Path, int] | None:
    """The Pfam HMM file embedded in GECCO and its size (GECCO's Z), if GECCO is installed."""
    try:
        from gecco.hmmer import embedded_hmms
    except ImportError:  # pragma: no cover - gecco is a dependency
        return None
    for embedded in embedded_hmms():
        if embedded.id == "Pfam":
            return Path(embedded.path).resolve(), int(embedded.size or 0)
    return None  # pragma: no cover


def load_pack(pack: Pack, *, cache: Path | None = None, press: bool = True) -> LoadedPack:
    """Read a pack for searching: its pressed optimized profiles (pressed into ``cache``, by
    default :func:`lanhai.profiles.pressed.default_cache`, at first use; see
    :mod:`lanhai.profiles.pressed`), or, without ``press`` or when no pressed copy can be
    had, its HMM file (text, gzip text or binary ``.h3m``)."""
    loaded = LoadedPack(pack)
    models = _pressed_models(loaded, cache) if press else None
    if models is None:
        with pyhmmer.plan7.HMMFile(str(pack.path)) as handle:
            models = list(handle)
    if not models:
        raise ValueError(f"pack {pack.name}: {pack.path} holds no HMM")
    loaded.count = len(models)
    gecco = gecco_pfam()
    if gecco is not None and Path(pack.path).resolve() == gecco[0] and gecco[1]:
        loaded.gecco_size = gecco[1]
    mode = _CUTOFFS.get(pack.cutoff)
    if mode is None:
        loaded.groups.append(Group(models, None, list(range(len(models)))))
        return loaded
    with_cut = [i for i, m in enumerate(models) if getattr(m.cutoffs, mode) is not None]
    without = [i for i, m in enumerate(models) if getattr(m.cutoffs, mode) is None]
    if with_cut:
        loaded.groups.append(Group([models[i] for i in with_cut], mode, with_cut))
    if without:
        loaded.groups.append(Group([models[i] for i in without], None, without))
        names = ", ".join(_name(models[i].name) for i in without[:5]) \
            + (" …" if len(without) > 5 else "")
        loaded.warnings.append(f"pack {pack.name}: {len(without)} HMM(s) have no {mode} "
                               f"cut-off and use the E-value {pack.evalue:g} ({names})")
    return loaded


def _pressed_models(loaded: LoadedPack, cache: Path | None) -> list[Any] | None:
    """The pack's optimized profiles (or, for a pack over :data:`MEMORY_BUDGET`, their
    metadata, the profiles being streamed), pressing the pack first if needed; None when it
    has no pressed copy and none can be made (no cache, a read-only bank)."""
    pack = loaded.pack
    where = cache if cache is not None else pressed.default_cache(pack)
    try:
        base = (pressed.ensure(pack, where) if where is not None
                else pressed.pressed_base(Path(pack.path)))
    except (OSError, ValueError):
        return None  # searched from the HMM file as it is
    if base is None:
        return None
    try:
        if pressed.profiles_size(base) <= MEMORY_BUDGET:
            models = pressed.read_profiles(base)
        else:
            source = pressed.open_profiles(base)
            models = [Model.of(p) for p in source]
            loaded.source, loaded.streamed = source, True
    except (OSError, ValueError, EOFError):  # removed or replaced while being read
        loaded.source, loaded.streamed = None, False
        return None
    loaded.pressed = base
    return models


def _name(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value or "")


def _keep(pack: Pack, family: str, cutoff: str | None, domain: Any) -> bool:
    """Whether a reported domain is a hit under the pack's rules."""
    if domain.i_evalue > pack.evalue:
        return False
    if cutoff is not None:
        return bool(domain.included)
    if pack.cutoff == "calibrated" and family in pack.thresholds:
        return bool(domain.score >= pack.thresholds[family])
    return True


def _row(ids: Sequence[str], index: int, pack: Pack, hmm: Any, domain: Any,
         evalue: float) -> dict[str, Any]:
    family = _name(hmm.name)
    info = pack.families.get(family)
    accession = _name(hmm.accession) or (info.accession if info else None)
    ali = domain.alignment
    return {
        "protein_id": ids[index], "pack": pack.name, "category": pack.category,
        "family": family, "family_accession": accession or None,
        "description": (info.description if info and info.description
                        else _name(hmm.description)),
        "evalue": float(evalue), "score": float(domain.score), "bias": float(domain.bias),
        "ali_from": int(ali.target_from), "ali_to": int(ali.target_to),
        "hmm_from": int(ali.hmm_from), "hmm_to": int(ali.hmm_to), "hmm_length": int(hmm.M),
        "coverage": round((ali.hmm_to - ali.hmm_from + 1) / hmm.M, 4),
        "substrates": list(info.substrates) if info else []}


def _shared(loaded: LoadedPack, ids: Sequence[str], block: Any, total: int, threads: int,
            found: list[tuple[tuple[int, int, int, str, str], dict[str, Any]]],
            gecco: list[tuple[tuple[int, int, int], dict[str, Any]]]) -> None:
    """One permissive search of GECCO's Pfam file giving both the pack's hits (the same rules
    as :func:`_keep`, applied to bit scores and p-values, which do not depend on the
    reporting thresholds) and GECCO's domains (reported at E <= 10 with Z = domZ = GECCO's
    size, p-value < 1e-9), so GECCO need not search again."""
    pack, size = loaded.pack, loaded.gecco_size or 1
    for group in loaded.groups:
        cutoff = group.cutoff
        for hmm, top in zip(group.models, pyhmmer.hmmsearch(
                loaded.queries(group), block, cpus=threads, Z=total, E=1e300, domE=1e300,
                incE=1e300, incdomE=1e300), strict=True):
            family = _name(hmm.name)
            hits = list(top)
            if cutoff is not None:  # hmmsearch --cut_xx: T = cut 1, domT = cut 2
                seq_cut, dom_cut = getattr(hmm.cutoffs, cutoff)
                passed = [h for h in hits if h.score >= seq_cut]
            else:  # -E: the sequence E-value with Z = total
                passed = [h for h in hits if h.pvalue * total <= pack.evalue]
            for hit in passed:
                index = int(_name(hit.name))
                for domain in hit.domains:
                    # the independent E-value uses Z (the conditional one, domZ, decides
                    # hmmsearch's domain reporting under --domE, implied by this bound)
                    evalue = domain.pvalue * total
                    if evalue > pack.evalue:
                        continue
                    if cutoff is not None and domain.score < dom_cut:
                        continue
                    if cutoff is None and pack.cutoff == "calibrated" \
                            and family in pack.thresholds \
                            and domain.score < pack.thresholds[family]:
                        continue
                    row = _row(ids, index, pack, hmm, domain, evalue)
                    found.append(((index, row["ali_from"], row["ali_to"], pack.name,
                                   family), row))
            raw = _name(hmm.accession) or family
            name = re.sub(r"^(PF\d+)\.\d+$", r"\1", raw)
            for hit in hits:
                if hit.pvalue * size > DEFAULT_E:
                    continue
                index = int(_name(hit.name))
                for domain in hit.domains:
                    if domain.pvalue * size > DEFAULT_E or domain.pvalue >= GECCO_P_FILTER:
                        continue
                    ali = domain.alignment
                    gecco.append(((index, int(ali.target_from), int(ali.target_to)), {
                        "protein_id": ids[index], "name": name,
                        "start": int(ali.target_from), "end": int(ali.target_to),
                        "i_evalue": float(domain.pvalue * size),
                        "pvalue": float(domain.pvalue)}))


def search_batch(packs: Sequence[LoadedPack], ids: Sequence[str], block: Any, *,
                 total: int, threads: int = 1
                 ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Domain hits of one batch of digitised proteins, sorted by protein (batch order) then
    position, and GECCO's Pfam domains when GECCO's Pfam pack is among ``packs``; ``ids``
    are the proteins' ids in block order, ``total`` the assembly's protein count (``Z``)."""
    found: list[tuple[tuple[int, int, int, str, str], dict[str, Any]]] = []
    gecco: list[tuple[tuple[int, int, int], dict[str, Any]]] = []
    for loaded in packs:
        pack = loaded.pack
        if loaded.gecco_size:
            _shared(loaded, ids, block, total, threads, found, gecco)
            continue
        for group in loaded.groups:
            cutoff = group.cutoff
            options: dict[str, Any] = {"cpus": threads, "Z": total}
            if cutoff is not None:
                options["bit_cutoffs"] = cutoff
            else:
                options.update(E=pack.evalue, domE=pack.evalue, incE=pack.evalue,
                               incdomE=pack.evalue)
            for hmm, top in zip(group.models,
                                pyhmmer.hmmsearch(loaded.queries(group), block, **options),
                                strict=True):
                family = _name(hmm.name)
                for hit in top:
                    if not hit.included:
                        continue
                    index = int(_name(hit.name))
                    for domain in hit.domains:
                        if not domain.reported or not _keep(pack, family, cutoff, domain):
                            continue
                        row = _row(ids, index, pack, hmm, domain, domain.i_evalue)
                        found.append(((index, row["ali_from"], row["ali_to"], pack.name,
                                       family), row))
    found.sort(key=lambda item: item[0])
    gecco.sort(key=lambda item: item[0])
    return [row for _, row in found], [row for _, row in gecco]


def search(packs: Sequence[LoadedPack], proteins: Iterable[tuple[str, str]], *, total: int,
           threads: int = 1, batch_size: int = BATCH_SIZE,
           progress: Callable[[int], None] | None = None,
           skipped: list[str] | None = None
           ) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """Hits of ``proteins`` ((id, sequence), in gene order) against ``packs``, one sorted
    list per batch (with GECCO's domains, see :func:`search_batch`); the batches follow the
    input order, so the concatenation is sorted by protein (input order) then position.
    ``progress`` gets the proteins searched so far; proteins longer than
    :data:`MAX_LENGTH` are not searched and their ids are appended to ``skipped``."""
    alphabet = pyhmmer.easel.Alphabet.amino()
    ids: list[str] = []
    sequences: list[Any] = []
    done = 0

    def run() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        block = pyhmmer.easel.DigitalSequenceBlock(alphabet, sequences)
        return search_batch(packs, ids, block, total=max(total, 1), threads=threads)

    for ident, sequence in proteins:
        if len(sequence) > MAX_LENGTH:
            if skipped is not None:
                skipped.append(ident)
            continue
        name = str(len(ids)).encode()
        sequences.append(pyhmmer.easel.TextSequence(name=name, sequence=sequence)
                         .digitize(alphabet))
        ids.append(ident)
        if len(ids) >= batch_size:
            yield run()
            done += len(ids)
            ids, sequences = [], []
            if progress is not None:
                progress(done)
    if ids:
        yield run()
        done += len(ids)
        if progress is not None:
            progress(done)
