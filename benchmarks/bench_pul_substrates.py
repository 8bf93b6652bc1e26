"""Benchmark: PUL substrate calls against experimentally characterised loci.

The data
    /work/shared/data/cazy (see its README):
    * ``labelled/families.tsv`` — CAZyme records of the dbCAN-PUL loci (Feb 2025 release) with
      their family (and subfamily where known) and the locus's substrate. Records are grouped by
      locus (the ``source`` column; a record may list several loci) and by gene (its dbCAN-PUL
      gene id); each gene's families are given to the caller as a locus's CAZymes are.
    * ``zobellia_characterized_pul_genes.tsv`` — the genes of 12 characterised Zobellia
      galactanivorans PULs. Their families come from searching the genes' proteins
      (``proteomes/Zobellia_galactanivorans_DsiJ.faa.gz``) with each CAZy pack at hand (the
      shipped marine-cazy pack, the general ``cazy`` pack when it is built) and, separately,
      from the dbCAN-PUL labels of the same genes.

What it measures, in the same run
    * table: :func:`lanhai.sequence.loci.predict_substrate` (weighted vote) over the general
      table ``cazy_substrates.toml`` (subfamily entries first), without counts of
      characterised loci;
    * table + loci: the same with the counts of characterised loci
      (:mod:`lanhai.profiles.pul_evidence`), as annotation runs it. The counts shipped are
      made from these very loci, so here each locus is called with counts made without the
      loci of its genus (five folds of genera; the Zobellia PULs without any Zobellia
      locus): a figure for genomes of genera the counts have never seen;
    * baseline: the previous caller — every CAZyme gene votes once for each substrate of its
      family in the marine table (``[marine]``), the majority wins, a tie names all.
    Each locus's substrate label is normalised to the table's vocabulary
    (:func:`lanhai.profiles.substrates.normalise_label`); loci whose label has no term there
    (beta-glucoside, fucose, ribose ...) are counted apart. A call is
    * exact: every substrate it names (ties included) is one of the label's terms;
    * exact-or-related: every substrate it names is the label's term or a kind of it or its
      broader term (laminarin for beta-glucan, mucin for host glycan, porphyran for agar);
    * top-2: a label term (or a related one) is among the tied winners or the two best votes.

Run it from the repository root::

    .venv/bin/python -m benchmarks.bench_pul_substrates [--data DIR]

It is not a test and asserts nothing; it prints the figures.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lanhai.profiles.pack import Pack
    from lanhai.profiles.pul_evidence import LocusEvidence

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
Genes = list[tuple[str, dict[str, tuple[str, ...]]]]
#: the substrates the old marine table knew (its own ground)
MARINE_TERMS = ("agar", "porphyran", "carrageenan", "alginate", "ulvan", "fucoidan",
                "laminarin", "chitin")


@dataclass
class Call:
    """What a caller said about one locus: the tied winners and the ranking."""

    winners: tuple[str, ...]
    ranked: tuple[str, ...]
    confidence: float | None = None


def baseline(genes: Iterable[tuple[str, Mapping[str, Sequence[str]]]]) -> Call:
    """The previous caller: each gene votes once per substrate of its families; majority."""
    votes: Counter[str] = Counter()
    for _protein, families in genes:
        votes.update({s for substrates in families.values() for s in substrates})
    if not votes:
        return Call((), ())
    best = max(votes.values())
    ranked = tuple(sorted(votes, key=lambda s: (-votes[s], s)))
    return Call(tuple(sorted(s for s, n in votes.items() if n == best)), ranked)


def weighted(genes: Iterable[tuple[str, Mapping[str, Sequence[str]]]],
             evidence: LocusEvidence) -> Call:
    from lanhai.sequence.loci import predict_substrate

    call = predict_substrate(genes, evidence)
    return Call(call.tied, tuple(s for s, _ in call.ranked), call.confidence)


def marine_families(names: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Family -> substrates in the marine table (subfamilies take their family's entry)."""
    from lanhai.profiles.registry import cazy_family, marine_substrates

    table = marine_substrates()
    return {n: table.get(cazy_family(n) or "", ()) for n in names}


def general_families(names: Iterable[str]) -> dict[str, tuple[str, ...]]:
    from lanhai.profiles.registry import substrates_for

    return {n: substrates_for(n) for n in names}


def score(call: Call, truth: tuple[str, ...]) -> tuple[bool, bool, bool]:
    """(exact, exact-or-related, top-2) of a call against the label's terms."""
    from lanhai.profiles.substrates import related

    if not call.winners or not truth:
        return False, False, False
    exact = all(w in truth for w in call.winners)
    near = all(any(related(w, t) for t in truth) for w in call.winners)
    shortlist = set(call.winners) | set(call.ranked[:2])
    top2 = any(related(s, t) for s in shortlist for t in truth)
    return exact, near, top2


