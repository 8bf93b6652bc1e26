"""Benchmark: characterised PULs of whole proteomes found and called by the annotation path.

The question a user asks: on a genome with experimentally characterised polysaccharide
utilisation loci, what share of them does Lanhai find as a PUL, and call with the right
substrate? (``bench_pul_substrates`` gives the substrate caller each locus's genes directly;
this one runs the whole annotation and has to find the loci first.)

The data
    /work/shared/data/cazy (see its README):
    * ``proteomes/Zobellia_galactanivorans_DsiJ.faa.gz`` (proteins in locus-tag order, which
      is gene order) and ``zobellia_characterized_pul_genes.tsv``: the genes of the
      characterised Z. galactanivorans loci with their substrate;
    * ``labelled/families.tsv``: the CAZyme genes (dbCAN-PUL families) of every dbCAN-PUL
      locus and the locus's substrate as the Feb 2025 release words it. A characterised locus
      is the union of both sources' genes; its CAZyme genes are those with a dbCAN-PUL family;
      its substrate terms are those of both labels (``laminarin,alginate`` and ``beta-glucan``
      for PUL0314), normalised with :func:`lanhai.profiles.substrates.normalise_label`.
    * The unseen case: labelled loci of a strain the CAZy packs held out of training
      (``held_out_strains`` in the packs' provenance) whose proteome is in ``proteomes/``
      (found through the column ``identical_in_dev_proteome``): Maribacter 62-1 (dbCAN-PUL's
      "Maribacter dokdonensis 62-1"), two alginate loci. Its genes are mapped to the proteome
      by sequence (dbCAN-PUL names RefSeq locus tags, the proteome MAR621_ ones); the labelled
      data lists only a locus's CAZyme genes, so its genes are taken as the proteome's genes
      from its first to its last CAZyme.

Honesty about what this measures
    Zobellia galactanivorans DsiJ is one of the ``training_strains`` of the ``cazy`` and
    ``marine-cazy`` packs (pack.json provenance), and the ``cazy`` pack's seeds include the
    dbCAN-PUL labelled proteins, these loci's CAZymes among them. On Zobellia this is a check
    of the pipeline (profiles -> signature genes -> loci -> substrate call), not of how it
    generalises. Maribacter 62-1 is held out of both packs' training: it is the unseen case.

What it runs, in the same run, per proteome
    The real annotation path as ``lanhai annotate`` runs it on a proteome: a temporary bank
    (``LANHAI_DATA_DIR``), the proteome ingested into an assembly record, then
    :meth:`lanhai.services.sequences.SequenceService.annotate` (step ``families``) with
    * every built-in pack (``registry.BUILTIN``), and
    * the baseline: every built-in pack except ``cazy`` (the previous default);
    the loci are read back through the service (``rows(..., "loci")``). The packs are pressed
    into the bank's cache first (timed apart, as the first use of a bank pays once). Each run
    is timed in wall-clock seconds and in CPU seconds of all its threads (the steadier figure
    on a shared machine).

Scoring
    A predicted PUL finds a characterised locus by the CAZyme criterion when it holds at
    least one of the locus's CAZyme genes, and by the half criterion when it holds at least
    half of the locus's genes. The substrate of the predicted PUL that finds it (most shared
    CAZyme genes, then most shared genes) is right
    * exactly when every substrate it names (ties included) is one of the locus's terms,
    * or related when each is one of them, a kind of one or its broader term
    (``bench_pul_substrates.score``).
    Each locus also shows its signature genes as the run's hits see them: a predicted PUL
    needs a SusC gene next to a SusD gene and CAZymes chained with at most two other genes
    between signature genes (:mod:`lanhai.sequence.loci`), so a characterised locus without
    SusC/SusD (three alginate lyases, PUL0313) is found only when a neighbouring PUL spans it.

Run it from the repository root::

    .venv/bin/python -m benchmarks.bench_pul_genome [--data DIR] [--threads 2]

It is not a test and asserts nothing; it prints the figures.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import itertools
import json
import os
import re
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.bench_pul_substrates import Call, score

if TYPE_CHECKING:
    from lanhai.profiles.pack import Pack

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
ZOBELLIA = "Zobellia_galactanivorans_DsiJ"
#: window length and start offsets used to find a labelled protein in a proteome whose copy
#: differs at its ends (another start codon)
WINDOW, OFFSETS = 40, (20, 120, 220)


@dataclass(frozen=True)
class Characterised:
    """One experimentally characterised locus of a proteome."""

    genome: str  #: proteome file stem
    pul_id: str
    labels: tuple[str, ...]  #: its substrate as each source words it
    truth: tuple[str, ...]  #: the vocabulary terms of those labels
    genes: tuple[str, ...]  #: its proteins (proteome ids), in gene order
    cazymes: frozenset[str]  #: those with a CAZy family


@dataclass(frozen=True)
class Criterion:
    """Whether one criterion finds a locus, the predicted PUL that does, and its call."""

    found: bool
    locus: Mapping[str, Any] | None
    exact: bool
    related: bool


@dataclass(frozen=True)
class Match:
    """A characterised locus against the predicted PULs of its proteome."""

    pul: Characterised
    by_cazyme: Criterion
    by_half: Criterion
    overlapping: tuple[str, ...]  #: ids of every predicted PUL sharing a gene with it


def call_of(locus: Mapping[str, Any]) -> Call:
    """A stored locus's substrate call (tied substrates are joined by '/')."""
    winners = tuple(locus["substrate"].split("/")) if locus.get("substrate") else ()
    return Call(winners, winners, locus.get("substrate_confidence"))


