"""Assembly statistics computed while contigs stream past (lengths are kept, residues not)."""

from __future__ import annotations

import re
from array import array
from dataclasses import dataclass, field
from typing import Any

from lanhai.genomes.quality import n50

#: a gap: a run of N inside a scaffold (runs at either end join nothing and are no gap)
_GAP = re.compile("N+")


@dataclass
class AssemblyStats:
    """Total length, contig count, N50, GC % and largest contig of a set of contigs.

    GC % is over unambiguous bases (A, C, G, T/U); N and other IUPAC codes are not counted.
    Each sequence is also split at its gaps (runs of N inside it) into contigs, as NCBI
    splits scaffolds, for the contig N50 and the gap count. For a proteome the same
    accumulator counts proteins and residues.
    """

    lengths: array[int] = field(default_factory=lambda: array("q"))
    pieces: array[int] = field(default_factory=lambda: array("q"))
    gaps: int = 0
    gc: int = 0
    acgt: int = 0

    def add(self, sequence: str) -> None:
        """Count one contig (upper-case residues)."""
        self.lengths.append(len(sequence))
        if "N" in sequence:
            parts = _GAP.split(sequence.strip("N"))
            self.gaps += len(parts) - 1
            self.pieces.extend(len(part) for part in parts if part)
        else:
            self.pieces.append(len(sequence))
        gc = sequence.count("G") + sequence.count("C")
        self.gc += gc
        self.acgt += gc + sequence.count("A") + sequence.count("T") + sequence.count("U")

    @property
    def count(self) -> int:
        return len(self.lengths)

    @property
    def total_length(self) -> int:
        return sum(self.lengths)

    @property
    def largest(self) -> int:
        return max(self.lengths, default=0)

    @property
    def n50(self) -> int:
        """Length of the sequence at which the longest sequences reach half the total."""
        return n50(self.lengths) if self.lengths else 0

    @property
    def contig_n50(self) -> int:
        """N50 of the contigs, the sequences split at their gaps."""
        return n50(self.pieces) if self.pieces else 0

    @property
    def gc_percent(self) -> float | None:
        return round(100 * self.gc / self.acgt, 2) if self.acgt else None

    def genome_summary(self) -> dict[str, Any]:
        """Statistics of a nucleotide assembly, named as the assembly record's fields."""
        return {"genome_size": self.total_length, "contig_count": self.count,
                "n50": self.n50, "gc_percent": self.gc_percent,
                "largest_contig": self.largest, "sequence_contig_n50": self.contig_n50,
                "gap_count": self.gaps}

    def proteome_summary(self) -> dict[str, Any]:
        """Statistics of a protein set."""
        return {"protein_count": self.count, "protein_residues": self.total_length}