@dataclass
class Tally:
    n: int = 0
    exact: int = 0
    near: int = 0
    top2: int = 0
    silent: int = 0

    def add(self, call: Call, truth: tuple[str, ...]) -> None:
        self.n += 1
        exact, near, top2 = score(call, truth)
        self.exact += exact
        self.near += near
        self.top2 += top2
        self.silent += not call.winners

    def cells(self) -> str:
        def pct(k: int) -> str:
            return f"{100 * k / self.n:5.1f}" if self.n else "    -"
        return f"{pct(self.exact)} {pct(self.near)} {pct(self.top2)}"


def evaluate(loci: Mapping[str, tuple[tuple[str, ...], Genes, Genes, LocusEvidence]],
             title: str) -> None:
    """Print overall and per-substrate exact / exact-or-related / top-2: the old caller, the
    table alone, the table with counts of characterised loci (each locus's own counts)."""
    from lanhai.profiles.pul_evidence import LocusEvidence

    nothing = LocusEvidence({}, {})
    names = ("old", "table", "table + loci")
    totals = {n: Tally() for n in names}
    per: dict[str, dict[str, Tally]] = defaultdict(lambda: {n: Tally() for n in names})
    confidence: dict[bool, list[float]] = {True: [], False: []}
    confident = Tally()
    for _locus, (truth, old_genes, new_genes, evidence) in sorted(loci.items()):
        calls = {"old": baseline(old_genes), "table": weighted(new_genes, nothing),
                 "table + loci": weighted(new_genes, evidence)}
        for name, call in calls.items():
            totals[name].add(call, truth)
            per[truth[0]][name].add(call, truth)
        new = calls["table + loci"]
        if new.confidence is not None:
            confidence[score(new, truth)[1]].append(new.confidence)
            if new.confidence >= 0.5:
                confident.add(new, truth)
    print(f"\n{title}: {totals['old'].n} loci with a substrate in the vocabulary")
    print(f"{'substrate':<28}{'loci':>5}   " + " | ".join(
        f"{n + ':':<13}exact  rel  top2" for n in names))
    for substrate, tallies in sorted(per.items(), key=lambda kv: (-kv[1]["old"].n, kv[0])):
        print(f"{substrate:<28}{tallies['old'].n:>5}   " + " | ".join(
            f"{'':<11}{tallies[n].cells()}" for n in names))
    print(f"{'all':<28}{totals['old'].n:>5}   " + " | ".join(
        f"{'':<11}{totals[n].cells()}" for n in names))
    marine = [per[s] for s in MARINE_TERMS if s in per]
    if marine:
        sums = {n: Tally() for n in names}
        for tallies in marine:
            for n in names:
                for field_ in ("n", "exact", "near", "top2", "silent"):
                    setattr(sums[n], field_, getattr(sums[n], field_) +
                            getattr(tallies[n], field_))
        print(f"{'marine substrates only':<28}{sums['old'].n:>5}   " + " | ".join(
            f"{'':<11}{sums[n].cells()}" for n in names))
    print("no call: " + ", ".join(f"{n} {totals[n].silent}" for n in names)
          + f" of {totals['old'].n}")
    for ok in (True, False):
        values = confidence[ok]
        if values:
            print(f"table + loci calls {'right (exact-or-related)' if ok else 'wrong':<26} "
                  f"n={len(values):<4} mean confidence {statistics.mean(values):.2f}")
    if confident.n:
        print(f"table + loci calls with confidence >= 0.5: {confident.n} of "
              f"{totals['old'].n} loci, exact {100 * confident.exact / confident.n:.1f} %, "
              f"exact-or-related {100 * confident.near / confident.n:.1f} %")


def genus_folds(organisms: Mapping[str, str], folds: int = 5) -> dict[str, int]:
    """Locus -> its fold: the genera (an organism's first word) dealt into ``folds`` at
    random (seed 1), so that a genus's loci are held out together."""
    import random

    genera = sorted({o.split()[0] if o else "" for o in organisms.values()})
    random.Random(1).shuffle(genera)
    fold = {g: n % folds for n, g in enumerate(genera)}
    return {locus: fold[o.split()[0] if o else ""] for locus, o in organisms.items()}


def part_a(data: Path) -> None:
    from lanhai.profiles.pul_evidence import LocusEvidence, dbcan_pul_loci, labelled
    from lanhai.profiles.substrates import normalise_label

    loci = dbcan_pul_loci(data / "cazy" / "labelled" / "families.tsv")
    counted = labelled(loci)
    fold = genus_folds({locus: organism for locus, (_, organism, _) in loci.items()})
    evidence = [LocusEvidence.count(entry for locus, entry in counted.items()
                                    if fold[locus] != k) for k in range(5)]
    known: dict[str, tuple[tuple[str, ...], Genes, Genes, LocusEvidence]] = {}
    unknown: Counter[str] = Counter()
    for locus, (label, _organism, genes) in loci.items():
        truth = normalise_label(label)
        if not truth:
            unknown[label] += 1
            continue
        old = [(g, marine_families(m)) for g, m in sorted(genes.items())]
        new = [(g, general_families(m)) for g, m in sorted(genes.items())]
        known[locus] = (truth, old, new, evidence[fold[locus]])
    evaluate(known, "(a) dbCAN-PUL characterised loci (families from the labels; counts of "
                    "characterised loci without the locus's genus)")
    print(f"left out, label outside the vocabulary: {sum(unknown.values())} loci "
          f"({', '.join(f'{k} {v}' for k, v in unknown.most_common())})")


