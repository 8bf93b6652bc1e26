"""Benchmark: genomic relationship matrix G for 10,000 animals × 50,000 SNPs.

What it measures, in the same run:
    * ``lanhai.breeding.grm.vanraden`` (method 1 and 2): float32 dosages streamed in SNP
      blocks, centred (and scaled) in float64 and accumulated with BLAS dsyrk;
    * the practical floor: one float64 numpy product Z @ Z.T of the same size (Z already
      centred in memory, 4 GB), the ratio target being ≤ 1.2;
    * PLINK 2 (``plink2 --make-rel square``, Debian package plink2) on the same genotypes
      written as a PLINK fileset, when plink2 is on the PATH; it standardises SNPs like
      VanRaden method 2;
    * peak memory of the G computation (VmHWM of a fresh process), against the 2 GB of
      the dosages plus 0.8 GB of G it must hold.

Genotypes are drawn SNP by SNP with allele frequencies from U(0.05, 0.5) (timing does not
depend on linkage). Run from the repository root::

    .venv/bin/python -m benchmarks.bench_breeding_grm                # 10,000 × 50,000
    .venv/bin/python -m benchmarks.bench_breeding_grm --animals 2000 --snps 10000

It is not a test and asserts nothing; it prints the figures.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def genotypes(n: int, m: int, seed: int = 1) -> np.ndarray:
    """float32 dosages, n × m, in HWE with random allele frequencies."""
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.05, 0.5, m).astype(np.float32)
    out = np.empty((n, m), dtype=np.float32)
    step = 5000
    for j in range(0, m, step):
        pj = p[j:j + step]
        out[:, j:j + step] = (rng.random((n, len(pj)), dtype=np.float32) < pj).astype(
            np.float32) + (rng.random((n, len(pj)), dtype=np.float32) < pj)
    return out


def vm_hwm() -> float:
    """Peak resident memory of this process in GB (Linux /proc/self/status VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1e6
    return float("nan")


def _child_peak(n: int, m: int, method: int) -> tuple[float, float]:
    """(seconds, peak RSS GB) of vanraden in a fresh process (genotypes made there too)."""
    # VmHWM (not ru_maxrss, which a child inherits from the large parent across fork)
    code = ("import time,sys; sys.path.insert(0,'.');"
            "from benchmarks.bench_breeding_grm import genotypes, vm_hwm;"
            "from lanhai.breeding.grm import vanraden;"
            f"d=genotypes({n},{m}); base=vm_hwm();"
            f"t=time.perf_counter(); vanraden(d, {method}); t=time.perf_counter()-t;"
            "print(t, vm_hwm(), base)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[1])
    t, peak, _base = (float(x) for x in out.stdout.split())
    return t, peak


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--animals", type=int, default=10_000)
    ap.add_argument("--snps", type=int, default=50_000)
    ap.add_argument("--no-plink", action="store_true")
    args = ap.parse_args(argv)
    n, m = args.animals, args.snps
    print(f"G for {n:,} animals × {m:,} SNPs", flush=True)

    from lanhai.breeding.grm import vanraden

    dos = genotypes(n, m)
    results: dict[str, float] = {}
    t = time.perf_counter()
    vanraden(dos, 1)
    results["lanhai_vanraden1"] = time.perf_counter() - t
    print(f"lanhai vanraden method 1: {results['lanhai_vanraden1']:.1f} s", flush=True)
    t = time.perf_counter()
    g2 = vanraden(dos, 2)
    results["lanhai_vanraden2"] = time.perf_counter() - t
    print(f"lanhai vanraden method 2: {results['lanhai_vanraden2']:.1f} s", flush=True)

    p = dos.mean(0, dtype=np.float64) / 2
    z = dos.astype(np.float64)
    z -= 2 * p
    t = time.perf_counter()
    _ = z @ z.T
    results["numpy_matmul"] = time.perf_counter() - t
    del z, _
    print(f"numpy float64 Z @ Z.T ({n}×{m} by {m}×{n}): {results['numpy_matmul']:.1f} s",
          flush=True)
    r1 = results["lanhai_vanraden1"] / results["numpy_matmul"]
    r2 = results["lanhai_vanraden2"] / results["numpy_matmul"]
    print(f"ratio lanhai/numpy: method 1 {r1:.2f}x, method 2 {r2:.2f}x (target <= 1.2x)",
          flush=True)

    plink = shutil.which("plink2")
    if plink and not args.no_plink:
        from bed_reader import to_bed

        with tempfile.TemporaryDirectory() as tmp:
            bed = Path(tmp) / "g.bed"
            to_bed(bed, dos, properties={"iid": [f"a{i}" for i in range(n)],
                                         "sid": [f"s{j}" for j in range(m)]})
            t = time.perf_counter()
            subprocess.run([plink, "--bfile", str(bed.with_suffix("")), "--make-rel",
                            "square", "--nonfounders", "--threads", "2",
                            "--out", str(Path(tmp) / "rel")], check=True,
                           capture_output=True)
            results["plink2_make_rel"] = time.perf_counter() - t
            rel = np.loadtxt(Path(tmp) / "rel.rel", max_rows=3)
            speed = results["plink2_make_rel"] / results["lanhai_vanraden2"]
            print(f"plink2 --make-rel square: {results['plink2_make_rel']:.1f} s "
                  f"(lanhai method 2 is {speed:.2f}x faster); max |G - plink2| on 3 rows: "
                  f"{np.abs(rel - g2[:3]).max():.2e}", flush=True)
    elif not args.no_plink:
        print("plink2 not found on PATH (Debian: apt-get install plink2); skipped")
    del dos, g2
    t1, peak = _child_peak(n, m, 1)
    need = n * m * 4 / 1e9 + n * n * 8 / 1e9
    print(f"peak memory of a fresh process making the genotypes then G: {peak:.2f} GB "
          f"(dosages + G alone: {need:.2f} GB; G took {t1:.1f} s there)", flush=True)
    print(f"peak memory of this whole run (VmHWM): {vm_hwm():.1f} GB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
