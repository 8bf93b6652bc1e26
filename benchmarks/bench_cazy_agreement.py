"""Benchmark: CAZy family calls vs dbCAN on the strains held out of every CAZy pack's build.

The data
    /work/shared/data/cazy (see its README): the held-out proteomes named in the packs'
    manifests (``provenance.held_out_strains``), dbCAN2 hits of the same strains
    (``dbcan_hits_dev.tsv``) and, for Maribacter 62-1, per-protein dbCAN families whose ids
    match its proteome.

What it measures, in the same run
    * our calls: pyhmmer search of each held-out proteome with the general ``cazy`` pack, and
      with ``cazy`` + ``marine-cazy`` together (what annotation runs by default), each pack with
      its calibrated thresholds (:func:`lanhai.profiles.calls.call_pack`); a subfamily call
      (GH13_9) counts for its family;
    * per genome, the agreement of family counts with dbCAN, ``1 - sum|ours - dbCAN| / sum
      dbCAN`` (proteins per family), over every family and over the marine families, with dbCAN
      filtered as dbCAN does by default (coverage >= 0.35, E < 1e-15) and as the Maribacter paper
      does (coverage >= 0.65);
    * per family, summed over the held-out genomes: ours / dbCAN; and per genome, every family
      whose count differs;
    * Maribacter 62-1, per protein: recall and precision against dbCAN's labels;
    * the reference tool: Debian's ``hmmsearch --domtblout`` with the general pack's HMM file,
      the pack's rule applied to its domains (sequence E <= 1e-5, a domain scoring at least the
      family's calibrated threshold), when installed: calls and time.

Run it from the repository root::

    .venv/bin/python -m benchmarks.bench_cazy_agreement [--data DIR] [--pack-dir DIR]

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
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _dbcan_labels(cazy: Path, min_coverage: float) -> dict[str, dict[str, set[str]]]:
    """``{strain key: {protein id: families}}`` of every dbCAN row with coverage >=
    ``min_coverage`` and E < 1e-15."""
    from lanhai.profiles.build_cazy import MAX_EVALUE, strain_key
    from lanhai.profiles.registry import cazy_family

    out: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    files = [("dbcan_hits_dev.tsv", "protein_id"),
             ("dbcan_per_protein_Maribacter62-1_Alteromonas76-1.tsv", "locus_tag")]
    for name, id_column in files:
        with (cazy / name).open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                family = cazy_family(row["HMMProfile"])
                if family is None:
                    continue
                if float(row["Coverage"]) < min_coverage or float(row["evalue"]) >= MAX_EVALUE:
                    continue
                out[strain_key(row["Strain"])][row[id_column]].add(family)
    return out


def agreement(ours: Mapping[str, int], theirs: Mapping[str, int],
              families: Iterable[str] | None = None) -> float:
    """``1 - sum|ours - theirs| / sum theirs`` over ``families`` (default: every family
    either side counts)."""
    keys = set(families) if families is not None else set(ours) | set(theirs)
    total = sum(theirs.get(f, 0) for f in keys)
    diff = sum(abs(ours.get(f, 0) - theirs.get(f, 0)) for f in keys)
    return 1 - diff / total if total else float("nan")


def _counts(per_protein: Mapping[str, set[str]]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for families in per_protein.values():
        for family in families:
            counts[family] += 1
    return dict(counts)


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
                        help="A built cazy pack folder (default: the shipped one).")
    parser.add_argument("--marine-pack-dir", type=Path, default=None,
                        help="A built marine-cazy pack folder (default: the shipped one).")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(list(argv) if argv is not None else None)

    from lanhai.profiles import hmmtools
    from lanhai.profiles.build_cazy import strain_key
    from lanhai.profiles.calls import call_pack
    from lanhai.profiles.registry import (
        builtin_pack,
        cazy_family,
        marine_substrates,
        read_manifest,
    )

    general = read_manifest(args.pack_dir) if args.pack_dir else builtin_pack("cazy")
    marine_pack = (read_manifest(args.marine_pack_dir) if args.marine_pack_dir
                   else builtin_pack("marine-cazy"))
    cazy = args.data / "cazy"
    held = list(general.provenance["held_out_strains"])
    if set(held) != set(marine_pack.provenance["held_out_strains"]):
        print("note: the two packs hold out different strains; the union is not unseen data")
    marine = set(marine_substrates())
    filters = {"dbCAN default (cov>=0.35)": 0.35, "paper (cov>=0.65)": 0.65}
    labels = {name: _dbcan_labels(cazy, cov) for name, cov in filters.items()}
    print(f"pack {general.name} {general.version}: {general.hmm_count} models; "
          f"{marine_pack.name} {marine_pack.version}: {marine_pack.hmm_count}; "
          f"held-out strains: {', '.join(held)}")
    binary = shutil.which("hmmsearch")
    hmm_text = Path(tempfile.mkdtemp(prefix="lanhai-bench-cazy-")) / "cazy.hmm"
    with gzip.open(general.path, "rb") as src:
        hmm_text.write_bytes(src.read())

    calls_by: dict[str, dict[str, dict[str, set[str]]]] = {"cazy": {}, "cazy+marine-cazy": {}}
    t_ours = t_ref = 0.0
    parity = []
    for strain in held:
        proteins = hmmtools.read_fasta(cazy / "proteomes" / f"{strain}.faa.gz")
        block = hmmtools.digitize(proteins)
        start = time.perf_counter()
        calls = call_pack(general, block, cpus=args.jobs)
        t_ours += time.perf_counter() - start
        extra = call_pack(marine_pack, block, cpus=args.jobs)
        alone: dict[str, set[str]] = defaultdict(set)
        for call in calls:
            alone[call.protein].add(cazy_family(call.family) or call.family)
        union: dict[str, set[str]] = defaultdict(set, {p: set(f) for p, f in alone.items()})
        for call in extra:
            family = cazy_family(call.family)
            if family and not family.startswith("S"):  # sulfatases are not CAZy families
                union[call.protein].add(family)
        calls_by["cazy"][strain] = alone
        calls_by["cazy+marine-cazy"][strain] = union
        if binary:
            plain = hmm_text.with_name(f"{strain}.faa")
            plain.write_text("".join(f">{k}\n{v}\n" for k, v in proteins.items()))
            tbl = hmm_text.with_name(f"{strain}.tbl")
            start = time.perf_counter()
            subprocess.run([binary, "-E", str(general.evalue), "--domE", "1e300", "--cpu",
                            str(args.jobs), "--noali", "--domtblout", str(tbl), "-o",
                            "/dev/null", str(hmm_text), str(plain)], check=True)
            t_ref += time.perf_counter() - start
            ref = set()  # the pack's rule: sequence E <= pack E, a domain >= the threshold
            for line in tbl.read_text().splitlines():
                if line.startswith("#"):
                    continue
                cols = line.split()
                if float(cols[13]) >= general.thresholds.get(cols[3], 0.0):
                    ref.add((cols[0], cols[3]))
            mine = {(c.protein, c.family) for c in calls}
            parity.append((strain, len(mine), len(ref), len(mine & ref)))

    short = {s: s.replace("Maribacter_", "M_").replace("Zobellia_", "Z_")
             .replace("Muricauda_", "Mu_")[:18] for s in held}
    print("\nper-genome agreement of family counts with dbCAN: 1 - sum|ours - dbCAN| / sum dbCAN")
    print(f"{'calls':<18} {'dbCAN filter':<26} {'families':<8} "
          + " ".join(f"{short[s]:>18}" for s in held) + f" {'mean':>6}")
    for who, per_strain in calls_by.items():
        for fname, lab in labels.items():
            for scope, fams in (("all", None), ("marine", marine)):
                values = [agreement(_counts(per_strain[s]), _counts(lab.get(strain_key(s), {})),
                                    fams) for s in held]
                print(f"{who:<18} {fname:<26} {scope:<8} "
                      + " ".join(f"{v:>18.3f}" for v in values)
                      + f" {sum(values) / len(values):>6.3f}")

    default = labels["dbCAN default (cov>=0.35)"]
    print("\nper family, summed over the held-out genomes: ours (cazy) / dbCAN (default filter); "
          "families with a difference of 2 or more")
    ours_total: dict[str, int] = defaultdict(int)
    theirs_total: dict[str, int] = defaultdict(int)
    for s in held:
        for f, n in _counts(calls_by["cazy"][s]).items():
            ours_total[f] += n
        for f, n in _counts(default.get(strain_key(s), {})).items():
            theirs_total[f] += n
    built = {cazy_family(u) for u in general.families}
    rows = sorted(set(ours_total) | set(theirs_total),
                  key=lambda f: -abs(ours_total[f] - theirs_total[f]))
    for f in rows:
        if abs(ours_total[f] - theirs_total[f]) >= 2:
            note = "" if f in built else "  (no model: unsupported)"
            print(f"  {f:<7} {ours_total[f]:>4} / {theirs_total[f]:<4}{note}")

    print("\nper genome, every family whose count differs: ours (cazy) / dbCAN (default filter)")
    for s in held:
        ours_n = _counts(calls_by["cazy"][s])
        theirs_n = _counts(default.get(strain_key(s), {}))
        differ = sorted((f for f in set(ours_n) | set(theirs_n)
                         if ours_n.get(f, 0) != theirs_n.get(f, 0)),
                        key=lambda f: (-abs(ours_n.get(f, 0) - theirs_n.get(f, 0)), f))
        print(f"  {short[s]:<18} " + " ".join(
            f"{f} {ours_n.get(f, 0)}/{theirs_n.get(f, 0)}" for f in differ))

    mar = "Maribacter_62-1"
    if mar in held:
        truth_all = default.get(strain_key(mar), {})
        ours = calls_by["cazy"][mar]
        tp = fp = fn = 0
        for protein in set(truth_all) | set(ours):
            truth, called = truth_all.get(protein, set()), ours.get(protein, set())
            tp += len(truth & called)
            fp += len(called - truth)
            fn += len(truth - called)
        print(f"\n{mar}, per (protein, family) against dbCAN (default filter): "
              f"recall {tp / max(tp + fn, 1):.3f}, precision {tp / max(tp + fp, 1):.3f} "
              f"({tp} shared, {fp} ours only, {fn} dbCAN only)")

    if parity:
        print("\nreference: hmmsearch -E 1e-05 --domtblout (same HMM file), domains at or above "
              "each family's calibrated threshold")
        for strain, n_ours, n_ref, shared in parity:
            print(f"  {strain:<36} ours {n_ours:>4} calls, hmmsearch {n_ref:>4}, "
                  f"shared {shared}")
        print(f"time: lanhai/pyhmmer {t_ours:.2f} s, hmmsearch {t_ref:.2f} s, "
              f"ratio {t_ours / max(t_ref, 1e-9):.2f}x ({args.jobs} threads each)")
    else:
        print("\nhmmsearch not installed (apt-get install hmmer): no reference run")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