# -- Zobellia galactanivorans --------------------------------------------------------------

def _proteome(path: Path) -> dict[str, str]:
    """Locus tag (ZOBELLIA_3573) -> protein sequence."""
    sequences: dict[str, list[str]] = {}
    current = ""
    with gzip.open(path, "rt") as handle:
        for line in handle:
            if line.startswith(">"):
                current = line[1:].split()[0].split("_[")[0]
                sequences[current] = []
            else:
                sequences[current].append(line.strip().replace("*", ""))
    return {k: "".join(v) for k, v in sequences.items()}


def _packs() -> list[Pack]:
    """The CAZy packs at hand: the shipped marine-cazy pack, the general one if built."""
    from lanhai.profiles.registry import MANIFEST, builtin_dir, builtin_pack

    packs = [builtin_pack("marine-cazy")]
    if (builtin_dir() / "cazy" / MANIFEST).is_file():
        packs.append(builtin_pack("cazy"))
    return packs


def part_b(data: Path) -> None:
    from lanhai.profiles import hmmtools
    from lanhai.profiles.calls import call_pack
    from lanhai.profiles.pul_evidence import LocusEvidence, dbcan_pul_loci, labelled
    from lanhai.profiles.substrates import normalise_label
    from lanhai.sequence.loci import SULFATASE, role_of

    cazy = data / "cazy"
    puls: dict[str, tuple[tuple[str, ...], list[str]]] = {}
    with (cazy / "zobellia_characterized_pul_genes.tsv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            entry = puls.setdefault(row["pul_id"], (normalise_label(row["substrate"]), []))
            entry[1].append(row["locus_tag"])
    proteome = _proteome(cazy / "proteomes" / "Zobellia_galactanivorans_DsiJ.faa.gz")
    tags = sorted({t for _, genes in puls.values() for t in genes if t in proteome})
    #: source -> (gene -> module names, module -> substrates for the new caller)
    sources: dict[str, tuple[dict[str, set[str]], dict[str, tuple[str, ...]]]] = {}
    for pack in _packs():
        found: dict[str, set[str]] = defaultdict(set)
        for hit in call_pack(pack, hmmtools.digitize({t: proteome[t] for t in tags})):
            if role_of(hit.family, pack.category, pack.families[hit.family].role
                       if hit.family in pack.families else None) != SULFATASE:
                found[hit.protein].add(hit.family)
        # as annotation does: the substrates the pack's manifest (or the table) gives
        sources[f"pack {pack.name}"] = (found, {n: f.substrates
                                                 for n, f in pack.families.items()})
    labels: dict[str, set[str]] = defaultdict(set)
    with (cazy / "labelled" / "families.tsv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if row["locus_tag"].startswith("ZOBELLIA_"):
                labels[row["locus_tag"]].add(row["subfamily"] or row["family"])
    sources["dbCAN-PUL labels"] = (labels, general_families(
        {m for modules in labels.values() for m in modules}))
    every = dbcan_pul_loci(cazy / "labelled" / "families.tsv")
    others = LocusEvidence.count(entry for locus, entry in labelled(every).items()
                                 if not every[locus][1].startswith("Zobellia"))
    for name, (families, substrates) in sources.items():
        loci = {}
        lines = []
        for pul, (truth, genes) in sorted(puls.items()):
            members = [(g, families[g]) for g in genes if families.get(g)]
            old = [(g, marine_families(m)) for g, m in members]
            new = [(g, {f: substrates.get(f, ()) for f in m}) for g, m in members]
            loci[pul] = (truth, old, new, others)
            o, n = baseline(old), weighted(new, others)
            modules = ",".join(sorted({f for _, m in members for f in m}))
            lines.append(f"  {pul} {'/'.join(truth):<19} {modules[:34]:<35}"
                         f"old {'/'.join(o.winners) or '-':<15.15} new {'/'.join(n.winners) or '-'}"
                         f"{f' ({n.confidence:.2f})' if n.confidence is not None else ''}")
        evaluate(loci, f"(b) Zobellia galactanivorans characterised PULs, families from {name}")
        print("\n".join(lines))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args(list(argv) if argv is not None else None)
    if not (args.data / "cazy" / "labelled" / "families.tsv").is_file():
        print(f"no data at {args.data}/cazy: skipped")
        return 0
    started = time.perf_counter()
    part_a(args.data)
    part_b(args.data)
    print(f"\n{time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
