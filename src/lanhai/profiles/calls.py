"""Search proteins with a pack and keep the hits its cut-off accepts (used by the benchmarks
and tests; annotation has its own search that follows the same rules):

* ``gathering`` / ``trusted`` / ``noise``: the HMMs' own GA / TC / NC lines (hmmsearch --cut_ga);
* ``calibrated``: sequence score (or best domain score, when ``threshold_on`` says "domain")
  >= ``thresholds[family]``, and E <= ``evalue``; families without a threshold use ``evalue``;
* ``evalue``: E <= ``evalue``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyhmmer
from pyhmmer.easel import DigitalSequenceBlock
from pyhmmer.plan7 import HMMFile

from lanhai.profiles.pack import Pack


@dataclass(frozen=True)
class Call:
    protein: str
    family: str
    score: float
    evalue: float
    substrates: tuple[str, ...]


def call_pack(pack: Pack, proteins: DigitalSequenceBlock, *, cpus: int = 1) -> list[Call]:
    """Every (protein, family) hit that passes ``pack``'s cut-off, sorted."""
    options: dict[str, Any] = {}
    if pack.cutoff in ("gathering", "trusted", "noise"):
        options["bit_cutoffs"] = pack.cutoff
    else:
        options["E"] = pack.evalue
    calls = []
    with HMMFile(pack.path) as hmm_file:
        for hits in pyhmmer.hmmer.hmmsearch(hmm_file, proteins, cpus=cpus, **options):
            family = str(hits.query.name)
            fam = pack.families.get(family)
            threshold = pack.thresholds.get(family) if pack.cutoff == "calibrated" else None
            on_domain = pack.threshold_on.get(family) == "domain"
            for hit in hits.included:
                if hit.evalue > pack.evalue and pack.cutoff in ("calibrated", "evalue"):
                    continue
                if threshold is not None:
                    score = max((d.score for d in hit.domains), default=0.0) if on_domain \
                        else hit.score
                    if score < threshold:
                        continue
                calls.append(Call(str(hit.name), family, round(float(hit.score), 1),
                                  float(hit.evalue), fam.substrates if fam else ()))
    return sorted(calls, key=lambda c: (c.protein, -c.score, c.family))
