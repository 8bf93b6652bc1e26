"""Building the general cazy pack from labelled data, on a small real subset
(tests/data/profiles/mini_cazy: PL6/PL17 dbCAN rows of three training strains and Maribacter
62-1, and 17 dbCAN-PUL labelled records: PL6, PL17 and GH16 proteins of other organisms, two
Zobellia proteins identical to training proteins and two Maribacter 62-1 proteins)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lanhai.errors import UsageError
from lanhai.profiles.build_cazy_general import build_general_cazy, cazy_unit
from lanhai.profiles.calls import call_pack
from lanhai.profiles.hmmtools import digitize, read_fasta, read_hmms
from lanhai.profiles.registry import read_manifest

MINI = Path(__file__).parent / "data" / "profiles" / "mini_cazy"
HELD = ("Maribacter_62-1",)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, object]]:
    root = tmp_path_factory.mktemp("general")
    one, units = build_general_cazy(MINI, root / "a", held_out=HELD, folds=2)
    two, _ = build_general_cazy(MINI, root / "b", held_out=HELD, folds=2)
    return one.path, two.path, {u.unit: u for u in units}


def test_the_build_is_deterministic(built: tuple[Path, Path, dict[str, object]]) -> None:
    one, two, _ = built
    assert one.read_bytes() == two.read_bytes()
    first = json.loads((one.parent / "pack.json").read_text())
    second = json.loads((two.parent / "pack.json").read_text())
    first["provenance"].pop("build_seconds")
    second["provenance"].pop("build_seconds")
    assert first == second


def test_families_and_subfamilies_with_enough_members_are_built(
        built: tuple[Path, Path, dict[str, object]]) -> None:
    path, _, units = built
    pack = read_manifest(path.parent)
    assert pack.name == "cazy" and pack.category == "cazy" and pack.cutoff == "calibrated"
    assert list(pack.families) == ["PL6", "PL6_1", "PL6_3", "PL17", "PL17_2"]
    assert all(pack.threshold_on[u] == "domain" for u in pack.families)
    hmms = {str(h.name): h for h in read_hmms(pack.path)}
    assert set(hmms) == set(pack.families)
    for unit, hmm in hmms.items():
        assert hmm.cutoffs.gathering[0] == pytest.approx(pack.thresholds[unit], abs=0.01)
    # two GH16 proteins: listed as unsupported with the reason, not faked
    gh16 = pack.provenance["families"]["GH16"]
    assert gh16["built"] is False and "2 labelled protein(s)" in gh16["reason"]
    assert "GH16" in pack.provenance["unsupported"]
    assert not units["GH16_16"].built  # type: ignore[attr-defined]


def test_quality_figures_are_recorded_per_family(
        built: tuple[Path, Path, dict[str, object]]) -> None:
    path, _, _ = built
    record = read_manifest(path.parent).provenance["families"]["PL6"]
    assert record["members"] >= 10 and record["organisms"] >= 8
    assert 0 < record["cv_recall"] <= 1 and record["cv_members"] == record["members"]
    assert record["training_recall"] == 1.0 and record["threshold"] >= 20
    assert record["sources"]["dbcan-hits"] >= 1 and record["sources"]["dbcan-pul:cazy_assigned"]


def test_held_out_strains_are_never_used(built: tuple[Path, Path, dict[str, object]]) -> None:
    path, _, _ = built
    prov = read_manifest(path.parent).provenance
    assert prov["held_out_strains"] == list(HELD)
    assert not any("62-1" in name for name in prov["inputs"])
    # KCP55_RS04075 is identical to a Maribacter 62-1 protein; KCP55_RS04090 is from that strain
    assert prov["labelled_skipped"] == {"identical to a held-out strain's protein": 1,
                                        "from a held-out strain": 1}


def test_the_pack_finds_the_held_out_strains_alginate_lyases(
        built: tuple[Path, Path, dict[str, object]]) -> None:
    path, _, _ = built
    pack = read_manifest(path.parent)
    proteins = read_fasta(MINI / "cazy" / "proteomes" / "Maribacter_62-1.faa.gz")
    called = {(c.protein.split("_[")[0], c.family) for c in call_pack(pack, digitize(proteins))}
    families = {f for _, f in called}
    assert {"PL6", "PL17"} <= families
    assert all(f in pack.families for f in families)


def test_unit_names() -> None:
    assert cazy_unit("GH13_9.hmm") == "GH13_9"
    assert cazy_unit("GT2_Glycos_transf_2.hmm") == "GT2"
    assert cazy_unit("PL7") == "PL7"
    assert cazy_unit("S1_4") is None


def test_missing_labelled_data_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="missing input") as err:
        build_general_cazy(tmp_path, tmp_path / "out")
    assert "cazy/labelled" in (err.value.problems[0].fix or "")


def test_the_family_table_in_the_docs_matches_the_shipped_pack() -> None:
    import io

    from benchmarks.cazy_family_table import write_table

    from lanhai.profiles.registry import builtin_pack

    pack = builtin_pack("cazy")
    out = io.StringIO()
    write_table(pack.provenance["families"], pack.version,
                pack.provenance["held_out_strains"], out)
    docs = Path(__file__).parents[1] / "docs" / "cazy-families.md"
    assert docs.read_text(encoding="utf-8") == out.getvalue(), \
        "run: python -m benchmarks.cazy_family_table > docs/cazy-families.md"
    assert "| GH13_9 |" in out.getvalue() and "| GH118 |" not in out.getvalue()
