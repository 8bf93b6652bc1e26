"""Small, pure helpers around pyhmmer and pyfamsa used to build and check profile packs.

Reading FASTA and HMM files, aligning seed sequences, building an HMM from them, searching a
set of HMMs against proteins and keeping each protein's best domain, and choosing a bit-score
threshold that separates a family's members from everything else.
"""

from __future__ import annotations

import gzip
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pyfamsa
import pyhmmer
from pyhmmer.easel import Alphabet, DigitalSequenceBlock, TextMSA, TextSequence
from pyhmmer.plan7 import HMM, Background, Builder, HMMFile

from lanhai.errors import Problem, ValidationFailed

ALPHABET = Alphabet.amino()
_VALID = set("ACDEFGHIKLMNPQRSTVWYBJZOUX")


Node = TypeVar("Node", str, int)


def linked_groups(nodes: Iterable[Node], links: Iterable[tuple[Node, Node]]
                  ) -> list[list[Node]]:
    """The groups of ``nodes`` that ``links`` connect (union-find), each sorted, the largest
    first (ties: the group with the smallest first member)."""
    parent = {node: node for node in nodes}

    def find(x: Node) -> Node:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for x, y in links:
        a, b = find(x), find(y)
        if a != b:
            parent[max(a, b)] = min(a, b)
    groups: dict[Node, list[Node]] = {}
    for node in sorted(parent):
        groups.setdefault(find(node), []).append(node)
    return sorted(groups.values(), key=lambda group: (-len(group), group[0]))


