"""Benchmark: marine-cazy calls vs dbCAN labels on the strains held out of its build.

The data
    /work/shared/data/cazy (see its README): the held-out proteomes named in the pack's
    manifest (``provenance.held_out_strains``), dbCAN2 hits of the same strains
    (``dbcan_hits_dev.tsv``; the paper's filter coverage >= 0.65, E < 1e-15) and, for
    Maribacter 62-1, per-protein dbCAN families whose ids match its proteome.

What it measures, in the same run
    * our calls: pyhmmer search of each held-out proteome with the pack's calibrated per-family
      thresholds (:func:`lanhai.profiles.calls.call_pack`);
    * the reference tool: Debian's ``hmmsearch --cut_ga --tblout`` with the same HMM file (its
      GA lines hold the calibrated thresholds), when installed; the calls must be identical;
    * per genome and family: proteins called by us vs proteins labelled by dbCAN;
    * Maribacter 62-1, per family: recall and precision of our calls against dbCAN's labels,
      and the genome's own product names of the proteins only we call (a second opinion).

Run it from the repository root::

    .venv/bin/python -m benchmarks.bench_cazy_agreement [--data DIR]

It is not a test and asserts nothing; it prints the figures.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import shutil
import subprocess
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _dbcan_labels(cazy: Path, families: set[str]) -> dict[str, dict[str, set[str]]]:
    """``{strain key: {protein id: families}}`` after the paper's filter."""
    from lanhai.profiles.build_cazy import MAX_EVALUE, MIN_COVERAGE, strain_key
    from lanhai.profiles.registry import cazy_family

    out: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    files = [("dbcan_hits_dev.tsv", "protein_id"),
             ("dbcan_per_protein_Maribacter62-1_Alteromonas76-1.tsv", "locus_tag")]
    for name, id_column in files:
        with (cazy / name).open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                family = cazy_family(row["HMMProfile"])
                if family not in families:
                    continue
                if float(row["Coverage"]) < MIN_COVERAGE or float(row["evalue"]) >= MAX_EVALUE:
                    continue
                out[strain_key(row["Strain"])][row[id_column]].add(family)
    return out


