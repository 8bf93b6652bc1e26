"""The plastics pack builder, on a small real subset (tests/data/profiles/mini_plastics), and
the shipped pack's manifest."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from lanhai.errors import UsageError
from lanhai.profiles import build_plastics as build_plastics_module
from lanhai.profiles.build_plastics import (
    CLOSE_GAIN,
    CLOSE_MATRIX,
    FLOOR,
    HELD_OUT_PROTEOME,
    RELATIVE_FLOOR,
    build_plastics,
    cv_folds,
    enzyme_label,
    enzyme_names,
    read_labels,
)
from lanhai.profiles.calls import call_pack
from lanhai.profiles.hmmtools import digitize, read_fasta, read_hmms
from lanhai.profiles.registry import builtin_pack, read_manifest

MINI = Path(__file__).parent / "data" / "profiles" / "mini_plastics"
PETASE = "5LUK_A"


def test_mini_build_is_deterministic_calibrated_and_cross_validated(tmp_path: Path) -> None:
    one, records = build_plastics(MINI, tmp_path / "a")
    two, _ = build_plastics(MINI, tmp_path / "b")
    assert one.path.read_bytes() == two.path.read_bytes()
    assert (one.path.parent / "pack.json").read_text() == \
        (two.path.parent / "pack.json").read_text()
    pack = read_manifest(one.path.parent)
    assert pack.category == "plastics" and pack.cutoff == "calibrated"
    names = set(pack.families)
    # families named after their activity, one profile per enzyme, the PlastEDMA HMMs
    assert {"PET_hydrolase_1", "PHA_depolymerase_1", "nylon_hydrolase_1"} <= names
    assert f"PDG_PET_{PETASE}" in names and "PDG_PA_NYLB_PAEUR" in names
    assert sum(n.startswith("PlastEDMA_") for n in names) == 2
    assert pack.families["PDG_PHAs_PHB_depolymerase_00006"].substrates == ("PHAs",)
    assert pack.families[f"PDG_PET_{PETASE}"].description.startswith(
        "enzyme 5LUK_A (PDG_DB), validated on PET")
    # close-relative profiles are kept only where they stand further above their thresholds;
    # on the one mini background proteome every threshold sits at the floor, so none is
    # (the rule itself: test_close_profiles_are_kept_by_their_gain_in_headroom)
    assert not any(r["kind"] == "enzyme_close" for r in records.values())
    assert "PET" in pack.families["PET_hydrolase_1"].substrates
    assert records["PET_hydrolase_1"]["kind"] == "family"
    # thresholds: GA lines, never below the floor, above every background protein
    hmms = {str(h.name): h for h in read_hmms(pack.path)}
    assert sorted(hmms) == sorted(pack.thresholds) == sorted(names)
    for name, value in pack.thresholds.items():
        assert value >= FLOOR
        if records[name]["kind"] == "enzyme":  # nor below a share of the enzyme's own score
            assert value >= RELATIVE_FLOOR * records[name]["self_score"]
        gathering = hmms[name].cutoffs.gathering
        assert gathering is not None and gathering[0] == pytest.approx(value, abs=0.01)
    # the share decides where a long enzyme's own score dwarfs the background's and the floor
    by_share = [n for n, r in records.items() if r["kind"] == "enzyme"
                and r["threshold"] == pytest.approx(RELATIVE_FLOOR * r["self_score"], abs=0.11)]
    assert by_share and all(records[n]["threshold"] > FLOOR + 0.05 for n in by_share)
    background = read_fasta(MINI / "cazy" / "proteomes" / "Zobellia_galactanivorans_DsiJ.faa.gz")
    assert call_pack(pack, digitize(background)) == []
    # every enzyme is found by its own profile with its own plastic type
    labels = read_labels(MINI / "plastics" / "PDG_DB_dev_labels.tsv")
    calls = call_pack(pack, digitize(read_fasta(MINI / "plastics" / "PDG_DB_dev.faa")))
    own = enzyme_names(labels)
    assert {c.protein for c in calls if c.family == own[c.protein]} == set(labels)
    prov = pack.provenance
    assert prov["training_enzymes"] == len(labels) and prov["held_out_enzymes"] == []
    assert not any(HELD_OUT_PROTEOME in name for name in prov["inputs"])  # never read
    assert prov["background_strains"] == ["Zobellia_galactanivorans_DsiJ"]
    cv = prov["cross_validation"]
    assert cv["folds"] == 5 and sum(cv["fold_sizes"]) == len(labels)
    assert sum(t["enzymes"] for t in cv["per_type"].values()) == len(labels)
    assert 0.0 <= cv["recall"] <= 1.0
    assert sum(t["right"] for t in cv["per_type"].values()) == round(cv["recall"] * len(labels))


def _level(description: str) -> float:
    """The linkage E-value a family's description states."""
    found = re.search(r"phmmer E <= ([0-9.e+-]+)", description)
    assert found, description
    return float(found.group(1))