def open_text(path: Path) -> io.TextIOBase:
    """Open a plain or gzip text file (gzip told apart by its magic bytes)."""
    with path.open("rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    return path.open("r", encoding="utf-8")


def read_fasta(path: Path) -> dict[str, str]:
    """Protein FASTA (plain or gzip) as ``{first word of header: sequence}``, in file order.

    A trailing ``*`` is dropped; internal ``*`` and other non-residue characters become ``X``
    so that the sequences can be digitised and aligned.
    """
    records: dict[str, list[str]] = {}
    current: list[str] | None = None
    with open_text(path) as handle:
        for line in handle:
            if line.startswith(">"):
                name = line[1:].split(maxsplit=1)[0] if line[1:].strip() else ""
                current = records.setdefault(name, [])
            elif current is not None:
                current.append(line.strip())
    return {name: clean_protein("".join(parts)) for name, parts in records.items()}


def clean_protein(sequence: str) -> str:
    sequence = sequence.upper().rstrip("*")
    return "".join(c if c in _VALID else "X" for c in sequence)


def digitize(proteins: Mapping[str, str]) -> DigitalSequenceBlock:
    """Proteins as a pyhmmer digital block (names are the mapping's keys)."""
    return DigitalSequenceBlock(ALPHABET, [
        TextSequence(name=name, sequence=seq).digitize(ALPHABET)
        for name, seq in proteins.items() if seq
    ])


def read_hmms(path: Path) -> list[HMM[Any]]:
    """Every HMM[Any] in a HMMER3 text (plain or gzip) or pressed binary file.

    Raises :class:`ValidationFailed` naming the file when it is not an HMM[Any] file.
    """
    try:
        with HMMFile(path) as hmm_file:
            hmms = list(hmm_file)
    except (ValueError, EOFError, OSError) as err:
        raise ValidationFailed(f"{path} is not a readable HMMER3 profile file", [Problem(
            f"pyhmmer could not read it: {err}", file=str(path),
            fix="give a HMMER3 text file (from hmmbuild, optionally gzip'ed) or a file "
                "pressed with hmmpress (.h3m)")]) from None
    if not hmms:
        raise ValidationFailed(f"{path} holds no HMM", [Problem(
            "the file is empty", file=str(path), fix="give a HMMER3 profile file")])
    return hmms


def write_hmms(hmms: Iterable[HMM[Any]], path: Path, *, compress: bool = False) -> None:
    """Write HMMs as HMMER3 text (gzip'ed with a fixed mtime when ``compress``)."""
    buffer = io.BytesIO()
    for hmm in hmms:
        hmm.write(buffer, binary=False)
    data = buffer.getvalue()
    if compress:
        data = gzip.compress(data, compresslevel=9, mtime=0)
    path.write_bytes(data)


def align(sequences: Mapping[str, str]) -> list[tuple[str, str]]:
    """Multiple alignment of ``{name: sequence}`` with FAMSA (deterministic, one thread)."""
    aligner = pyfamsa.Aligner(threads=1, guide_tree="upgma")
    items = [pyfamsa.Sequence(name.encode(), seq.encode()) for name, seq in sequences.items()]
    alignment = aligner.align(items)
    return [(row.id.decode(), row.sequence.decode()) for row in alignment]


def build_hmm(name: str, sequences: Mapping[str, str], *, description: str = "",
              seed: int = 42) -> HMM[Any]:
    """An HMM[Any] from seed sequences: FAMSA alignment, then pyhmmer's Builder (hmmbuild)."""
    if not sequences:
        raise ValueError(f"no seed sequence for {name}")
    builder = Builder(ALPHABET, seed=seed)
    background = Background(ALPHABET)
    if len(sequences) == 1:
        (seq_name, seq), = sequences.items()
        digital = TextSequence(name=seq_name, sequence=seq).digitize(ALPHABET)
        hmm, _, _ = builder.build(digital, background)
    else:
        rows = align(sequences)
        msa = TextMSA(name=name, sequences=[TextSequence(name=n, sequence=s) for n, s in rows])
        hmm, _, _ = builder.build_msa(msa.digitize(ALPHABET), background)
    hmm.name = name
    hmm.creation_time = None  # no DATE line: a rebuild gives identical bytes
    hmm.command_line = None
    if description:
        hmm.description = description
    return hmm


@dataclass(frozen=True)
class BestHit:
    """A protein's best hit to one HMM[Any]: sequence score and its best domain."""

    family: str
    protein: str
    score: float  #: per-sequence bit score
    evalue: float
    domain_score: float
    domain_ievalue: float
    env_from: int  #: 1-based, inclusive (envelope on the protein)
    env_to: int
    hmm_coverage: float  #: fraction of the HMM's match states the best domain covers


def search_best(hmms: Sequence[HMM[Any]], proteins: DigitalSequenceBlock, *, cpus: int = 1,
                evalue: float = 10.0) -> dict[str, dict[str, BestHit]]:
    """Search every HMM[Any] against ``proteins``; ``{family: {protein: best hit}}``."""
    found: dict[str, dict[str, BestHit]] = {}
    if not hmms or not len(proteins):
        return found
    for hits in pyhmmer.hmmer.hmmsearch(hmms, proteins, cpus=cpus, E=evalue, domE=evalue):
        family = str(hits.query.name)
        length = int(hits.query.M)
        per: dict[str, BestHit] = {}
        for hit in hits:
            if not hit.domains:
                continue
            best = max(hit.domains, key=lambda d: d.score)
            covered = (best.alignment.hmm_to - best.alignment.hmm_from + 1) / max(length, 1)
            per[str(hit.name)] = BestHit(
                family, str(hit.name), float(hit.score), float(hit.evalue),
                float(best.score), float(best.i_evalue), int(best.env_from), int(best.env_to),
                round(covered, 4))
        found[family] = per
    return found


def choose_threshold(positives: Sequence[float], negatives: Sequence[float], *,
                     floor: float = 20.0, position: float = 0.5,
                     overlap_in_gap: bool = False) -> tuple[float, str]:
    """A bit-score threshold separating members (``positives``) from non-members.

    Separable: the point ``position`` of the way from the highest non-member up to the lowest
    member (0.5: the midpoint); no non-member scored: ``position`` x the lowest member. Otherwise
    the candidate threshold with the best F1 (ties: the higher threshold), or, with
    ``overlap_in_gap``, the point ``position`` of the way up to it from the highest score below
    it (every point of that gap calls the same proteins). Never below ``floor``. Returns the
    threshold (rounded to 0.1 bit) and how it was chosen.
    """
    if not positives:
        raise ValueError("no member to calibrate on")
    low = min(positives)
    high = max(negatives) if negatives else None
    if high is None:
        value = low * position
        how = f"no non-member scored; {position:g} x the lowest member ({low:.1f})"
    elif low > high:
        value = high + position * (low - high)
        how = (f"{position:g} of the way from highest non-member {high:.1f} to lowest "
               f"member {low:.1f}")
    else:
        candidates = sorted(set(positives) | {s + 0.05 for s in negatives})
        best: tuple[float, float] = (-1.0, 0.0)
        for cut in candidates:
            tp = sum(1 for s in positives if s >= cut)
            fp = sum(1 for s in negatives if s >= cut)
            fn = len(positives) - tp
            f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
            if f1 > best[0] or (f1 == best[0] and cut > best[1]):
                best = (f1, cut)
        value, how = best[1], (f"overlap (lowest member {low:.1f} <= highest non-member "
                               f"{high:.1f}); best F1 {best[0]:.3f} on training strains")
        below = max((v for v in (*positives, *negatives) if v < value), default=0.0)
        if overlap_in_gap and value - below > 0.2:
            # rounded up: the threshold stays above every score of the gap's lower end
            value = math.ceil((below + position * (value - below)) * 10) / 10
            how += f", {position:g} of the way up its gap from {below:.1f}"
    if value < floor:
        value, how = floor, how + f"; raised to the {floor:.0f}-bit floor"
    return round(value, 1), how


def hmm_summary(hmm: HMM[Any]) -> dict[str, Any]:
    return {"name": str(hmm.name), "accession": hmm.accession and str(hmm.accession),
            "length": int(hmm.M)}
