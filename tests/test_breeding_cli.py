"""Priority 8: ``lanhai breed …`` as a breeder types it — files in, JSON or text out,
exit 0 ok / 1 bad data / 2 usage."""

from __future__ import annotations

from pathlib import Path

import pytest

from lanhai.cli.main import main
from tests.support import breed

DATA = Path(__file__).parent / "data" / "breeding"
GENO = str(DATA / "simfish.bed")
PED = str(DATA / "simfish_pedigree.csv")
PHEN = str(DATA / "simfish_phenotypes.csv")


@pytest.fixture(autouse=True)
def _bank(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANHAI_DATA_DIR", str(tmp_path / "bank"))
    monkeypatch.delenv("LANHAI_DATABASE_URL", raising=False)


def test_import_then_analyse_by_dataset_name(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = breed(capsys, "import", "--name", "fish2024", "--genotypes", GENO,
                       "--pedigree", PED, "--phenotypes", PHEN, "--covariate", "age_days",
                       "--json")
    assert code == 0
    assert out["counts"] == {"genotyped_animals": 100, "snps": 300,  # type: ignore[index]
                             "pedigree_animals": 100, "phenotyped_animals": 80,
                             "traits": ["weight", "fillet_yield"], "germplasm_linked": 0}
    code, out, _ = breed(capsys, "reml", "--dataset", "fish2024", "--trait", "weight",
                       "--model", "ssgblup", "--json")
    assert code == 0 and 0 < out["h2"] < 1 and out["h2_se"] > 0  # type: ignore[index]
    assert set(out["fixed"]) == {"intercept", "tank=T2", "tank=T3", "sex=M",  # type: ignore[index]
                                 "age_days"}


def test_qc_text_and_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = breed(capsys, "qc", "--genotypes", GENO, "--pedigree", PED, "--min-maf",
                       "0.05", "--out", str(tmp_path / "clean"), "--json")
    assert code == 0
    steps = {s["step"]: s for s in out["steps"]}  # type: ignore[index]
    assert steps["maf"]["snps_removed"] > 0
    assert (tmp_path / "clean.bed").exists() and (tmp_path / "clean.bim").exists()
    code, text, _ = breed(capsys, "qc", "--genotypes", str(tmp_path / "clean.bed"))
    assert code == 0 and "snp_call_rate" in text and "kept 100 animals" in text  # type: ignore[operator]


@pytest.mark.parametrize("matrix", ["G", "A", "A-inverse", "H-inverse"])
def test_grm_writes_matrices(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                             matrix: str) -> None:
    out_file = tmp_path / f"{matrix}.tsv"
    code, out, _ = breed(capsys, "grm", "--matrix", matrix, "--genotypes", GENO, "--pedigree",
                       PED, "--out", str(out_file), "--json")
    assert code == 0 and out["animals"] == 100  # type: ignore[index]
    assert out_file.read_text().count("\n") > 100


def test_predict_ranks_and_writes(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, text, _ = breed(capsys, "predict", "--model", "pblup", "--pedigree", PED,
                        "--phenotypes", PHEN, "--trait", "weight", "--fixed", "tank",
                        "--top", "3", "--out", str(tmp_path / "gebv.tsv"))
    assert code == 0
    lines = text.splitlines()  # type: ignore[attr-defined]
    assert lines[0].startswith("weight by pblup: 80 records") and len(lines) == 4
    rows = (tmp_path / "gebv.tsv").read_text().splitlines()
    assert rows[0] == "rank\tid\tgebv\treliability\taccuracy\tpev\tphenotyped"
    assert len(rows) == 101


def test_cv_per_fold_and_overall(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["cv", "--genotypes", GENO, "--phenotypes", PHEN, "--trait", "weight", "--model",
            "gblup", "--folds", "4", "--seed", "9", "--fixed", "tank", "--json"]
    code, out, _ = breed(capsys, *args)
    assert code == 0 and len(out["folds"]) == 4  # type: ignore[index]
    assert out["seed"] == 9 and out["folds_from"] == "4-fold"  # type: ignore[index]
    for key in ("accuracy_mean_within_folds", "bias_mean_within_folds", "h2_mean",
                "r_pooled"):
        assert key in out["summary"]  # type: ignore[index]
    _, again, _ = breed(capsys, *args)
    assert again == out  # reproducible from the seed
    code, text, _ = breed(capsys, *args[:-1], "--by-family", "--pedigree", PED)
    assert code == 0 and "4-fold by family" in text and "overall: r" in text  # type: ignore[operator]


def test_mate_plan_under_kinship_limit(capsys: pytest.CaptureFixture[str],
                                       tmp_path: Path) -> None:
    code, out, _ = breed(capsys, "mate", "--model", "pblup", "--pedigree", PED, "--phenotypes",
                       PHEN, "--trait", "weight", "--matings", "10", "--delta-f", "0.01",
                       "--out", str(tmp_path / "plan.tsv"), "--json")
    assert code == 0
    sel = out["selection"]  # type: ignore[index]
    assert sel["mean_kinship"] <= sel["kinship_limit"] + 1e-6
    assert len(out["matings"]) == 10  # type: ignore[index]
    assert out["mean_progeny_inbreeding"] <= out["random_mating_inbreeding"] + 1e-12  # type: ignore[index]
    assert (tmp_path / "plan.tsv").read_text().startswith("mating\tsire\tdam")


def test_bad_data_exit_1_usage_exit_2(capsys: pytest.CaptureFixture[str],
                                      tmp_path: Path) -> None:
    bad = tmp_path / "ped.csv"
    bad.write_text("id,sire,dam\nA,C,0\nB,A,0\nC,B,0\n")
    code, out, err = breed(capsys, "predict", "--model", "pblup", "--pedigree", str(bad),
                         "--phenotypes", PHEN, "--trait", "weight", "--json")
    assert code == 1
    assert out["error"]["code"] == "invalid"  # type: ignore[index]
    assert "pedigree loop: A → B → C → A" in err
    code, _, err = breed(capsys, "reml", "--genotypes", GENO, "--phenotypes", PHEN)
    assert code == 2 and "--trait is required" in err
    assert main(["breed", "cv", "--model", "blup"]) == 2
    capsys.readouterr()
    code, _, err = breed(capsys, "reml", "--dataset", "nope", "--trait", "w")
    assert code == 2 and "lanhai breed import" in err


def test_failed_import_writes_nothing(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "ped.csv"
    bad.write_text("id,sire,dam,birth\nS,0,0,2022\nK,S,0,2021\n")
    code, _, err = breed(capsys, "import", "--name", "bad", "--pedigree", str(bad), "--json")
    assert code == 1 and "sire S (born 2022) is not born before its offspring K" in err
    assert not (tmp_path / "bank" / "breeding" / "bad").exists()


def test_a_pedigree_with_father_id_and_mother_id_needs_a_mapping(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Unmapped: exit 1, the error names the columns and the --map that fixes it; mapped,
    the same breeding values as the pedigree with Lanhai's own column names."""
    ped = tmp_path / "hatchery.csv"
    ped.write_text(Path(PED).read_text().replace("id,sire,dam,", "ID,Father_ID,Mother_ID,", 1))
    args = ["predict", "--model", "pblup", "--pedigree", str(ped), "--phenotypes", PHEN,
            "--trait", "weight", "--fixed", "tank", "--json"]
    code, out, err = breed(capsys, *args)
    assert code == 1 and out["error"]["code"] == "invalid"  # type: ignore[index]
    assert "hatchery.csv, column 'Father_ID': no sire column in the pedigree" in err
    assert "--map 'Father_ID=sire'" in err and "--map 'Mother_ID=dam'" in err
    code, mapped, err = breed(capsys, *args, "--map", "Father_ID=sire", "--map",
                              "Mother_ID=dam")
    assert code == 0, err
    code, plain, _ = breed(capsys, *[a if a != str(ped) else PED for a in args])
    assert code == 0 and mapped == plain
    # the mapping is kept with an imported dataset
    code, out, err = breed(capsys, "import", "--name", "hatchery", "--pedigree", str(ped),
                           "--phenotypes", PHEN, "--map", "Father_ID=sire", "--map",
                           "Mother_ID=dam", "--json")
    assert code == 0, err
    code, out, _ = breed(capsys, "datasets", "--json")
    [item] = out["datasets"]  # type: ignore[index]
    assert item["map"] == {"Father_ID": "sire", "Mother_ID": "dam"}
    # mistakes in the mapping itself are usage errors naming it
    for bad, words in ((["--map", "Father_ID"], "a mapping is written COLUMN=FIELD"),
                       (["--map", "Fathr_ID=sire"], "no column 'Fathr_ID' in hatchery.csv"),
                       (["--map", "Father_ID=sir"], "'sir' is not a pedigree field")):
        code, _, err = breed(capsys, *args, *bad)
        assert code == 2 and words in err, (bad, err)
