"""Genotype quality control with counts at every step.

Order: SNP call rate, animal call rate, minor allele frequency, Hardy-Weinberg equilibrium
(exact test of Wigginton, Cutler & Abecasis 2005, Am. J. Hum. Genet. 76:887, as PLINK's
``--hardy``), Mendelian conflicts against the pedigree, duplicate samples (genomic identity),
then imputation of what is still missing: exactly from parents where both are homozygous,
otherwise the SNP mean.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from scipy.special import gammaln

from lanhai.breeding.data import AnyFloat, FloatArray, Genotypes, Pedigree, Progress, no_progress

HWE_TEST = "exact test (Wigginton et al. 2005), as plink2 --hardy"


@dataclass
class QcOptions:
    """Thresholds; set a threshold to 0 (or hwe_p to 0) to skip that filter."""

    min_snp_call: float = 0.90
    min_animal_call: float = 0.90
    min_maf: float = 0.01
    hwe_p: float = 1e-6
    max_mendel: float = 0.02  # share of SNPs with opposing homozygotes parent/offspring
    duplicate_identity: float = 0.99
    drop_duplicates: bool = False


@dataclass
class QcStep:
    """One filter: how many animals and SNPs went in, were removed, and came out."""

    step: str
    rule: str
    animals_in: int
    snps_in: int
    animals_removed: int = 0
    snps_removed: int = 0
    removed: list[str] = field(default_factory=list)

    @property
    def animals_out(self) -> int:
        return self.animals_in - self.animals_removed

    @property
    def snps_out(self) -> int:
        return self.snps_in - self.snps_removed

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["removed"] = self.removed[:100]
        return {**out, "animals_out": self.animals_out, "snps_out": self.snps_out}


@dataclass
class QcResult:
    genotypes: Genotypes
    steps: list[QcStep]
    mendel: list[dict[str, Any]]
    duplicates: list[dict[str, Any]]
    imputed_from_parents: int
    imputed_mean: int
    hwe_test: str = HWE_TEST
    filtered: Genotypes | None = None  # after the filters, before imputation

    def to_dict(self) -> dict[str, Any]:
        return {"steps": [s.to_dict() for s in self.steps], "mendelian_conflicts": self.mendel,
                "duplicates": self.duplicates, "hwe_test": self.hwe_test,
                "imputed_from_parents": self.imputed_from_parents,
                "imputed_mean": self.imputed_mean,
                "animals": self.genotypes.n_animals, "snps": self.genotypes.n_snps}


def hwe_exact(n_het: int, n_hom1: int, n_hom2: int) -> float:
    """Exact Hardy-Weinberg p-value (Wigginton et al. 2005), as plink2 --hardy."""
    n = n_het + n_hom1 + n_hom2
    rare = 2 * min(n_hom1, n_hom2) + n_het
    if n == 0 or rare == 0:
        return 1.0
    hets = np.arange(rare % 2, rare + 1, 2)
    homr = (rare - hets) // 2
    homc = n - hets - homr
    ok = homc >= 0
    hets, homr, homc = hets[ok], homr[ok], homc[ok]
    logp = hets * np.log(2.0) - gammaln(hets + 1) - gammaln(homr + 1) - gammaln(homc + 1)
    prob = np.exp(logp - logp.max())
    obs = prob[np.searchsorted(hets, n_het)]
    return float(min(1.0, prob[prob <= obs * (1 + 1e-7)].sum() / prob.sum()))


def hwe_pvalues(dos: AnyFloat) -> FloatArray:
    """Exact HWE p-value per SNP from hard calls (dosages rounded)."""
    r = np.rint(dos)
    out = np.ones(dos.shape[1])
    for j in range(dos.shape[1]):
        col = r[:, j]
        out[j] = hwe_exact(int((col == 1).sum()), int((col == 0).sum()), int((col == 2).sum()))
    return out


def run_qc(geno: Genotypes, pedigree: Pedigree | None = None, opts: QcOptions | None = None,
           progress: Progress = no_progress) -> QcResult:
    """Filter and impute; returns the clean genotypes and a count for every step."""
    opts = opts or QcOptions()
    steps: list[QcStep] = []
    g = geno

    def snp_step(name: str, rule: str, keep: np.ndarray) -> None:
        nonlocal g
        steps.append(QcStep(name, rule, g.n_animals, g.n_snps, 0, int((~keep).sum()),
                            [s for s, k in zip(g.snps, keep, strict=True) if not k]))
        g = g.subset(snps=keep)

    called = ~np.isnan(g.dosages)
    snp_call = called.mean(0) if g.n_animals else np.zeros(g.n_snps)
    snp_step("snp_call_rate", f"call rate >= {opts.min_snp_call}", snp_call >= opts.min_snp_call)
    progress("qc", 1, 7)
    animal_call = (~np.isnan(g.dosages)).mean(1) if g.n_snps else np.zeros(g.n_animals)
    keep_a = animal_call >= opts.min_animal_call
    steps.append(QcStep("animal_call_rate", f"call rate >= {opts.min_animal_call}",
                        g.n_animals, g.n_snps, int((~keep_a).sum()), 0,
                        [a for a, k in zip(g.ids, keep_a, strict=True) if not k]))
    g = g.subset(animals=keep_a)
    progress("qc", 2, 7)
    with np.errstate(invalid="ignore"):
        p = np.nanmean(g.dosages, axis=0, dtype=np.float64) / 2.0
    maf = np.minimum(p, 1 - p)
    snp_step("maf", f"minor allele frequency >= {opts.min_maf}",
             np.nan_to_num(maf, nan=0.0) >= opts.min_maf if opts.min_maf > 0 else
             np.ones(g.n_snps, bool))
    progress("qc", 3, 7)
    coded01 = g.n_snps > 0 and not bool((g.dosages == 2).any())
    if coded01:
        steps.append(QcStep("hwe", "skipped: no genotype is 2 (0/1 coding of inbred lines or "
                            "presence/absence markers; HWE does not apply)", g.n_animals,
                            g.n_snps))
    elif opts.hwe_p > 0:
        snp_step("hwe", f"HWE p >= {opts.hwe_p:g}, {HWE_TEST}",
                 hwe_pvalues(g.dosages) >= opts.hwe_p)
    else:
        steps.append(QcStep("hwe", "skipped (hwe_p = 0)", g.n_animals, g.n_snps))
    progress("qc", 4, 7)
    mendel = mendelian_conflicts(g, pedigree, opts.max_mendel) if pedigree else []
    steps.append(QcStep("mendelian", f"parent-offspring opposing homozygotes <= "
                        f"{opts.max_mendel:.0%} of SNPs (reported, not removed)",
                        g.n_animals, g.n_snps))
    progress("qc", 5, 7)
    dups = duplicates(g, opts.duplicate_identity)
    drop = {d["animal2"] for d in dups} if opts.drop_duplicates else set()
    keep_d = np.array([a not in drop for a in g.ids], bool)
    steps.append(QcStep("duplicates", f"genomic identity >= {opts.duplicate_identity}"
                        + (" (second of each pair removed)" if drop else " (reported)"),
                        g.n_animals, g.n_snps, int((~keep_d).sum()), 0, sorted(drop)))
    g = g.subset(animals=keep_d)
    progress("qc", 6, 7)
    filtered = g
    g, from_parents, from_mean = impute(g, pedigree)
    progress("qc", 7, 7)
    return QcResult(g, steps, mendel, dups, from_parents, from_mean, filtered=filtered)


def mendelian_conflicts(g: Genotypes, ped: Pedigree, max_rate: float) -> list[dict[str, Any]]:
    """Parent-offspring pairs (both genotyped) whose opposing-homozygote rate exceeds
    ``max_rate``: the recorded parent is probably wrong."""
    index = g.index()
    r = np.rint(g.dosages)
    out = []
    for a, s, d in zip(ped.ids, ped.sire, ped.dam, strict=True):
        if a not in index:
            continue
        for role, p in (("sire", s), ("dam", d)):
            if p is None or p not in index:
                continue
            x, y = r[index[a]], r[index[p]]
            both = ~(np.isnan(x) | np.isnan(y))
            n = int(both.sum())
            bad = int((np.abs(x[both] - y[both]) == 2).sum())
            if n and bad / n > max_rate:
                out.append({"animal": a, "role": role, "parent": p, "conflicts": bad,
                            "snps_compared": n, "rate": round(bad / n, 4)})
    return out


def duplicates(g: Genotypes, min_identity: float, block: int = 2000) -> list[dict[str, Any]]:
    """Pairs of animals whose genotypes agree at >= ``min_identity`` of co-called SNPs."""
    r = np.rint(g.dosages)
    onehot = [(r == k).astype(np.float32) for k in (0, 1, 2)]
    called = (~np.isnan(r)).astype(np.float32)
    out = []
    n = g.n_animals
    for i0 in range(0, n, block):
        sl = slice(i0, i0 + block)
        same = sum(h[sl] @ h.T for h in onehot)
        both = called[sl] @ called.T
        with np.errstate(invalid="ignore", divide="ignore"):
            ident = np.where(both > 0, same / both, 0.0)
        ii, jj = np.nonzero(ident >= min_identity)
        for i, j in zip(ii + i0, jj, strict=True):
            if i < j:
                out.append({"animal1": g.ids[i], "animal2": g.ids[j],
                            "identity": round(float(ident[i - i0, j]), 4),
                            "snps_compared": int(both[i - i0, j])})
    return out


def impute(g: Genotypes, ped: Pedigree | None) -> tuple[Genotypes, int, int]:
    """Fill missing genotypes: from two homozygous genotyped parents (exact), else the mean."""
    dos = g.dosages.copy()
    from_parents = 0
    if ped is not None and np.isnan(dos).any():
        index = g.index()
        for a, s, d in zip(ped.ids, ped.sire, ped.dam, strict=True):
            if a not in index or s not in index or d not in index:
                continue
            row = dos[index[a]]
            miss = np.isnan(row)
            if not miss.any():
                continue
            ps, pd = dos[index[s]], dos[index[d]]
            sure = miss & np.isin(ps, (0.0, 2.0)) & np.isin(pd, (0.0, 2.0))
            row[sure] = (ps[sure] + pd[sure]) / 2.0
            from_parents += int(sure.sum())
    miss = np.isnan(dos)
    n_mean = int(miss.sum())
    if n_mean:
        with np.errstate(invalid="ignore"):
            mean: FloatArray = np.nanmean(dos, axis=0, dtype=np.float64)
        mean = np.nan_to_num(mean, nan=0.0)
        rows, cols = np.nonzero(miss)
        dos[rows, cols] = mean[cols]
    out = Genotypes(g.ids, g.snps, dos, g.chrom, g.pos, g.source)
    return out, from_parents, n_mean