def match(pul: Characterised, loci: Sequence[Mapping[str, Any]]) -> Match:
    """Match a characterised locus to predicted PULs by gene overlap and score the calls.

    For each criterion the PUL that finds it is the one with the most shared CAZyme genes,
    then the most shared genes, then the first in gene order."""
    genes = set(pul.genes)
    ranked: list[tuple[int, int, int, Mapping[str, Any]]] = []
    for order, locus in enumerate(loci):
        shared = genes & set(locus["proteins"])
        if shared:
            ranked.append((len(shared & pul.cazymes), len(shared), -order, locus))
    ranked.sort(key=lambda r: r[:3], reverse=True)

    def criterion(ok: list[tuple[int, int, int, Mapping[str, Any]]]) -> Criterion:
        if not ok:
            return Criterion(False, None, False, False)
        locus = ok[0][3]
        exact, near, _ = score(call_of(locus), pul.truth)
        return Criterion(True, locus, exact, near)

    return Match(pul,
                 criterion([r for r in ranked if r[0] > 0]),
                 criterion([r for r in ranked if 2 * r[1] >= len(genes)]),
                 tuple(str(r[3]["locus_id"]) for r in sorted(ranked, key=lambda r: -r[2])))


# -- the characterised loci ----------------------------------------------------------------

def read_fasta(path: Path) -> dict[str, str]:
    """Id (first word of the header) -> sequence (without '*'), in file order."""
    sequences: dict[str, list[str]] = {}
    current = ""
    with gzip.open(path, "rt") as handle:
        for line in handle:
            if line.startswith(">"):
                current = line[1:].split()[0]
                sequences[current] = []
            else:
                sequences[current].append(line.strip().replace("*", ""))
    return {k: "".join(v) for k, v in sequences.items()}


def tag_of(protein_id: str) -> str:
    """The locus tag of a proteome id: ``ZOBELLIA_4203_[Zobellia_galactanivorans_DsiJ]`` ->
    ``ZOBELLIA_4203``."""
    return protein_id.split("_[")[0]


def locate(sequence: str, proteome: Mapping[str, str],
           by_sequence: Mapping[str, list[str]]) -> str | None:
    """The proteome protein identical to ``sequence``, else the one protein holding the most
    of a few of its windows (at least two), else None."""
    same = by_sequence.get(sequence)
    if same:
        return same[0]
    windows = [sequence[i:i + WINDOW] for i in OFFSETS if i + WINDOW <= len(sequence)]
    counts = {p: sum(w in s for w in windows) for p, s in proteome.items()}
    best = max(counts.values(), default=0)
    found = [p for p, n in counts.items() if n == best]
    return found[0] if best >= 2 and len(found) == 1 else None