def test_subfamilies_nest_in_families_and_each_cluster_is_built_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build_plastics_module, "LINK_EVALUES", (1e-5, 1e-100))
    pack, records = build_plastics(MINI, tmp_path, cross_validate=False)
    families = {n: frozenset(r["members"]) for n, r in records.items() if r["kind"] == "family"}
    assert len(set(families.values())) == len(families)  # no member set built twice
    levels = {n: _level(pack.families[n].description) for n in families}
    loose = [m for n, m in families.items() if levels[n] == 1e-5]
    tight = [m for n, m in families.items() if levels[n] == 1e-100]
    assert loose and tight
    assert all(any(t < f for f in loose) for t in tight)  # strictly inside a family
    labels = read_labels(MINI / "plastics" / "PDG_DB_dev_labels.tsv")
    for name, members in families.items():
        assert set(pack.families[name].substrates) == {p for i in members for p in labels[i]}
    # an enzyme profile names every family it belongs to
    petase = pack.families[f"PDG_PET_{PETASE}"].description
    assert sum(n in petase for n, m in families.items() if PETASE in m) >= 2


def test_close_profiles_are_kept_by_their_gain_in_headroom(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    labels = read_labels(MINI / "plastics" / "PDG_DB_dev_labels.tsv")
    monkeypatch.setattr(build_plastics_module, "CLOSE_GAIN", 0.0)
    every, records = build_plastics(MINI, tmp_path / "all", cross_validate=False)
    close = {n: r for n, r in records.items() if r["kind"] == "enzyme_close"}
    assert sorted(m for r in close.values() for m in r["members"]) == sorted(labels)
    # the BLOSUM80 profile of an enzyme scores it higher than the BLOSUM62 one
    own = {n: r["self_score"] for n, r in records.items() if "self_score" in r}
    assert all(own[n] > own[n.removesuffix("_close")] for n in close)
    gains = sorted(r["headroom"] / records[n.removesuffix("_close")]["headroom"]
                   for n, r in close.items())
    # a cut between two distinct gains (the manifest's headrooms are rounded)
    distinct = sorted(set(gains))
    cut = (distinct[len(distinct) // 2 - 1] + distinct[len(distinct) // 2]) / 2
    monkeypatch.setattr(build_plastics_module, "CLOSE_GAIN", cut)
    some, records = build_plastics(MINI, tmp_path / "some", cross_validate=False)
    kept = [n for n, r in records.items() if r["kind"] == "enzyme_close"]
    for name in kept:
        plain = name.removesuffix("_close")
        assert records[name]["members"] == records[plain]["members"]
        assert records[name]["headroom"] >= cut * records[plain]["headroom"]
        assert some.families[name].substrates == some.families[plain].substrates
        assert CLOSE_MATRIX in some.families[name].description
    assert len(kept) == sum(g >= cut for g in gains) < len(labels)
    assert some.hmm_count == every.hmm_count - (len(labels) - len(kept))
    assert sorted(str(h.name) for h in read_hmms(some.path)) == sorted(some.families)


def test_held_out_enzymes_are_not_built_from(tmp_path: Path) -> None:
    held = [PETASE, "1WYB_A"]
    pack, records = build_plastics(MINI, tmp_path, held_out=held)
    members = {m for r in records.values() for m in (r["members"] or [])}
    assert not members & set(held)
    assert f"PDG_PET_{PETASE}" not in pack.families
    assert f"PDG_PET_{PETASE}_close" not in pack.families
    assert pack.provenance["held_out_enzymes"] == sorted(held)
    assert pack.provenance["cross_validation"] is None  # only for the pack built from all


def test_unknown_held_out_enzyme_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="held-out ids"):
        build_plastics(MINI, tmp_path, held_out=["no_such_enzyme"])


def test_missing_data_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="missing input"):
        build_plastics(tmp_path, tmp_path / "out")


def test_folds_keep_twins_together_and_are_stratified() -> None:
    labels = {f"pet{i}": ("PET",) for i in range(10)} | {f"pha{i}": ("PHAs",) for i in range(5)}
    twins = [("pet0", "pet1"), ("pet1", "pet2"), ("pha3", "pha4")]
    folds = cv_folds(labels, twins, folds=5)
    assert sorted(i for f in folds for i in f) == sorted(labels)
    fold_of = {i: k for k, f in enumerate(folds) for i in f}
    assert fold_of["pet0"] == fold_of["pet1"] == fold_of["pet2"]
    assert fold_of["pha3"] == fold_of["pha4"]
    per_fold = [Counter(labels[i][0] for i in f) for f in folds]
    assert max(c["PET"] for c in per_fold) - min(c["PET"] for c in per_fold) <= 2
    assert sum(c["PHAs"] > 0 for c in per_fold) == 4  # 4 groups, 4 folds
    assert cv_folds(labels, twins, folds=5) == folds


def test_enzyme_names_are_readable_and_unique() -> None:
    assert enzyme_label("00187____PETase____Uncultured_bacterium____PET") == "PETase_00187"
    assert enzyme_label("sp__P07061__NYLB_PAEUR") == "NYLB_PAEUR"
    assert enzyme_label("tr__B0FLR6__B0FLR6_AMYOR") == "B0FLR6_AMYOR"
    assert enzyme_label("AAD03558.1") == "AAD03558.1"
    names = enzyme_names({"a b": ("PET",), "a_b": ("PET",), "x": ()})
    assert names == {"a b": "PDG_PET_a_b", "a_b": "PDG_PET_a_b_2", "x": "PDG_plastic_x"}


def test_shipped_pack_is_built_from_every_enzyme_and_records_its_cross_validation() -> None:
    pack = builtin_pack("plastics")
    prov = pack.provenance
    assert pack.version == "2.4"
    assert prov["held_out_enzymes"] == [] and prov["training_enzymes"] == 190
    assert HELD_OUT_PROTEOME not in prov["background_strains"]
    cv = prov["cross_validation"]
    assert cv["folds"] == 5 and sum(cv["fold_sizes"]) == 190
    assert {"PET", "PHAs", "PLA"} <= set(cv["per_type"])
    kinds = Counter(r["kind"] for r in prov["families"].values())
    assert kinds["enzyme"] == 190 and kinds["PlastEDMA"] == 24 and kinds["family"] > 0
    assert 0 < kinds["enzyme_close"] < 190
    for name, record in prov["families"].items():
        if record["kind"] == "enzyme_close":
            plain = prov["families"][name.removesuffix("_close")]
            assert record["headroom"] >= CLOSE_GAIN * plain["headroom"]
    assert pack.hmm_count == len(pack.families) == len(pack.thresholds)
    assert all(pack.families[n].substrates for n in pack.families)
    # families at the loose level and subfamilies inside them
    families = {n: frozenset(r["members"]) for n, r in prov["families"].items()
                if r["kind"] == "family"}
    levels = {n: _level(pack.families[n].description) for n in families}
    assert set(levels.values()) == {1e-5, 1e-10}
    loose = [m for n, m in families.items() if levels[n] == 1e-5]
    assert all(any(m < f for f in loose) for n, m in families.items() if levels[n] == 1e-10)
    assert len(set(families.values())) == len(families)
