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
    * new: :func:`lanhai.sequence.loci.predict_substrate` (weighted vote) over the general
      table ``cazy_substrates.toml`` (subfamily entries first);
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


def weighted(genes: Iterable[tuple[str, Mapping[str, Sequence[str]]]]) -> Call:
    from lanhai.sequence.loci import predict_substrate

    call = predict_substrate(genes)
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


# -- the dbCAN-PUL loci -------------------------------------------------------------------

def dbcan_pul_loci(path: Path) -> dict[str, tuple[str, dict[str, set[str]]]]:
    """Locus -> (its substrate label, gene -> module names (subfamily where known))."""
    loci: dict[str, tuple[str, dict[str, set[str]]]] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            gene = row["dbcan_pul_gene_id"] or row["id"].split("|")[0]
            module = row["subfamily"] or row["family"]
            for source in row["source"].split(","):
                locus = source.strip().removeprefix("dbCAN-PUL:")
                entry = loci.setdefault(locus, (row["pul_substrate"], {}))
                entry[1].setdefault(gene, set()).add(module)
    return loci


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


def evaluate(loci: Mapping[str, tuple[tuple[str, ...], Genes, Genes]], title: str) -> None:
    """Print overall and per-substrate exact / exact-or-related / top-2, old vs new."""
    old_all, new_all = Tally(), Tally()
    per: dict[str, tuple[Tally, Tally]] = defaultdict(lambda: (Tally(), Tally()))
    confidence: dict[bool, list[float]] = {True: [], False: []}
    confident = Tally()
    for _locus, (truth, old_genes, new_genes) in sorted(loci.items()):
        old, new = baseline(old_genes), weighted(new_genes)
        old_all.add(old, truth)
        new_all.add(new, truth)
        old_t, new_t = per[truth[0]]
        old_t.add(old, truth)
        new_t.add(new, truth)
        if new.confidence is not None:
            confidence[score(new, truth)[1]].append(new.confidence)
            if new.confidence >= 0.5:
                confident.add(new, truth)
    print(f"\n{title}: {old_all.n} loci with a substrate in the vocabulary")
    print(f"{'substrate':<28}{'loci':>5}   old: exact  rel  top2 |   new: exact  rel  top2")
    rows = sorted(per.items(), key=lambda kv: (-kv[1][0].n, kv[0]))
    for substrate, (old_t, new_t) in rows:
        print(f"{substrate:<28}{old_t.n:>5}   {old_t.cells():>16} |   {new_t.cells():>16}")
    print(f"{'all':<28}{old_all.n:>5}   {old_all.cells():>16} |   {new_all.cells():>16}")
    marine = [per[s] for s in MARINE_TERMS if s in per]
    if marine:
        old_m, new_m = Tally(), Tally()
        for old_t, new_t in marine:
            for total, part in ((old_m, old_t), (new_m, new_t)):
                for name in ("n", "exact", "near", "top2", "silent"):
                    setattr(total, name, getattr(total, name) + getattr(part, name))
        print(f"{'marine substrates only':<28}{old_m.n:>5}   {old_m.cells():>16} |   "
              f"{new_m.cells():>16}")
    print(f"no call: old {old_all.silent}, new {new_all.silent} of {new_all.n}")
    for ok in (True, False):
        values = confidence[ok]
        if values:
            print(f"new calls {'right (exact-or-related)' if ok else 'wrong':<26} "
                  f"n={len(values):<4} mean confidence {statistics.mean(values):.2f}")
    if confident.n:
        print(f"new calls with confidence >= 0.5: {confident.n} of {new_all.n} loci, "
              f"exact {100 * confident.exact / confident.n:.1f} %, "
              f"exact-or-related {100 * confident.near / confident.n:.1f} %")


def part_a(data: Path) -> None:
    from lanhai.profiles.substrates import normalise_label

    loci = dbcan_pul_loci(data / "cazy" / "labelled" / "families.tsv")
    known: dict[str, tuple[tuple[str, ...], Genes, Genes]] = {}
    unknown: Counter[str] = Counter()
    for locus, (label, genes) in loci.items():
        truth = normalise_label(label)
        if not truth:
            unknown[label] += 1
            continue
        old = [(g, marine_families(m)) for g, m in sorted(genes.items())]
        new = [(g, general_families(m)) for g, m in sorted(genes.items())]
        known[locus] = (truth, old, new)
    evaluate(known, "(a) dbCAN-PUL characterised loci (families from the labels)")
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
    for name, (families, substrates) in sources.items():
        loci = {}
        lines = []
        for pul, (truth, genes) in sorted(puls.items()):
            members = [(g, families[g]) for g in genes if families.get(g)]
            old = [(g, marine_families(m)) for g, m in members]
            new = [(g, {f: substrates.get(f, ()) for f in m}) for g, m in members]
            loci[pul] = (truth, old, new)
            o, n = baseline(old), weighted(new)
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
