"""Profile packs: the built-in packs shipped in the package, loading by name, the substrate
table, and installed packs taking a built-in pack's place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lanhai.cli.main import main
from lanhai.errors import UsageError
from lanhai.profiles.hmmtools import choose_threshold, read_hmms
from lanhai.profiles.registry import (
    BUILTIN,
    add_pack,
    builtin_pack,
    cazy_family,
    list_packs,
    load_packs,
    marine_substrates,
    substrates_for,
)

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
DATA = Path(__file__).parent / "data" / "profiles"


def test_all_builtin_packs_load(tmp_path: Path) -> None:
    packs = load_packs(tmp_path / "profiles")
    assert [p.name for p in packs] == list(BUILTIN)
    for pack in packs:
        assert pack.path.is_file(), pack.name
        assert pack.hmm_count == len(pack.families) > 0


def test_pfam_gecco_points_at_the_wheel_and_every_hmm_has_ga(tmp_path: Path) -> None:
    pack, = load_packs(tmp_path / "profiles", ["pfam-gecco"])
    # gecco/hmmer/Pfam.ini: "size = 2766", "version = 35.0"
    assert pack.hmm_count == 2766 and pack.version == "35.0"
    assert pack.path.name == "Pfam.h3m" and "gecco" in pack.path.parts
    assert pack.cutoff == "gathering"
    assert pack.provenance["hmms_without_gathering"] == []
    assert pack.families["SusD_RagB"].accession == "PF07980.14"  # NAME/ACC in Pfam.h3m


def test_unknown_pack_lists_the_available_ones(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as err:
        load_packs(tmp_path / "profiles", ["sus", "pfam-full", "kegg"])
    assert "pfam-full, kegg" in err.value.message
    assert "pfam-gecco, cazy, marine-cazy, plastics, sus" in err.value.problems[0].reason


def test_sus_pack_roles_and_ga_from_pfam(tmp_path: Path) -> None:
    pack, = load_packs(tmp_path / "profiles", ["sus"])
    assert pack.category == "pul" and pack.cutoff == "gathering"
    roles = {name: fam.role for name, fam in pack.families.items()}
    assert sorted(n for n, r in roles.items() if r == "susC") == [
        "CarbopepD_reg_2", "Plug", "STN", "TonB_dep_Rec"]
    assert sorted(n for n, r in roles.items() if r == "susD") == [
        "SusD-like", "SusD-like_2", "SusD-like_3", "SusD_RagB"]
    # grep -A0 '^GA' PULkit_combined_susCD_Pfam.hmm: TonB_dep_Rec "GA    27.00 27.00"
    ga = {str(h.name): h.cutoffs.gathering for h in read_hmms(pack.path)}
    assert ga["TonB_dep_Rec"] == pytest.approx((27.0, 27.0))
    assert ga["STN"] == pytest.approx((28.4, 28.4))


def test_marine_cazy_manifest_matches_its_hmms(tmp_path: Path) -> None:
    pack, = load_packs(tmp_path / "profiles", ["marine-cazy"])
    assert pack.category == "cazy" and pack.cutoff == "calibrated"
    hmms = read_hmms(pack.path)
    names = [str(h.name) for h in hmms]
    assert sorted(names) == sorted(pack.families) == sorted(pack.thresholds)
    for hmm in hmms:  # the calibrated threshold is also the HMM's GA line
        assert hmm.cutoffs.gathering[0] == pytest.approx(pack.thresholds[str(hmm.name)],
                                                         abs=0.01)
        assert pack.thresholds[str(hmm.name)] >= 20.0
    table = marine_substrates()
    for name, fam in pack.families.items():
        assert fam.substrates == table[name] and fam.substrates
    assert pack.families["S1"].substrates == ("sulfated polysaccharides",)
    assert pack.families["S1"].role == "sulfatase"
    prov = pack.provenance
    assert not set(prov["training_strains"]) & set(prov["held_out_strains"])
    assert "Maribacter_62-1" in prov["held_out_strains"]
    for name in pack.families:
        record = prov["families"][name]
        assert record["built"] and record["seed_proteins"] >= 2
        assert record["threshold"] == pack.thresholds[name]
    # every family the table wants is either built or has a recorded reason
    for name in table:
        assert name in pack.families or name not in prov["families"] \
            or prov["families"][name]["reason"]


def test_plastics_manifest(tmp_path: Path) -> None:
    pack, = load_packs(tmp_path / "profiles", ["plastics"])
    assert pack.category == "plastics" and pack.cutoff == "calibrated"
    assert sorted(pack.thresholds) == sorted(pack.families)
    assert all(f.substrates for f in pack.families.values())
    assert sum(1 for n in pack.families if n.startswith("PlastEDMA_")) == 24
    assert pack.provenance["training_enzymes"] + len(pack.provenance["held_out_enzymes"]) == 190
    members = {m for r in pack.provenance["families"].values() for m in (r.get("members") or [])}
    assert not members & set(pack.provenance["held_out_enzymes"])


def test_cazy_family_names_and_substrates() -> None:
    assert cazy_family("GH16_3.hmm") == "GH16"
    assert cazy_family("PL7_5") == "PL7"
    assert cazy_family("GT2_Glycos_transf_2.hmm") == "GT2"
    assert cazy_family("S1_7") == "S1"
    assert cazy_family("PF00722") is None
    assert substrates_for("GH117.hmm") == ("agar", "porphyran")
    assert substrates_for("GT4.hmm") == ()


def test_choose_threshold() -> None:
    value, how = choose_threshold([100.0, 80.0], [20.0, 40.0])
    assert value == 60.0 and how.startswith("0.5 of the way from highest non-member 40.0")
    assert choose_threshold([100.0, 80.0], [20.0, 40.0], position=0.25)[0] == 50.0
    value, how = choose_threshold([100.0, 80.0, 30.0], [50.0, 10.0])
    assert value == 30.0 and "best F1 0.857" in how  # at 30: 3 TP, 1 FP; at 80: F1 0.8
    # the best split (at 60: 3 TP, 1 FP) placed a tenth of the way up its gap from 30, the
    # highest score below it: every point of the gap calls the same proteins
    value, how = choose_threshold([100.0, 80.0, 60.0], [70.0, 30.0], position=0.1,
                                  overlap_in_gap=True)
    assert value == 33.0 and "0.1 of the way up its gap from 30.0" in how
    assert choose_threshold([100.0, 80.0, 60.0], [70.0, 59.9], position=0.1,
                            overlap_in_gap=True)[0] == 60.0  # a gap too narrow to place in
    value, how = choose_threshold([30.0], [], position=0.2)
    assert value == 20.0 and "floor" in how  # 0.2 x 30 = 6 is raised to the 20-bit floor


def test_installed_pack_takes_a_builtin_name_place(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    folder = tmp_path / "profiles" / "sus"
    shutil.copytree(builtin_pack("sus").path.parent, folder)
    manifest = json.loads((folder / "pack.json").read_text())
    manifest["version"] = "rebuilt"
    (folder / "pack.json").write_text(json.dumps(manifest))
    assert load_packs(tmp_path / "profiles", ["sus"])[0].version == "rebuilt"
    rows = {r["name"]: r for r in list_packs(tmp_path / "profiles")}
    assert rows["sus"]["source"] == "installed (replaces built-in)"
    add_pack(tmp_path / "profiles", "three", DATA / "three_pfam.hmm", category="pul")
    monkeypatch.setenv("LANHAI_DATA_DIR", str(tmp_path))
    assert main(["profiles", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in listed] == [*BUILTIN, "three"]
    assert main(["profiles", "show", "three", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [f["name"] for f in shown["families"]] == ["STN", "Plug", "SusD_RagB"]
    assert main(["profiles", "show", "nope"]) == 2
    assert main(["profiles", "add", "bad", str(DATA / "not_an_hmm.faa")]) == 1
    assert "not a readable HMMER3" in capsys.readouterr().err


@pytest.mark.skipif(not (SHARED / "hmm").is_dir(), reason="needs ../shared/data")
def test_sus_build_reproduces_the_shipped_pack(tmp_path: Path) -> None:
    from lanhai.profiles.build_sus import build_sus

    built = build_sus(SHARED, tmp_path)
    shipped = builtin_pack("sus")
    assert built.path.read_bytes() == shipped.path.read_bytes()
    assert (built.path.parent / "pack.json").read_text() == \
        (shipped.path.parent / "pack.json").read_text()
