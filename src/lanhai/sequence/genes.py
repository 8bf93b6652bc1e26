"""Gene calling with pyrodigal, as Prodigal does it.

Isolate genomes: single mode, trained on all contigs of the genome (Prodigal joins them with
``TTAATTAATTAA`` linkers, and pyrodigal does the same). MAGs, SAGs and metagenomes:
metagenomic mode (``GeneFinder(meta=True)``), which picks the best of Prodigal's 50
pre-trained models per contig. Genes are numbered per contig from 1, and proteins are named
``<contig>_<n>`` as Prodigal writes them.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pyrodigal

SINGLE = "single"
META = "meta"
#: Prodigal's minimum training length for single mode
MIN_TRAINING_LENGTH = 20000
#: assembly types gene-called in single mode; all others use metagenomic mode
ISOLATE_TYPES = ("isolate genome",)


@dataclass(frozen=True)
class Gene:
    """One predicted coding sequence (1-based, inclusive coordinates as Prodigal writes)."""

    contig: str
    protein_id: str
    start: int
    end: int
    strand: int
    partial_begin: bool
    partial_end: bool
    start_type: str
    rbs_motif: str | None
    rbs_spacer: str | None
    gc: float
    score: float
    translation_table: int
    sequence: str
    protein: str

    def as_row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def mode_for(assembly_type: str | None, total_length: int) -> tuple[str, str]:
    """Gene-calling mode for an assembly and why it was chosen."""
    if assembly_type not in ISOLATE_TYPES:
        return META, f"metagenomic mode for a {assembly_type or 'assembly of unknown type'}"
    if total_length < MIN_TRAINING_LENGTH:
        return META, (f"metagenomic mode: the genome ({total_length} bp) is shorter than the "
                      f"{MIN_TRAINING_LENGTH} bp single mode needs for training")
    return SINGLE, "single mode trained on the genome"


def make_finder(mode: str, training: Sequence[str] = ()
                ) -> tuple[pyrodigal.GeneFinder, list[str]]:
    """A gene finder for ``mode`` and the training warnings (as Prodigal prints them);
    single mode is trained on ``training`` (all contigs of the genome)."""
    if mode == META:
        return pyrodigal.GeneFinder(meta=True), []
    finder = pyrodigal.GeneFinder(meta=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        finder.train(*training)
    return finder, [str(w.message) for w in caught]


def call_genes(finder: pyrodigal.GeneFinder, contigs: Iterable[tuple[str, str]],
               threads: int = 1) -> Iterator[list[Gene]]:
    """Genes of each contig, in contig order (one list per contig); ``threads`` contigs are
    searched at once (pyrodigal releases the GIL)."""
    if threads <= 1:
        for ident, sequence in contigs:
            yield _genes(ident, finder.find_genes(sequence))
        return
    with ThreadPoolExecutor(max_workers=threads) as pool:
        batch: list[tuple[str, str]] = []
        for item in contigs:
            batch.append(item)
            if len(batch) >= threads * 8:
                yield from _batch(pool, finder, batch)
                batch = []
        yield from _batch(pool, finder, batch)


def _batch(pool: ThreadPoolExecutor, finder: pyrodigal.GeneFinder,
           batch: list[tuple[str, str]]) -> Iterator[list[Gene]]:
    found = pool.map(finder.find_genes, [seq for _, seq in batch])
    for (ident, _), genes in zip(batch, found, strict=True):
        yield _genes(ident, genes)


def _genes(contig: str, genes: pyrodigal.Genes) -> list[Gene]:
    return [
        Gene(contig=contig, protein_id=f"{contig}_{n}", start=g.begin, end=g.end,
             strand=g.strand, partial_begin=g.partial_begin, partial_end=g.partial_end,
             start_type=g.start_type, rbs_motif=g.rbs_motif, rbs_spacer=g.rbs_spacer,
             gc=round(g.gc_cont, 3), score=round(g.score, 2),
             translation_table=g.translation_table, sequence=g.sequence(),
             protein=g.translate(include_stop=False))
        for n, g in enumerate(genes, 1)
    ]
