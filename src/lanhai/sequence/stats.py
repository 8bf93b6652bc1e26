"""Assembly statistics computed while contigs stream past (lengths are kept, residues not)."""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from typing import Any


@dataclass
class AssemblyStats:
    """Total length, contig count, N50, GC % and largest contig of a set of contigs.

    GC % is over unambiguous bases (A, C, G, T/U); N and other IUPAC codes are not counted.
    For a proteome the same accumulator counts proteins and residues.
    """

    lengths: array[int] = field(default_factory=lambda: array("q"))
    gc: int = 0
    acgt: int = 0

    def add(self, sequence: str) -> None:
        """Count one contig (upper-case residues)."""
        self.lengths.append(len(sequence))
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
        """Length of the contig at which the longest contigs reach half the total length."""
        half, running = self.total_length / 2, 0
        for length in sorted(self.lengths, reverse=True):
            running += length
            if running >= half:
                return length
        return 0

    @property
    def gc_percent(self) -> float | None:
        return round(100 * self.gc / self.acgt, 2) if self.acgt else None

    def genome_summary(self) -> dict[str, Any]:
        """Statistics of a nucleotide assembly, named as the assembly record's fields."""
        return {"genome_size": self.total_length, "contig_count": self.count,
                "n50": self.n50, "gc_percent": self.gc_percent,
                "largest_contig": self.largest}

    def proteome_summary(self) -> dict[str, Any]:
        """Statistics of a protein set."""
        return {"protein_count": self.count, "protein_residues": self.total_length}
