"""What a profile pack is: the contract between pack builders/installers and annotation.

A pack is a folder under ``LANHAI_DATA_DIR/profiles/<name>/`` (installed or built packs) or a
folder shipped inside the package (built-in packs), holding an HMM file and a ``pack.json``
manifest. Annotation only needs :class:`Pack`; how a pack was made is recorded in its
``provenance``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

#: what a pack's families mean to annotation
Category = Literal["families", "cazy", "plastics", "pul", "orthology", "custom"]
#: which bit-score threshold decides a hit: the HMMs' own GA/TC/NC lines, a calibrated
#: per-family threshold (``Pack.thresholds``), or an E-value alone
Cutoff = Literal["gathering", "trusted", "noise", "calibrated", "evalue"]


@dataclass(frozen=True)
class Family:
    """What one HMM in a pack stands for."""

    name: str  #: the HMM name, e.g. "GH16", "PF00150", "PETase"
    accession: str | None = None  #: e.g. "PF00150.21"
    description: str = ""
    #: marine polysaccharide(s) or plastic(s) the family acts on, when known
    substrates: tuple[str, ...] = ()
    #: for PUL signature genes: "susC", "susD", "cazyme", "sulfatase", ...
    role: str | None = None


@dataclass(frozen=True)
class Pack:
    """One installed or built-in profile pack, ready to search with pyhmmer."""

    name: str  #: e.g. "pfam-gecco", "marine-cazy", "plastics", "sus"
    version: str
    category: Category
    path: Path  #: HMMER3 text (.hmm, optionally .gz) or pressed binary (.h3m)
    cutoff: Cutoff
    evalue: float = 1e-5  #: used with cutoff "evalue", and as an upper bound otherwise
    #: bit-score threshold per family (cutoff "calibrated"); families absent use ``evalue``
    thresholds: Mapping[str, float] = field(default_factory=dict)
    families: Mapping[str, Family] = field(default_factory=dict)
    description: str = ""
    provenance: Mapping[str, Any] = field(default_factory=dict)
    hmm_count: int = 0
    #: which score each family's threshold applies to: "sequence" (the default, for families
    #: absent here) or "domain" (KOfam's score_type "domain")
    threshold_on: Mapping[str, str] = field(default_factory=dict)
