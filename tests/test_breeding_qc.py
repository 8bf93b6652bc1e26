"""Priority 2: QC with counts at every step, on the bundled PLINK file a breeder would upload.

Reference values come from PLINK 2 (Debian plink2 2.00a3.5), commands quoted beside them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lanhai.breeding import io
from lanhai.breeding.data import Genotypes, Pedigree
from lanhai.breeding.qc import QcOptions, hwe_exact, hwe_pvalues, impute, run_qc

DATA = Path(__file__).parent / "data" / "breeding"


@pytest.fixture(scope="module")
def fish() -> Genotypes:
    return io.read_genotypes(DATA / "simfish.bed")


def test_hwe_exact_matches_plink2(fish: Genotypes) -> None:
    # plink2 --bfile simfish --hardy --nonfounders  (column P of simfish.hardy)
    p = hwe_pvalues(fish.dosages)
    assert p[0] == pytest.approx(1.0)
    assert p[1] == pytest.approx(0.0210645, rel=1e-5)  # 63 / 37 / 0 genotypes
    assert p[2] == pytest.approx(0.797308, rel=1e-5)  # 6 / 41 / 52
    # Wigginton et al. 2005 worked example: 100 individuals, 57 AA, 14 Aa, 29 aa
    assert hwe_exact(14, 57, 29) < 1e-10


def test_qc_reports_counts_at_every_step(fish: Genotypes) -> None:
    ped = io.read_pedigree(DATA / "simfish_pedigree.csv")
    dos = fish.dosages.copy()
    dos[:, 5] = np.nan  # a failed SNP
    dos[:60, 6] = np.nan
    dos[7, :200] = np.nan  # a failed sample
    geno = Genotypes(fish.ids, fish.snps, dos, source="simfish.bed")
    res = run_qc(geno, ped, QcOptions(min_maf=0.05, hwe_p=1e-4))
    steps = {s.step: s for s in res.steps}
    assert [s.step for s in res.steps] == ["snp_call_rate", "animal_call_rate", "maf", "hwe",
                                           "mendelian", "duplicates"]
    assert steps["snp_call_rate"].snps_removed == 2
    assert set(steps["snp_call_rate"].removed) == {fish.snps[5], fish.snps[6]}
    assert steps["animal_call_rate"].removed == [fish.ids[7]]
    assert steps["maf"].snps_removed > 0
    # counts chain: what leaves one step enters the next
    for a, b in zip(res.steps, res.steps[1:], strict=False):
        assert (a.animals_out, a.snps_out) == (b.animals_in, b.snps_in)
    assert res.genotypes.n_snps == steps["duplicates"].snps_out
    assert not np.isnan(res.genotypes.dosages).any()
    assert res.imputed_mean + res.imputed_from_parents > 0
    assert "exact" in res.hwe_test
    assert res.to_dict()["steps"][0]["snps_out"] == 298


def test_mendelian_conflict_flags_wrong_sire(fish: Genotypes) -> None:
    ped = io.read_pedigree(DATA / "simfish_pedigree.csv")
    i = ped.ids.index("G2F01-01")
    true_sire = ped.sire[i]
    ped.sire[i] = "G1F09-01" if true_sire != "G1F09-01" else "G1F08-01"
    res = run_qc(fish, ped, QcOptions(hwe_p=0))
    flagged = {(m["animal"], m["role"]) for m in res.mendel}
    assert flagged == {("G2F01-01", "sire")}
    assert res.mendel[0]["conflicts"] > 5


def test_duplicate_samples_found(fish: Genotypes) -> None:
    dos = np.vstack([fish.dosages, fish.dosages[10:11]])
    geno = Genotypes([*fish.ids, "tube-101"], fish.snps, dos)
    res = run_qc(geno, None, QcOptions(hwe_p=0, drop_duplicates=True))
    pairs = {(d["animal1"], d["animal2"]): d["identity"] for d in res.duplicates}
    assert pairs[(fish.ids[10], "tube-101")] == 1.0
    # the bundled file has one short chromosome: two full sibs inherited the same
    # haplotypes nearly everywhere, and are reported too (a breeder should look at them)
    assert all(a[:5] == b[:5] for a, b in pairs if b != "tube-101")
    assert "tube-101" not in res.genotypes.ids


def test_imputation_from_homozygous_parents_is_exact() -> None:
    ped = Pedigree(["s", "d", "k"], [None, None, "s"], [None, None, "d"])
    dos = np.array([[0, 2, 1], [2, 2, 0], [np.nan, np.nan, np.nan]], dtype=np.float32)
    out, parents, mean = impute(Genotypes(["s", "d", "k"], ["a", "b", "c"], dos), ped)
    assert out.dosages[2].tolist() == [1.0, 2.0, 0.5]  # 0x2 → 1, 2x2 → 2, c by the mean
    assert (parents, mean) == (2, 1)


def test_vcf_bgzip_gt_and_ds_read_as_the_plink_file(fish: Genotypes) -> None:
    # simfish40.vcf.gz holds the first 40 SNPs of simfish.bed (ALT = PLINK's counted A1)
    for field in ("GT", "DS"):
        vcf = io.read_genotypes(DATA / "simfish40.vcf.gz", field)
        assert vcf.ids == fish.ids and vcf.snps == fish.snps[:40]
        np.testing.assert_array_equal(vcf.dosages, fish.dosages[:, :40])


def test_hwe_skipped_for_inbred_lines_coded_0_1() -> None:
    # DArT-style presence/absence on inbred lines (as the wheat set): HWE would reject all
    rng = np.random.default_rng(4)
    dos = (rng.random((50, 30)) < 0.4).astype(np.float32)
    res = run_qc(Genotypes([f"l{i}" for i in range(50)], [f"m{j}" for j in range(30)], dos))
    hwe = next(s for s in res.steps if s.step == "hwe")
    assert hwe.snps_removed == 0 and hwe.rule.startswith("skipped: no genotype is 2")
