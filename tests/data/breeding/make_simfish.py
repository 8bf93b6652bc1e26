"""Regenerate the simfish files (run from the repository root; needs msprime, tstrait)."""

from __future__ import annotations

import csv
import gzip

import numpy as np
from bed_reader import to_bed

from lanhai.breeding.simulate import simulate

OUT = "tests/data/breeding/"


def main() -> None:
    pop = simulate(founders=20, generations=2, families=10, offspring=4, snps=300, seed=11)
    g, ped = pop.genotypes, pop.pedigree
    d = g.dosages.copy()
    rng = np.random.default_rng(5)
    d[rng.random(d.shape) < 0.01] = np.nan
    m = d.shape[1]
    to_bed(OUT + "simfish.bed", d, properties={
        "iid": g.ids, "fid": g.ids, "sid": g.snps, "chromosome": ["1"] * m,
        "bp_position": g.pos, "allele_1": ["A"] * m, "allele_2": ["G"] * m,
        "father": [s or "0" for s in ped.sire], "mother": [x or "0" for x in ped.dam],
        "sex": [1 if s == "M" else 2 for s in ped.sex]})
    lines = ["##fileformat=VCFv4.2",
             '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
             '##FORMAT=<ID=DS,Number=1,Type=Float,Description="Dosage">',
             "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(g.ids)]
    gt = {0: "0/0", 1: "0/1", 2: "1/1"}
    for j in range(40):
        cells = ["./.:." if np.isnan(v) else f"{gt[int(v)]}:{v:.0f}" for v in d[:, j]]
        lines.append(f"1\t{g.pos[j]}\t{g.snps[j]}\tG\tA\t.\tPASS\t.\tGT:DS\t" + "\t".join(cells))
    with gzip.open(OUT + "simfish40.vcf.gz", "wt") as f:
        f.write("\n".join(lines) + "\n")
    assert ped.birth is not None
    with open(OUT + "simfish_pedigree.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "sire", "dam", "sex", "birth", "family"])
        for a, s, dam, x, b, fam in zip(ped.ids, ped.sire, ped.dam, ped.sex, ped.birth,
                                        ped.family, strict=True):
            w.writerow([a, s or "0", dam or "0", x, 2020 + int(b), fam])
    y = pop.phenotypes.traits["weight"]
    tanks = ["T1", "T2", "T3"]
    with open(OUT + "simfish_phenotypes.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "tank", "sex", "age_days", "weight", "fillet_yield"])
        for i, a in enumerate(pop.phenotypes.ids):
            if i < 20:
                continue  # founders have no records
            tank = tanks[i % 3]
            age = 300 + (i * 7) % 40
            yy = y[i] + {"T1": 0, "T2": 2.0, "T3": -1.5}[tank] + 0.05 * (age - 320)
            fy = 0.3 * y[i] + rng.normal() * 1.5
            w.writerow([a, tank, ped.sex[i], age, f"{yy:.3f}",
                        "" if i % 9 == 0 else f"{fy:.3f}"])


if __name__ == "__main__":
    main()
