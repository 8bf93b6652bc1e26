"""Priority 1: a breeder's bad files get precise messages (what, where, how to fix), never a
numerical failure deep inside."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lanhai.breeding import io
from lanhai.breeding.data import Dataset
from lanhai.breeding.design import build
from lanhai.breeding.validate import check_dataset, check_pedigree
from lanhai.errors import ValidationFailed

DATA = Path(__file__).parent / "data" / "breeding"


def _write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path


def _problems(err: pytest.ExceptionInfo[ValidationFailed]) -> list[str]:
    return [p.describe() for p in err.value.problems]


def test_genotype_not_012_names_row_and_snp(tmp_path: Path) -> None:
    path = _write(tmp_path, "geno.csv", "id,snpA,snpB,snpC\nfish1,0,1,2\nfish2,1,3,NA\n"
                                        "fish3,2,1,AB\n")
    with pytest.raises(ValidationFailed) as err:
        io.read_genotypes(path)
    probs = err.value.problems
    assert {(p.record, p.column, p.value, p.row) for p in probs} == {
        ("fish2", "snpB", "3", 3), ("fish3", "snpC", "AB", 4)}
    assert "not 0, 1, 2 or missing" in probs[0].reason
    assert probs[0].fix


def test_vcf_multiallelic_genotype_is_named(tmp_path: Path) -> None:
    vcf = ("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\ta\tb\n"
           "1\t100\trs1\tA\tG,T\t.\t.\t.\tGT\t0/1\t1/2\n")
    with pytest.raises(ValidationFailed) as err:
        io.read_vcf(_write(tmp_path, "x.vcf", vcf))
    (p,) = err.value.problems
    assert (p.record, p.column, p.value, p.row) == ("rs1", "b", "1/2", 3)
    assert "bcftools norm" in p.fix


def test_phenotyped_animal_without_genotype_or_pedigree() -> None:
    ped = io.read_pedigree(DATA / "mrode_pedigree.csv")
    phen = io.read_phenotypes(DATA / "mrode_phenotypes.csv")
    phen.ids[2] = "66"  # a typo in the breeder's phenotype file
    with pytest.raises(ValidationFailed) as err:
        check_dataset(Dataset(pedigree=ped, phenotypes=phen), "wwg", "pblup")
    (p,) = err.value.problems
    assert p.record == "66" and p.row == 4
    assert "no pedigree row" in p.reason


def test_gblup_animal_without_genotype_suggests_fix() -> None:
    geno = io.read_genotypes(DATA / "simfish.bed")
    phen = io.read_phenotypes(DATA / "simfish_phenotypes.csv")
    geno = geno.subset(animals=np.array([a != "G2F03-01" for a in geno.ids]))
    with pytest.raises(ValidationFailed) as err:
        check_dataset(Dataset(genotypes=geno, phenotypes=phen), "weight", "gblup")
    assert [p.record for p in err.value.problems] == ["G2F03-01"]
    # with its pedigree, single-step can use it
    ped = io.read_pedigree(DATA / "simfish_pedigree.csv")
    check_dataset(Dataset(geno, ped, phen), "weight", "ssgblup")


def test_parent_born_after_offspring(tmp_path: Path) -> None:
    path = _write(tmp_path, "ped.csv", "id,sire,dam,birth\nS1,0,0,2020\nD1,0,0,2018\n"
                                       "K1,S1,D1,2021\nK2,K1,D1,2019-06-01\n")
    with pytest.raises(ValidationFailed) as err:
        check_pedigree(io.read_pedigree(path))
    (p,) = err.value.problems
    assert p.record == "K2" and p.row == 5
    assert "sire K1 (born 2021) is not born before its offspring K2" in p.reason


def test_pedigree_loop_names_the_cycle(tmp_path: Path) -> None:
    path = _write(tmp_path, "ped.csv", "id,sire,dam\nA,C,0\nB,A,0\nC,B,0\nD,A,0\n")
    with pytest.raises(ValidationFailed) as err:
        check_pedigree(io.read_pedigree(path))
    (text,) = _problems(err)
    assert "pedigree loop: A → B → C → A" in text


def test_sex_conflict_sire_and_dam(tmp_path: Path) -> None:
    path = _write(tmp_path, "ped.csv", "id,sire,dam,sex\nX,0,0,M\nY,0,0,F\nK1,X,Y,F\n"
                                       "K2,Y,X,M\nK3,K1,Y,\n")
    with pytest.raises(ValidationFailed) as err:
        check_pedigree(io.read_pedigree(path))
    reasons = [p.reason for p in err.value.problems]
    assert "sex conflict: X is the sire of K1 and the dam of K2" in reasons
    assert "sex conflict: Y is the sire of K2 and the dam of K1" in reasons
    assert "sex conflict: K1 is recorded as F but used as a sire" in reasons


def test_collinear_fixed_effects_named(tmp_path: Path) -> None:
    # every fish of tank T2 came from batch B2: tank and batch are confounded
    path = _write(tmp_path, "phen.csv", "id,tank,batch,weight\n"
                  "a,T1,B1,1.0\nb,T1,B1,2.0\nc,T2,B2,3.0\nd,T2,B2,2.5\ne,T1,B1,1.5\n")
    phen = io.read_phenotypes(path)
    with pytest.raises(ValidationFailed) as err:
        build(phen, "weight")
    (p,) = err.value.problems
    assert "tank=T2" in p.reason and "batch=B2" in p.reason
    assert "collinear" in p.reason and p.fix
    build(phen, "weight", fixed=["tank"])  # dropping one effect fixes it


def test_single_level_and_constant_covariate(tmp_path: Path) -> None:
    path = _write(tmp_path, "phen.csv", "id,site,age,weight\na,S,10,1\nb,S,10,2\nc,S,10,3\n"
                                        "d,S,10,4\n")
    with pytest.raises(ValidationFailed) as err:
        build(io.read_phenotypes(path, covariates=["age"]), "weight")
    texts = " | ".join(_problems(err))
    assert "'site' has one level" in texts
    with pytest.raises(ValidationFailed) as err2:
        build(io.read_phenotypes(path, covariates=["age"]), "weight", fixed=["age"])
    assert "intercept, age" in err2.value.problems[0].reason


def test_all_missing_trait(tmp_path: Path) -> None:
    path = _write(tmp_path, "phen.csv", "id,weight,length\na,1.2,NA\nb,2.3,\nc,0.7,.\n")
    phen = io.read_phenotypes(path)
    with pytest.raises(ValidationFailed) as err:
        build(phen, "length")
    (p,) = err.value.problems
    assert p.column == "length" and "every value of trait 'length' is missing" in p.reason


def test_trait_typo_is_reported_not_turned_into_a_factor(tmp_path: Path) -> None:
    rows = "".join(f"f{i},{1 + i / 10}\n" for i in range(30))
    path = _write(tmp_path, "phen.csv", "id,weight\n" + rows + "f30,12.5kg\n")
    with pytest.raises(ValidationFailed) as err:
        io.read_phenotypes(path)
    (p,) = err.value.problems
    assert (p.row, p.column, p.value, p.record) == (32, "weight", "12.5kg", "f30")


def test_unknown_parent_codes(tmp_path: Path) -> None:
    path = _write(tmp_path, "ped.csv", "animal,father,mother\nA,0,NA\nB,.,\nC,A,B\n")
    ped = io.read_pedigree(path)
    assert ped.sire == [None, None, "A"] and ped.dam == [None, None, "B"]


def test_pedigree_columns_by_mapping_and_by_header(tmp_path: Path) -> None:
    """A mapping names the columns; without one, Lanhai's names and common ones are found
    case- and punctuation-insensitively; what is still unclear is a problem naming the
    column and the mapping that settles it."""
    path = _write(tmp_path, "ped.csv", "Fish,Father_ID,Mother_ID,Notes\nA,0,0,x\nB,A,0,\n")
    with pytest.raises(ValidationFailed) as err:
        io.read_pedigree(path)
    sire, dam = err.value.problems
    assert (sire.column, dam.column) == ("Father_ID", "Mother_ID")
    assert "map Father_ID=sire" in sire.fix and "map Mother_ID=dam" in dam.fix
    ped = io.read_pedigree(path, columns={"Father_ID": "sire", "mother_id": "dam",
                                          "Notes": "-"})
    assert ped.ids == ["A", "B"] and ped.sire == [None, "A"]
    chinese = _write(tmp_path, "家系.csv", "个体号,父本,母本,性别\nA,0,0,M\nB,A,0,F\n")
    assert io.read_pedigree(chinese).sex == ["M", "F"]
    two = _write(tmp_path, "two.csv", "id,sire,Sire ID,dam\nA,0,0,0\n")
    assert io.read_pedigree(two).sire == [None]  # the exact name wins
    both = _write(tmp_path, "both.csv", "id,father,male_parent,dam\nA,0,0,0\n")
    with pytest.raises(ValidationFailed) as err:
        io.read_pedigree(both)
    [problem] = err.value.problems
    assert "could each be the sire" in problem.reason and "male_parent=-" in problem.fix


def test_phenotype_columns_renamed_or_left_out(tmp_path: Path) -> None:
    path = _write(tmp_path, "phen.csv", "Fish,体重,Tank,Notes\nA,1.5,T1,ok\nB,2.5,T2,\n")
    phen = io.read_phenotypes(path, factors=["Tank"],
                              columns={"体重": "weight", "Notes": "-", "Tank": "tank"})
    assert phen.ids == ["A", "B"] and list(phen.traits) == ["weight"]
    assert list(phen.factors) == ["tank"]
    with pytest.raises(ValidationFailed) as err:
        io.read_phenotypes(path, columns={"体重": "w", "Tank": "w"})
    assert "would both be called 'w'" in err.value.problems[0].reason
