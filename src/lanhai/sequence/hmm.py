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
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyhmmer

from lanhai.profiles.pack import Pack

#: proteins searched at once (one DigitalSequenceBlock)
BATCH_SIZE = 20_000
#: the longest sequence pyhmmer's pipeline accepts; longer "proteins" (a gene caller's ORF
#: through a long gap, for example) are skipped and reported
MAX_LENGTH = 100_000
#: HMMER's option for each cutoff mode
_CUTOFFS = {"gathering": "gathering", "trusted": "trusted", "noise": "noise"}


#: GECCO's own filter on its domain annotation (`gecco run --p-filter` default)
GECCO_P_FILTER = 1e-9
#: hmmsearch's default reporting E-value (GECCO searches with it)
DEFAULT_E = 10.0


@dataclass
class LoadedPack:
    """A pack's HMMs, grouped by how their hits are decided."""

    pack: Pack
    #: (HMMs, bit_cutoffs or None for E-value/calibrated filtering)
    groups: list[tuple[list[Any], str | None]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: for GECCO's own Pfam file: its size (GECCO's Z and domZ); the pack is then searched
    #: once, permissively, and both the pack's hits and GECCO's domains are taken from it
    gecco_size: int | None = None


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


def load_pack(pack: Pack) -> LoadedPack:
    """Read a pack's HMM file (text, gzip text or pressed ``.h3m``)."""
    with pyhmmer.plan7.HMMFile(str(pack.path)) as handle:
        hmms = list(handle)
    if not hmms:
        raise ValueError(f"pack {pack.name}: {pack.path} holds no HMM")
    loaded = LoadedPack(pack)
    gecco = gecco_pfam()
    if gecco is not None and Path(pack.path).resolve() == gecco[0] and gecco[1]:
        loaded.gecco_size = gecco[1]
    mode = _CUTOFFS.get(pack.cutoff)
    if mode is None:
        loaded.groups.append((hmms, None))
        return loaded
    with_cut = [h for h in hmms if getattr(h.cutoffs, f"{mode}_available")()]
    without = [h for h in hmms if not getattr(h.cutoffs, f"{mode}_available")()]
    if with_cut:
        loaded.groups.append((with_cut, mode))
    if without:
        loaded.groups.append((without, None))
        names = ", ".join(h.name for h in without[:5]) + (" …" if len(without) > 5 else "")
        loaded.warnings.append(f"pack {pack.name}: {len(without)} HMM(s) have no {mode} "
                               f"cut-off and use the E-value {pack.evalue:g} ({names})")
    return loaded


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
    for hmms, cutoff in loaded.groups:
        for hmm, top in zip(hmms, pyhmmer.hmmsearch(
                hmms, block, cpus=threads, Z=total, E=1e300, domE=1e300, incE=1e300,
                incdomE=1e300), strict=True):
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
        for hmms, cutoff in loaded.groups:
            options: dict[str, Any] = {"cpus": threads, "Z": total}
            if cutoff is not None:
                options["bit_cutoffs"] = cutoff
            else:
                options.update(E=pack.evalue, domE=pack.evalue, incE=pack.evalue,
                               incdomE=pack.evalue)
            for hmm, top in zip(hmms, pyhmmer.hmmsearch(hmms, block, **options),
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