def labelled_loci(path: Path) -> dict[str, dict[str, Any]]:
    """dbCAN-PUL locus -> organism, substrate label, proteome guesses and gene -> (labelled
    record ids, locus tag)."""
    loci: dict[str, dict[str, Any]] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            gene = row["locus_tag"] or row["dbcan_pul_gene_id"] or row["id"].split("|")[0]
            for source in row["source"].split(","):
                pul = source.strip().removeprefix("dbCAN-PUL:")
                entry = loci.setdefault(pul, {"organism": row["organism"],
                                              "label": row["pul_substrate"], "genes": {},
                                              "proteomes": {}})
                entry["genes"].setdefault(gene, []).append(row["id"])
                if row["identical_in_dev_proteome"]:
                    entry["proteomes"][row["identical_in_dev_proteome"]] = \
                        entry["proteomes"].get(row["identical_in_dev_proteome"], 0) + 1
    return loci


def zobellia_loci(cazy: Path, labelled: Mapping[str, Mapping[str, Any]],
                  proteome: Sequence[str]) -> list[Characterised]:
    """The characterised Z. galactanivorans loci (both sources' genes and labels)."""
    from lanhai.profiles.substrates import normalise_label

    ids = {tag_of(p): p for p in proteome}
    position = {p: i for i, p in enumerate(proteome)}
    listed: dict[str, tuple[str, list[str]]] = {}
    with (cazy / "zobellia_characterized_pul_genes.tsv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            listed.setdefault(row["pul_id"], (row["substrate"], []))[1].append(row["locus_tag"])
    ours = {pul: entry for pul, entry in labelled.items()
            if entry["organism"] == "Zobellia galactanivorans"}
    found = []
    for pul in sorted(set(listed) | set(ours)):
        labels = [listed[pul][0]] if pul in listed else []
        tags = set(listed.get(pul, ("", []))[1])
        cazymes: set[str] = set()
        if pul in ours:
            labels.append(ours[pul]["label"])
            tags |= set(ours[pul]["genes"])
            cazymes = {ids[t] for t in ours[pul]["genes"] if t in ids}
        genes = sorted((ids[t] for t in tags if t in ids), key=position.__getitem__)
        truth = tuple(dict.fromkeys(t for label in labels for t in normalise_label(label)))
        found.append(Characterised(ZOBELLIA, pul, tuple(dict.fromkeys(labels)), truth,
                                   tuple(genes), frozenset(cazymes)))
    return found


def unseen_loci(cazy: Path, labelled: Mapping[str, Mapping[str, Any]], held_out: Iterable[str]
                ) -> tuple[list[Characterised], list[str]]:
    """Labelled loci of the held-out strains with a proteome here, mapped to it by sequence;
    and a note for each other labelled locus of these genera left out, with the reason."""
    from lanhai.profiles.substrates import normalise_label

    held = set(held_out)
    records = read_fasta(cazy / "labelled" / "families.faa.gz")
    proteomes: dict[str, tuple[dict[str, str], dict[str, list[str]], list[str]]] = {}
    found: list[Characterised] = []
    notes: list[str] = []
    genera = ("Maribacter", "Zobellia amurskyensis", "Muricauda")
    for pul, entry in sorted(labelled.items()):
        if entry["organism"] == "Zobellia galactanivorans":
            continue
        counts: dict[str, int] = entry["proteomes"]
        strain = max(counts, key=counts.__getitem__) if counts else None
        there = strain is not None and (cazy / "proteomes" / f"{strain}.faa.gz").is_file()
        if not entry["organism"].startswith(genera) and not (there and strain in held):
            continue
        if strain is None or not there:
            notes.append(f"not run: {pul} ({entry['organism']}, {entry['label']}): no proteome "
                         "here")
            continue
        if strain not in held:
            notes.append(f"not run: {pul} ({entry['organism']}, {entry['label']}): {strain} "
                         "is a training strain")
            continue
        if strain not in proteomes:
            sequences = read_fasta(cazy / "proteomes" / f"{strain}.faa.gz")
            index: dict[str, list[str]] = {}
            for protein, sequence in sequences.items():
                index.setdefault(sequence, []).append(protein)
            proteomes[strain] = (sequences, index, list(sequences))
        sequences, index, order = proteomes[strain]
        mapped = {locate(records[r], sequences, index)
                  for rs in entry["genes"].values() for r in rs}
        cazymes = {p for p in mapped if p is not None}
        if not cazymes:
            notes.append(f"not run: {pul} ({entry['organism']}): no gene found in {strain}")
            continue
        if None in mapped:
            notes.append(f"{pul} ({entry['organism']}): some CAZyme genes not found in "
                         f"{strain}, left out")
        at = sorted(order.index(p) for p in cazymes)
        found.append(Characterised(strain, pul, (entry["label"],),
                                   normalise_label(entry["label"]),
                                   tuple(order[at[0]:at[-1] + 1]), frozenset(cazymes)))
    return found, notes


def held_out_strains() -> list[str]:
    """The strains the CAZy packs left out of training (their pack.json provenance)."""
    from lanhai.profiles.registry import builtin_dir

    held: list[str] = []
    for name in ("cazy", "marine-cazy"):
        manifest = builtin_dir() / name / "pack.json"
        if manifest.is_file():
            provenance = json.loads(manifest.read_text(encoding="utf-8")).get("provenance", {})
            held += [s for s in provenance.get("held_out_strains", []) if s not in held]
    return held


# -- the annotation runs -------------------------------------------------------------------

@dataclass
class Run:
    """One annotation of one proteome with one set of packs."""

    genome: str
    label: str
    packs: tuple[str, ...]
    seconds: float
    cpu_seconds: float
    loci: list[dict[str, Any]]
    #: protein -> its signature roles and CAZy families, from the stored hits
    signatures: dict[str, tuple[set[str], set[str]]]


def signature_genes(hits: Iterable[Mapping[str, Any]], packs: Sequence[Pack]
                    ) -> dict[str, tuple[set[str], set[str]]]:
    """Protein -> (signature roles, CAZyme and sulfatase families) from stored hits, by the
    rule annotation applies (:func:`lanhai.sequence.loci.role_of`)."""
    from lanhai.sequence.loci import CAZYME, SULFATASE, role_of

    roles = {p.name: {n: f.role for n, f in p.families.items()} for p in packs}
    found: dict[str, tuple[set[str], set[str]]] = {}
    for hit in hits:
        role = role_of(hit["family"], hit["category"], roles.get(hit["pack"], {}).get(
            hit["family"]))
        if role is not None:
            entry = found.setdefault(hit["protein_id"], (set(), set()))
            entry[0].add(role)
            if role in (CAZYME, SULFATASE):
                entry[1].add(hit["family"])
    return found


def press(bank: Path, names: Sequence[str]) -> float:
    """Press the packs into the bank's cache, as its first annotation does; seconds."""
    from lanhai.profiles import pressed
    from lanhai.profiles.registry import load_packs

    started = time.perf_counter()
    cache = pressed.cache_folder(bank / "profiles")
    for pack in load_packs(bank / "profiles", names):
        pressed.ensure(pack, cache)
    return time.perf_counter() - started


def annotate(folder: Path, proteomes: Mapping[str, Path], pack_sets: Mapping[str, Sequence[str]],
             threads: int) -> list[Run]:
    """Ingest each proteome into a new bank and annotate it with each pack set in turn,
    reading the loci back through the results service."""
    bank_dir = folder / "bank"
    bank_dir.mkdir()
    before = os.environ.get("LANHAI_DATA_DIR")
    # `lanhai annotate` finds its bank (and the packs' pressed cache) by LANHAI_DATA_DIR
    os.environ["LANHAI_DATA_DIR"] = str(bank_dir)
    try:
        return _annotate(folder, bank_dir, proteomes, pack_sets, threads)
    finally:
        if before is None:
            os.environ.pop("LANHAI_DATA_DIR", None)
        else:
            os.environ["LANHAI_DATA_DIR"] = before


def _annotate(folder: Path, bank_dir: Path, proteomes: Mapping[str, Path],
              pack_sets: Mapping[str, Sequence[str]], threads: int) -> list[Run]:
    from lanhai.bank import init_bank
    from lanhai.services.access import Actor
    from lanhai.settings import Settings

    bank = init_bank(Settings(data_dir=bank_dir,
                              database_url=f"sqlite:///{folder / 'bank.sqlite'}"))
    every = sorted({n for names in pack_sets.values() for n in names})
    print(f"pressing {', '.join(every)} into the new bank's cache: "
          f"{press(bank_dir, every):.1f} s (once per bank)", flush=True)
    actor = Actor("bench", "curator")
    service = bank.sequences
    runs = []
    for genome, path in proteomes.items():
        record = bank.catalog.create(actor, "assembly", {
            "assembly_name": genome, "assembly_type": "isolate genome",
            "seq_meth": "Sanger", "assembly_software": "Arachne"})
        service.ingest(actor, record.accession, path, kind="proteome", allow_stops=True)
        for label, names in pack_sets.items():
            started, cpu = time.perf_counter(), time.process_time()
            report = service.annotate(actor, [record.accession], pack_names=list(names),
                                      steps=["families"], threads=threads)
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            if report["failed"]:
                raise SystemExit(f"annotation failed: {report['failed']}")
            loci = list(service.rows(actor, record.accession, "loci"))
            signatures = signature_genes(service.rows(actor, record.accession, "hits"),
                                         bank.profiles.load(list(names)))
            runs.append(Run(genome, label, tuple(names), seconds, cpu, loci, signatures))
            item = report["assemblies"][0]
            print(f"  {genome}, {label}: {seconds:.1f} s ({cpu:.1f} s CPU), "
                  f"{item['hit_count']} hits, {len(loci)} PULs", flush=True)
    bank.close()
    return runs


# -- printing ------------------------------------------------------------------------------

def _span(genes: Sequence[str]) -> str:
    return f"{tag_of(genes[0])}..{tag_of(genes[-1])}" if genes else "-"


def _families(locus: Mapping[str, Any]) -> str:
    return " ".join(f for f in locus["families"] if f)


def _mark(flag: bool) -> str:
    return "yes" if flag else "no"


def diagnose(pul: Characterised, signatures: Mapping[str, tuple[set[str], set[str]]]) -> str:
    """The signature genes of a characterised locus as the run's hits see them ('tag
    role[families]'), and whether a SusC gene lies next to a SusD gene (a PUL needs both)."""
    from lanhai.sequence.loci import SUSC, SUSD

    parts = []
    roles = [signatures.get(g, (set(), set()))[0] for g in pul.genes]
    for gene, (found, families) in ((g, signatures[g]) for g in pul.genes if g in signatures):
        kinds = ",".join(sorted(found))
        parts.append(f"{tag_of(gene)} {kinds}" + (f"[{','.join(sorted(families))}]"
                                                   if families else ""))
    pair = any((SUSC in a and SUSD in b) or (SUSD in a and SUSC in b)
               for a, b in itertools.pairwise(roles))
    hit = sum(g in pul.cazymes and bool(signatures.get(g, (set(), set()))[1])
              for g in pul.genes)
    return (f"signature genes: {'; '.join(parts) or 'none'}; CAZyme genes with a CAZy hit "
            f"{hit}/{len(pul.cazymes)}; SusC next to SusD among its genes: {_mark(pair)}")


def _short(text: str) -> str:
    """Evidence with proteome ids cut to their locus tags."""
    return re.sub(r"_\[[^\]]*\]", "", text)


def describe(m: Match, signatures: Mapping[str, tuple[set[str], set[str]]]) -> list[str]:
    """The lines for one characterised locus."""
    pul = m.pul
    cazymes = ",".join(tag_of(g) for g in pul.genes if g in pul.cazymes)
    lines = [f"  {pul.pul_id} [{' | '.join(pul.labels)} -> {'/'.join(pul.truth) or '-'}] "
             f"genes {_span(pul.genes)} ({len(pul.genes)}; CAZymes {cazymes})",
             f"    {diagnose(pul, signatures)}"]
    seen: set[str] = set()
    for name, c in (("CAZyme gene", m.by_cazyme), ("half the genes", m.by_half)):
        if c.locus is None:
            lines.append(f"    found by {name}: no")
            continue
        locus = c.locus
        shared = set(pul.genes) & set(locus["proteins"])
        confidence = locus.get("substrate_confidence")
        lines.append(f"    found by {name}: yes, {locus['locus_id']} "
                     f"{tag_of(locus['first_protein'])}..{tag_of(locus['last_protein'])} "
                     f"({locus['gene_count']} genes, {len(shared)} shared); called "
                     f"{locus['substrate'] or '-'}"
                     f"{f' ({confidence:.2f})' if confidence is not None else ''}; "
                     f"exact {_mark(c.exact)}, related {_mark(c.related)}")
        if locus["locus_id"] not in seen:
            seen.add(locus["locus_id"])
            lines.append(f"      families: {_families(locus)}")
            lines.append(f"      evidence: {_short(locus['substrate_evidence'])}")
    if len(m.overlapping) > 1:
        lines.append(f"    overlapping predicted PULs: {', '.join(m.overlapping)}")
    return lines


def _share(k: int, n: int) -> str:
    return f"{k}/{n} ({100 * k / n:.1f} %)" if n else "-"


def totals(matches: Sequence[Match]) -> list[str]:
    """Found share and found-with-right-substrate share, per criterion."""
    n = len(matches)
    lines = []
    for name, pick in (("CAZyme gene", _by_cazyme), ("half the genes", _by_half)):
        criteria = [pick(m) for m in matches]
        found = sum(c.found for c in criteria)
        exact, near = sum(c.exact for c in criteria), sum(c.related for c in criteria)
        lines.append(f"    by {name:<15} found {_share(found, n):<17} found + exact "
                     f"{_share(exact, n):<17} found + exact-or-related {_share(near, n)}"
                     f" ({exact} and {near} of the {found} found)")
    return lines


def _by_cazyme(m: Match) -> Criterion:
    return m.by_cazyme


def _by_half(m: Match) -> Criterion:
    return m.by_half


def report(runs: Sequence[Run], loci: Sequence[Characterised]) -> None:
    """Per run: each characterised locus and its match; the totals; a summary table."""
    summary = []
    for run in runs:
        ours = [p for p in loci if p.genome == run.genome]
        if not ours:
            continue
        matches = [match(p, run.loci) for p in ours]
        hit = {i for m in matches for i in m.overlapping}
        print(f"\n{run.genome}, packs {run.label} ({', '.join(run.packs)}): "
              f"{run.seconds:.1f} s ({run.cpu_seconds:.1f} s CPU); {len(run.loci)} predicted "
              f"PULs, {len(hit)} of them overlap a characterised locus")
        for m in matches:
            print("\n".join(describe(m, run.signatures)))
        print(f"  totals over {len(ours)} characterised loci:")
        print("\n".join(totals(matches)))
        summary.append((run, matches))
    print("\nsummary: characterised loci found / found with the right substrate "
          "(exact | exact-or-related)")
    print(f"  {'proteome':<30} {'packs':<20} {'wall s':>7} {'CPU s':>7}   "
          f"{'by CAZyme gene':<16} by half the genes")
    for run, matches in summary:
        n = len(matches)
        cells = []
        for pick in (_by_cazyme, _by_half):
            c = [pick(m) for m in matches]
            cells.append(f"{sum(x.found for x in c)} / {sum(x.exact for x in c)} | "
                         f"{sum(x.related for x in c)} of {n}")
        print(f"  {run.genome:<30} {run.label:<20} {run.seconds:7.1f} {run.cpu_seconds:7.1f}"
              f"   {cells[0]:<16} {cells[1]}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(list(argv) if argv is not None else None)
    cazy = args.data / "cazy"
    if not (cazy / "labelled" / "families.tsv").is_file():
        print(f"no data at {cazy}: skipped")
        return 0
    from lanhai.profiles.registry import BUILTIN

    started, cpu = time.perf_counter(), time.process_time()
    labelled = labelled_loci(cazy / "labelled" / "families.tsv")
    proteomes = {ZOBELLIA: cazy / "proteomes" / f"{ZOBELLIA}.faa.gz"}
    loci = zobellia_loci(cazy, labelled, list(read_fasta(proteomes[ZOBELLIA])))
    unseen, notes = unseen_loci(cazy, labelled, held_out_strains())
    loci += unseen
    for genome in dict.fromkeys(p.genome for p in unseen):
        proteomes[genome] = cazy / "proteomes" / f"{genome}.faa.gz"
    counts = ", ".join(f"{g} {sum(p.genome == g for p in loci)}" for g in proteomes)
    print(f"characterised loci: {counts} ({ZOBELLIA} is a training strain of the CAZy packs; "
          f"{', '.join(g for g in proteomes if g != ZOBELLIA) or 'no other'} held out)")
    for note in notes:
        print(f"  {note}")
    pack_sets = {"all built-in": tuple(BUILTIN),
                 "all but cazy (old)": tuple(n for n in BUILTIN if n != "cazy")}
    with tempfile.TemporaryDirectory(prefix="lanhai-bench-pul-genome-") as tmp:
        runs = annotate(Path(tmp), proteomes, pack_sets, args.threads)
    report(runs, loci)
    print(f"\n{time.perf_counter() - started:.1f} s in all "
          f"({time.process_time() - cpu:.1f} s CPU)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
