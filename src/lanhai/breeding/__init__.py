"""Genomic selection for aquaculture breeding: genotypes to ranked candidates and matings.

The core (``pedigree``, ``grm``, ``ssgblup``, ``reml``, ``predict``, ``cv``, ``bayes``,
``mating``, ``qc``, ``validate``) is pure: numpy/scipy in, plain data out, progress through a
callback, no I/O. ``io`` reads and writes files at the edges; ``pipeline`` joins the pieces
for the CLI and API.
"""

from __future__ import annotations

from lanhai.breeding.data import Dataset, Genotypes, Pedigree, Phenotypes, Progress

__all__ = ["Dataset", "Genotypes", "Pedigree", "Phenotypes", "Progress"]
