"""What characterised polysaccharide utilisation loci say about their CAZymes.

The family -> substrate table (``cazy_substrates.toml``) says what a family's characterised
members act on; many families act on several substrates. Characterised loci add which
families occur *together* in a locus of each substrate: GH26 with GH130 and CE7 for
beta-mannan, GH16_3 with GH17 and GH30 for laminarin. :class:`LocusEvidence` counts, for
each substrate, the loci of that substrate and those holding each module (the subfamily and
its family), and scores a new locus's modules for each substrate by their summed log-odds
(a naive Bayes over the modules present). :func:`lanhai.sequence.loci.predict_substrate`
adds a small multiple of these scores to the table's votes: they order substrates the table
leaves tied or close, and name a substrate when no module has a table entry.

The shipped counts (``data/pul_evidence.tsv``) come from the characterised loci of dbCAN-PUL
(Ausland et al. 2021, Nucleic Acids Res 49:D523; the February 2025 release, as curated in
``../shared/data/cazy/labelled/families.tsv``), built by::

    python -m lanhai.profiles.pul_evidence --data ../shared/data/cazy/labelled/families.tsv

Measured with loci of the same genus held out together (``bench_pul_substrates``).
"""

from __future__ import annotations

import argparse
import csv
import functools
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lanhai.profiles.substrates import family_of, normalise_label

#: the shipped counts
SHIPPED = Path(__file__).with_name("data") / "pul_evidence.tsv"
#: pseudo-count of the module frequencies (a module seen in no locus of a substrate still
#: has a small probability there)
ALPHA = 0.5
#: the row of a substrate's own number of loci
ALL = "*"


def modules_of(name: str) -> set[str]:
    """The features a CAZyme module gives: its name (a subfamily where known) and its
    family (``GH16_3.hmm`` -> {GH16_3, GH16})."""
    clean = name.removesuffix(".hmm")
    family = family_of(clean)
    return {clean, family} if family else {clean}


@dataclass(frozen=True)
class LocusEvidence:
    """Counts of characterised loci: per substrate, and per substrate and module."""

    #: substrate -> characterised loci of it
    loci: Mapping[str, int]
    #: substrate -> module -> loci of it holding the module
    holding: Mapping[str, Mapping[str, int]]
    #: module -> loci holding it (any substrate)
    module_loci: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def count(cls, loci: Iterable[tuple[str, Iterable[str]]]) -> LocusEvidence:
        """Count loci given as (substrate term, the module names of its CAZymes)."""
        per: Counter[str] = Counter()
        holding: dict[str, Counter[str]] = defaultdict(Counter)
        for substrate, names in loci:
            per[substrate] += 1
            holding[substrate].update({m for n in names for m in modules_of(n)})
        return cls.of(dict(per), {s: dict(c) for s, c in holding.items()})

    @classmethod
    def of(cls, loci: Mapping[str, int], holding: Mapping[str, Mapping[str, int]]
           ) -> LocusEvidence:
        module_loci: Counter[str] = Counter()
        for modules in holding.values():
            module_loci.update(modules)
        return cls(loci, holding, dict(module_loci))

    @property
    def total(self) -> int:
        return sum(self.loci.values())

    def knows(self, names: Iterable[str]) -> bool:
        """Whether any of these modules occurs in a characterised locus."""
        return any(self.module_loci.get(m) for n in names for m in modules_of(n))

    def scores(self, names: Iterable[str]) -> dict[str, float]:
        """Substrate -> summed log-odds of a locus with these CAZyme modules: the
        substrate's share of loci, times for each module known to the evidence how much
        likelier it is in that substrate's loci than in all loci."""
        total = self.total
        if not total:
            return {}
        present = {m for n in names for m in modules_of(n) if self.module_loci.get(m)}
        out: dict[str, float] = {}
        for substrate, count in self.loci.items():
            held = self.holding.get(substrate, {})
            score = math.log(count / total)
            for module in present:
                inside = (held.get(module, 0) + ALPHA) / (count + 2 * ALPHA)
                overall = (self.module_loci[module] + ALPHA) / (total + 2 * ALPHA)
                score += math.log(inside / overall)
            out[substrate] = score
        return out

    # -- the shipped file -------------------------------------------------------------------
    def write(self, path: Path, provenance: Sequence[str]) -> None:
        """substrate, module (``*``: the substrate's loci), loci; sorted; comment header."""
        with path.open("w", encoding="utf-8", newline="") as out:
            for line in provenance:
                out.write(f"# {line}\n")
            out.write("substrate\tmodule\tloci\n")
            for substrate in sorted(self.loci):
                out.write(f"{substrate}\t{ALL}\t{self.loci[substrate]}\n")
                for module, count in sorted(self.holding.get(substrate, {}).items()):
                    out.write(f"{substrate}\t{module}\t{count}\n")

    @classmethod
    def read(cls, path: Path) -> LocusEvidence:
        loci: dict[str, int] = {}
        holding: dict[str, dict[str, int]] = defaultdict(dict)
        with path.open(encoding="utf-8") as handle:
            rows = csv.DictReader((ln for ln in handle if not ln.startswith("#")),
                                  delimiter="\t")
            for row in rows:
                if row["module"] == ALL:
                    loci[row["substrate"]] = int(row["loci"])
                else:
                    holding[row["substrate"]][row["module"]] = int(row["loci"])
        return cls.of(loci, dict(holding))