def _products(path: Path) -> dict[str, str]:
    names = {}
    with gzip.open(path, "rt") as handle:
        for line in handle:
            if line.startswith(">"):
                ident, _, rest = line[1:].strip().partition(" ")
                names[ident] = rest
    return names


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--pack-dir", type=Path, default=None,
                        help="A built marine-cazy pack folder (default: the shipped one).")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(list(argv) if argv is not None else None)

    from lanhai.profiles import hmmtools
    from lanhai.profiles.build_cazy import strain_key
    from lanhai.profiles.calls import call_pack
    from lanhai.profiles.registry import builtin_pack, read_manifest

    pack = read_manifest(args.pack_dir) if args.pack_dir else builtin_pack("marine-cazy")
    cazy = args.data / "cazy"
    families = set(pack.families)
    held = list(pack.provenance["held_out_strains"])
    labels = _dbcan_labels(cazy, families)
    print(f"pack {pack.name} {pack.version}: {pack.hmm_count} families; held-out strains: "
          f"{', '.join(held)}")
    binary = shutil.which("hmmsearch")
    hmm_text = Path(tempfile.mkdtemp(prefix="lanhai-bench-cazy-")) / "marine-cazy.hmm"
    with gzip.open(pack.path, "rb") as src:
        hmm_text.write_bytes(src.read())

    totals_ours: dict[str, int] = defaultdict(int)
    totals_dbcan: dict[str, int] = defaultdict(int)
    per_genome: dict[str, tuple[dict[str, int], dict[str, int]]] = {}
    ours_by_strain: dict[str, dict[str, set[str]]] = {}
    t_ours = t_ref = 0.0
    parity = []
    for strain in held:
        faa = cazy / "proteomes" / f"{strain}.faa.gz"
        proteins = hmmtools.read_fasta(faa)
        block = hmmtools.digitize(proteins)
        start = time.perf_counter()
        calls = call_pack(pack, block, cpus=args.jobs)
        t_ours += time.perf_counter() - start
        ours: dict[str, set[str]] = defaultdict(set)
        for call in calls:
            ours[call.protein].add(call.family)
        ours_by_strain[strain] = ours
        if binary:
            plain = hmm_text.with_name(f"{strain}.faa")
            plain.write_text("".join(f">{k}\n{v}\n" for k, v in proteins.items()))
            tbl = hmm_text.with_name(f"{strain}.tbl")
            start = time.perf_counter()
            subprocess.run([binary, "--cut_ga", "--cpu", str(args.jobs), "--noali", "--tblout",
                            str(tbl), "-o", "/dev/null", str(hmm_text), str(plain)], check=True)
            t_ref += time.perf_counter() - start
            ref = {(line.split()[0], line.split()[2]) for line in tbl.read_text().splitlines()
                   if not line.startswith("#")}
            mine = {(c.protein, c.family) for c in calls}
            parity.append((strain, len(mine), len(ref), mine == ref))
        ours_counts = {f: sum(1 for fams in ours.values() if f in fams) for f in families}
        dbcan = labels.get(strain_key(strain), {})
        dbcan_counts = {f: sum(1 for fams in dbcan.values() if f in fams) for f in families}
        per_genome[strain] = (ours_counts, dbcan_counts)
        for f in families:
            totals_ours[f] += ours_counts[f]
            totals_dbcan[f] += dbcan_counts[f]

    print("\nper-genome family counts, ours/dbCAN (proteins; dbCAN filtered cov>=0.65, E<1e-15)")
    fams = sorted(families)
    short = [s.replace("Maribacter_", "M_").replace("Zobellia_", "Z_")
             .replace("Muricauda_", "Mu_")[:16] for s in held]
    print(f"{'family':<7} {'substrates':<28} " + " ".join(f"{s:>16}" for s in short)
          + f" {'all':>9}")
    for f in fams:
        cells = [f"{per_genome[s][0][f]}/{per_genome[s][1][f]}" for s in held]
        subs = ",".join(pack.families[f].substrates)[:28]
        print(f"{f:<7} {subs:<28} " + " ".join(f"{c:>16}" for c in cells)
              + f" {totals_ours[f]:>4}/{totals_dbcan[f]:<4}")

    mar = "Maribacter_62-1"
    if mar in held:
        dbcan = labels.get(strain_key(mar), {})
        ours = ours_by_strain[mar]
        products = _products(cazy / "proteomes" / f"{mar}.faa.gz")
        print(f"\n{mar}: per-protein agreement with dbCAN (proteins dbCAN labels with one of "
              "our families)")
        print(f"{'family':<7} {'dbCAN':>5} {'ours':>5} {'both':>5} {'recall':>7} "
              f"{'precision':>9}")
        tp_all = fp_all = fn_all = 0
        for f in fams:
            truth = {p for p, fs in dbcan.items() if f in fs}
            called = {p for p, fs in ours.items() if f in fs}
            both = truth & called
            tp_all += len(both)
            fp_all += len(called - truth)
            fn_all += len(truth - called)
            if not truth and not called:
                continue
            recall = f"{len(both) / len(truth):.2f}" if truth else "-"
            precision = f"{len(both) / len(called):.2f}" if called else "-"
            print(f"{f:<7} {len(truth):>5} {len(called):>5} {len(both):>5} {recall:>7} "
                  f"{precision:>9}")
        print(f"{'all':<7} {tp_all + fn_all:>5} {tp_all + fp_all:>5} {tp_all:>5} "
              f"{tp_all / max(tp_all + fn_all, 1):>7.2f} {tp_all / max(tp_all + fp_all, 1):>9.2f}")
        only = sorted((p, sorted(fs)) for p, fs in ours.items()
                      if not fs & dbcan.get(p, set()))
        print(f"\ncalled by us only ({len(only)}), with the genome's product name:")
        for p, fs in only:
            print(f"  {p} {','.join(fs):<8} {products.get(p, '')[:70]}")
        missed = sorted((p, sorted(fs)) for p, fs in dbcan.items() if not fs & ours.get(p, set()))
        print(f"labelled by dbCAN, missed by us ({len(missed)}):")
        for p, fs in missed:
            print(f"  {p} {','.join(fs):<8} {products.get(p, '')[:70]}")

    if parity:
        print("\nreference: hmmsearch --cut_ga (same HMM file; GA = calibrated thresholds)")
        for strain, n_ours, n_ref, same in parity:
            print(f"  {strain:<36} ours {n_ours:>4} calls, hmmsearch {n_ref:>4}; "
                  f"identical: {same}")
        print(f"time: lanhai/pyhmmer {t_ours:.2f} s, hmmsearch {t_ref:.2f} s, "
              f"ratio {t_ours / max(t_ref, 1e-9):.2f}x ({args.jobs} threads each)")
    else:
        print("\nhmmsearch not installed (apt-get install hmmer): no reference run")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
