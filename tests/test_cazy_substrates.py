"""The general CAZy substrate table (profiles/data/cazy_substrates.toml): its shape, its
vocabulary, subfamily-first lookup, the marine section the marine-cazy build reads, and the
words users and dbCAN-PUL use for substrates."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from lanhai.profiles.pack import Family, Pack
from lanhai.profiles.registry import (
    cazy_family,
    cazy_substrates,
    marine_substrates,
    substrates_for,
    with_cazy_substrates,
)
from lanhai.profiles.substrates import (
    KEY,
    entry_level,
    lineage,
    normalise,
    normalise_label,
    related,
    table,
    table_path,
    votes_for_pul,
)
from lanhai.search.enzymes import families_by_substrate, suggest

#: the families of the marine table before the general one (the marine-cazy build's list)
MARINE = {"GH16", "GH50", "GH86", "GH96", "GH117", "GH118", "GH82", "GH150", "GH167",
          "GH127", "GH129", "PL5", "PL6", "PL7", "PL8", "PL14", "PL15", "PL17", "PL18",
          "PL31", "PL32", "PL34", "PL36", "PL38", "PL39", "PL41", "PL24", "PL25", "PL28",
          "PL37", "PL40", "GH105", "GH39", "GH78", "GH107", "GH168", "GH29", "GH95", "PL43",
          "GH17", "GH30", "GH55", "GH64", "GH128", "GH158", "GH18", "GH19", "GH20", "CE4",
          "AA10", "CBM5", "CBM73", "S1"}


def test_the_table_loads_with_family_and_subfamily_keys() -> None:
    general = cazy_substrates()
    assert len(general) > 300 and len(table().vocabulary) > 30
    assert all(KEY.match(key) for key in general), [k for k in general if not KEY.match(k)]
    assert all(KEY.match(key) for key in marine_substrates())
    assert any("_" in key for key in general)  # subfamilies
    assert {"GH", "GT", "PL", "CE", "AA", "CBM"} <= {re.sub(r"\d.*", "", k) for k in general}


def test_every_substrate_is_in_the_vocabulary() -> None:
    vocabulary = table().vocabulary
    for section in (cazy_substrates(), marine_substrates()):
        for key, substrates in section.items():
            assert set(substrates) <= set(vocabulary), (key, substrates)
            assert len(set(substrates)) == len(substrates), key
    for term in vocabulary.values():
        assert term.broader is None or term.broader in vocabulary
        assert len(lineage(term.name)) <= 3  # no cycles
    # a synonym names one term only
    words = [w.casefold() for t in vocabulary.values() for w in (t.name, *t.synonyms)]
    assert len(words) == len(set(words))


def test_every_entry_cites_a_listed_reference() -> None:
    text = table_path().read_text("utf-8")
    listed = set(re.findall(r"^# \[([A-Z0-9]+)\]", text, re.MULTILINE))
    assert {"CAZY", "CZP", "S06", "V19", "A12"} <= listed
    section = None
    for line in text.splitlines():
        if line.startswith("["):
            section = line.strip("[]")
        elif section in ("families", "marine") and line and not line.startswith("#"):
            cited = re.findall(r"\[([A-Z0-9]+)\]", line.partition("#")[2])
            assert cited and set(cited) <= listed, line


def test_marine_section_is_the_marine_families_within_the_general_entries() -> None:
    marine = marine_substrates()
    assert set(marine) == MARINE
    assert marine["GH16"] == ("agar", "porphyran", "carrageenan", "laminarin")
    assert marine["S1"] == ("sulfated polysaccharides",)
    general = cazy_substrates()
    for family, substrates in marine.items():
        assert set(substrates) <= set(general[family]), family
    raw = tomllib.loads(table_path().read_text("utf-8"))
    assert set(raw) == {"vocabulary", "families", "marine"}


def test_subfamily_entries_come_first_then_the_family() -> None:
    assert substrates_for("GH16_3.hmm") == ("laminarin", "beta-glucan")
    assert substrates_for("GH16_16") == ("agar",)
    assert substrates_for("GH16_99") == substrates_for("GH16") and "agar" in \
        substrates_for("GH16")
    assert entry_level("GH16_3.hmm") == "subfamily" and entry_level("GH16_99") == "family"
    assert substrates_for("GH13_9.hmm") == ("starch",)
    assert substrates_for("GH13_18") == ()  # its own (empty) entry, not GH13's starch
    assert substrates_for("PL7_5.hmm") == ("alginate",)
    assert substrates_for("GT2_Glycos_transf_2.hmm") == () and entry_level("PF00722") is None
    assert cazy_family("GH13_9.hmm") == "GH13" and cazy_family("CBM35inCE17") == "CBM35"
    assert substrates_for("S1_19") == ("sulfated polysaccharides",)


@pytest.mark.parametrize("family", ["GH13", "GH57", "GH77", "GH31", "GH97", "GH15", "GH65",
                                    "GH14", "GH119", "GT35", "CBM20", "CBM26", "CBM48",
                                    "CBM58", "AA13"])
def test_alpha_glucan_families_act_on_starch(family: str) -> None:
    assert "starch" in substrates_for(family)


def test_broad_families_never_vote_for_a_polysaccharide() -> None:
    for family in ("GT2", "GT4", "GT1", "CBM13", "CBM32", "AA3", "CE10"):
        assert family in cazy_substrates() and substrates_for(family) == (), family
    for family in ("GH23", "GH24", "GH25", "GH73", "CBM50", "GT51"):
        assert substrates_for(family) == ("peptidoglycan",), family
    assert not votes_for_pul("peptidoglycan") and not votes_for_pul("lignin")
    assert votes_for_pul("starch") and votes_for_pul("a word outside the vocabulary")


def test_words_users_and_dbcan_pul_use_normalise_to_one_term() -> None:
    assert normalise("Glycogen") == normalise("alpha-glucan") == "starch"
    assert normalise("agarose") == "agar" and normalise("porphyran") == "porphyran"
    assert normalise("Arabinoxylan") == "xylan" and normalise("galactomannan") == "beta-mannan"
    assert normalise("β-glucan") == normalise("beta-glucan") == "beta-glucan"
    assert normalise("HMO") == "human milk oligosaccharide"
    assert normalise("cellobiose") == "cellulose" and normalise("melibiose") == "raffinose"
    assert normalise("gold") is None
    assert normalise_label("laminarin,alginate") == ("laminarin", "alginate")
    assert normalise_label("glucomannan/chitin") == ("beta-mannan", "chitin")
    assert normalise_label("Fuzhuan brick tea polysaccharide-3 (FBTPS-3) consist of rhamnose "
                           "and galacturonic acid (can group to rhamnogalacturonan/pectic "
                           "polysaccharide)") == ("pectin",)
    assert normalise_label("beta-glucoside") == () and normalise_label("ribose") == ()


def test_related_terms_follow_the_broader_links() -> None:
    assert lineage("laminarin") == ("laminarin", "beta-glucan")
    assert related("laminarin", "beta-glucan") and related("beta-glucan", "laminarin")
    assert related("porphyran", "agar") and related("mucin", "host glycan")
    assert related("xylan", "hemicellulose") and not related("xylan", "xyloglucan")
    assert not related("cellulose", "beta-glucan") and not related("arabinan", "pectin")


def test_cazy_packs_get_subfamily_substrates_when_their_manifest_has_none() -> None:
    families = {n: Family(n) for n in ("GH13_9", "GH16_3.hmm", "PL7_5", "GT2")}
    families["GH16"] = Family("GH16", substrates=("agar",))  # the manifest's own: kept
    pack = Pack("cazy", "1", "cazy", Path("cazy.hmm"), "calibrated", families=families)
    filled = with_cazy_substrates(pack).families
    assert filled["GH13_9"].substrates == ("starch",)
    assert filled["GH16_3.hmm"].substrates == ("laminarin", "beta-glucan")
    assert filled["PL7_5"].substrates == ("alginate",) and filled["GT2"].substrates == ()
    assert filled["GH16"].substrates == ("agar",)
    other = Pack("mine", "1", "custom", Path("mine.hmm"), "evalue", families=families)
    assert with_cazy_substrates(other).families["GH13_9"].substrates == ()


def test_enzyme_search_knows_every_polysaccharide() -> None:
    known = families_by_substrate()
    assert {"GH13", "GH13_9", "GH57", "CBM20"} <= set(known["starch"])
    assert {"PL1", "GH28", "CE8"} <= set(known["pectin"])
    assert "GH16_16" in known["agar"] and "PL7" in known["alginate"]
    [amylase] = suggest("淀粉酶")
    assert amylase.substrate == "starch" and "GH13" in amylase.families
    assert suggest("xylanase")[0].substrate == "xylan"
    assert suggest("pectin lyase")[0].substrate == "pectin"