@functools.cache
def shipped() -> LocusEvidence:
    """The counts shipped with Lanhai (empty when the file is absent)."""
    if not SHIPPED.exists():
        return LocusEvidence({}, {})
    return LocusEvidence.read(SHIPPED)


# -- building from dbCAN-PUL ------------------------------------------------------------------

def dbcan_pul_loci(path: Path) -> dict[str, tuple[str, str, dict[str, set[str]]]]:
    """Locus -> (its substrate label, its organism, gene -> module names (subfamily where
    known)) from the labelled dbCAN-PUL CAZyme records (``labelled/families.tsv``)."""
    loci: dict[str, tuple[str, str, dict[str, set[str]]]] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            gene = row["dbcan_pul_gene_id"] or row["id"].split("|")[0]
            module = row["subfamily"] or row["family"]
            for source in row["source"].split(","):
                locus = source.strip().removeprefix("dbCAN-PUL:")
                entry = loci.setdefault(locus, (row["pul_substrate"], row["organism"], {}))
                entry[2].setdefault(gene, set()).add(module)
    return loci


def labelled(loci: Mapping[str, tuple[str, str, Mapping[str, set[str]]]]
             ) -> dict[str, tuple[str, list[str]]]:
    """Locus -> (its first substrate term, its modules), for loci whose label names a term
    of the vocabulary."""
    out: dict[str, tuple[str, list[str]]] = {}
    for locus, (label, _organism, genes) in loci.items():
        terms = normalise_label(label)
        if terms:
            out[locus] = (terms[0], sorted({m for mods in genes.values() for m in mods}))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Count the CAZyme modules of characterised "
                                                 "PULs per substrate (dbCAN-PUL)")
    parser.add_argument("--data", type=Path, required=True,
                        help="labelled/families.tsv of the dbCAN-PUL CAZyme records")
    parser.add_argument("--out", type=Path, default=SHIPPED)
    args = parser.parse_args(argv)
    loci = labelled(dbcan_pul_loci(args.data))
    evidence = LocusEvidence.count(loci.values())
    evidence.write(args.out, [
        "CAZyme modules of characterised PULs, per substrate: loci of the substrate (module *)",
        "and loci of it holding each module (a subfamily and its family both count).",
        f"Built by `python -m lanhai.profiles.pul_evidence --data {args.data.name}` from",
        "dbCAN-PUL (Ausland et al. 2021, Nucleic Acids Res 49:D523), the February 2025",
        f"release's CAZyme records: {len(loci)} loci whose substrate names a vocabulary term.",
    ])
    print(f"{len(loci)} loci, {len(evidence.loci)} substrates, "
          f"{len(evidence.module_loci)} modules -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
