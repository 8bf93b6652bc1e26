"""Words people search enzymes by, and the families that answer them.

Catalogue records do not name the enzymes their genomes encode ("alginate lyase", "琼胶酶",
"PL7"); the annotation hits do. This module recognises, in a search's words, an enzyme name
(English or Chinese), a substrate, or a family name, and says which families and substrate
to look for, so the search page can send the user to the proteins. Families per substrate
come from the CAZy table the annotation uses (``profiles/data/cazy_substrates.toml``, with
its references; subfamilies listed beside their families) and the plastics pack's substrates;
enzyme names are the usual English names of those activities and their Chinese names as used
in the Chinese literature.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

#: substrate -> (its English names, its Chinese names); the first English name is the key
#: the annotation writes
SUBSTRATES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "agar": (("agar", "agarose"), ("琼胶", "琼脂", "琼脂糖")),
    "porphyran": (("porphyran",), ("紫菜多糖", "紫菜胶", "紫菜聚糖")),
    "carrageenan": (("carrageenan",), ("卡拉胶", "角叉菜胶", "鹿角菜胶")),
    "alginate": (("alginate", "alginic acid"), ("褐藻胶", "海藻酸", "褐藻酸", "藻酸", "海藻酸钠")),
    "ulvan": (("ulvan",), ("石莼多糖", "石莼聚糖", "浒苔多糖")),
    "fucoidan": (("fucoidan", "fucan"), ("岩藻多糖", "褐藻糖胶", "岩藻聚糖", "岩藻聚糖硫酸酯")),
    "laminarin": (("laminarin", "laminaran", "beta-1,3-glucan"), ("昆布多糖", "海带多糖",
                                                                 "褐藻淀粉")),
    "chitin": (("chitin",), ("几丁质", "甲壳素", "甲壳质")),
    "chitosan": (("chitosan",), ("壳聚糖",)),
    "starch": (("starch", "glycogen", "amylose", "amylopectin", "pullulan", "alpha-glucan",
                "α-glucan", "maltodextrin", "cyclodextrin"),
               ("淀粉", "糖原", "直链淀粉", "支链淀粉", "普鲁兰", "麦芽糊精", "环糊精")),
    "dextran": (("dextran",), ("右旋糖酐",)),
    "trehalose": (("trehalose",), ("海藻糖",)),
    "fructan": (("fructan", "inulin", "levan", "fructooligosaccharide"),
                ("果聚糖", "菊粉", "菊糖", "低聚果糖", "果寡糖")),
    "cellulose": (("cellulose", "cellobiose"), ("纤维素", "纤维二糖")),
    "beta-glucan": (("beta-glucan", "β-glucan", "lichenan", "mixed-linkage glucan"),
                    ("β-葡聚糖", "地衣多糖")),
    "hemicellulose": (("hemicellulose",), ("半纤维素",)),
    "xylan": (("xylan", "arabinoxylan", "glucuronoxylan"), ("木聚糖", "阿拉伯木聚糖")),
    "xyloglucan": (("xyloglucan",), ("木葡聚糖",)),
    "beta-mannan": (("mannan", "beta-mannan", "β-mannan", "galactomannan", "glucomannan"),
                    ("甘露聚糖", "半乳甘露聚糖", "葡甘露聚糖", "魔芋胶")),
    "alpha-mannan": (("alpha-mannan", "α-mannan", "yeast mannan"), ("酵母甘露聚糖",)),
    "pectin": (("pectin", "homogalacturonan", "rhamnogalacturonan", "polygalacturonic acid"),
               ("果胶", "鼠李半乳糖醛酸聚糖", "聚半乳糖醛酸")),
    "galactan": (("galactan",), ("半乳聚糖",)),
    "arabinan": (("arabinan",), ("阿拉伯聚糖",)),
    "arabinogalactan": (("arabinogalactan", "gum arabic"), ("阿拉伯半乳聚糖", "阿拉伯胶")),
    "raffinose": (("raffinose", "melibiose", "stachyose"),
                  ("棉子糖", "棉籽糖", "蜜二糖", "水苏糖")),
    "galactooligosaccharide": (("galactooligosaccharide", "lactose"), ("低聚半乳糖", "乳糖")),
    "xanthan": (("xanthan",), ("黄原胶",)),
    "host glycan": (("host glycan",), ("宿主聚糖",)),
    "mucin": (("mucin", "O-glycan"), ("黏蛋白", "粘蛋白")),
    "N-glycan": (("N-glycan",), ("N-聚糖", "N-糖链")),
    "glycosaminoglycan": (("glycosaminoglycan", "chondroitin", "heparin", "heparan sulfate",
                           "hyaluronan", "hyaluronic acid"),
                          ("糖胺聚糖", "硫酸软骨素", "软骨素", "肝素", "透明质酸")),
    "human milk oligosaccharide": (("human milk oligosaccharide", "HMO", "HMOs"),
                                   ("母乳寡糖", "人乳寡糖")),
    "peptidoglycan": (("peptidoglycan", "murein"), ("肽聚糖",)),
    "lignin": (("lignin",), ("木质素",)),
    "sulfated polysaccharides": (("sulfated polysaccharide", "sulphated polysaccharide"),
                                 ("硫酸多糖", "硫酸化多糖")),
    "PET": (("PET", "polyethylene terephthalate"), ("聚对苯二甲酸乙二醇酯", "聚酯")),
    "PLA": (("PLA", "polylactic acid", "polylactide"), ("聚乳酸",)),
    "PU": (("PU", "polyurethane"), ("聚氨酯",)),
    "PCL": (("PCL", "polycaprolactone"), ("聚己内酯",)),
    "PHAs": (("PHA", "PHAs", "polyhydroxyalkanoate"), ("聚羟基脂肪酸酯",)),
    "PBS": (("PBS", "polybutylene succinate"), ("聚丁二酸丁二醇酯",)),
    "PBAT": (("PBAT",), ("聚己二酸对苯二甲酸丁二醇酯",)),
    "PE": (("polyethylene",), ("聚乙烯",)),
    "PS": (("polystyrene",), ("聚苯乙烯",)),
    "PVC": (("PVC", "polyvinyl chloride"), ("聚氯乙烯",)),
    "PA": (("polyamide", "nylon"), ("聚酰胺", "尼龙")),
}
#: enzyme name -> substrate: English names, then Chinese
ENZYMES: dict[str, str] = {
    "alginate lyase": "alginate", "alginase": "alginate", "poly(m) lyase": "alginate",
    "poly(g) lyase": "alginate", "mannuronate lyase": "alginate",
    "guluronate lyase": "alginate",
    "agarase": "agar", "beta-agarase": "agar", "β-agarase": "agar", "alpha-agarase": "agar",
    "α-agarase": "agar", "neoagarobiose hydrolase": "agar",
    "porphyranase": "porphyran",
    "carrageenase": "carrageenan", "kappa-carrageenase": "carrageenan",
    "κ-carrageenase": "carrageenan", "iota-carrageenase": "carrageenan",
    "ι-carrageenase": "carrageenan", "lambda-carrageenase": "carrageenan",
    "λ-carrageenase": "carrageenan",
    "ulvan lyase": "ulvan", "ulvanase": "ulvan",
    "fucoidanase": "fucoidan", "fucosidase": "fucoidan", "fucoidan lyase": "fucoidan",
    "laminarinase": "laminarin", "laminaranase": "laminarin",
    "beta-1,3-glucanase": "laminarin", "β-1,3-glucanase": "laminarin",
    "chitinase": "chitin", "chitin deacetylase": "chitin",
    "sulfatase": "sulfated polysaccharides", "sulphatase": "sulfated polysaccharides",
    "chitosanase": "chitosan",
    "amylase": "starch", "pullulanase": "starch", "isoamylase": "starch",
    "glucoamylase": "starch", "amylomaltase": "starch", "branching enzyme": "starch",
    "dextranase": "dextran", "trehalase": "trehalose", "invertase": "fructan",
    "inulinase": "fructan", "levanase": "fructan", "fructanase": "fructan",
    "cellulase": "cellulose", "endoglucanase": "cellulose", "cellobiohydrolase": "cellulose",
    "lichenase": "beta-glucan", "xylanase": "xylan", "xyloglucanase": "xyloglucan",
    "mannanase": "beta-mannan", "alpha-mannosidase": "alpha-mannan",
    "pectinase": "pectin", "pectate lyase": "pectin", "pectin lyase": "pectin",
    "polygalacturonase": "pectin", "pectin methylesterase": "pectin",
    "rhamnogalacturonan lyase": "pectin", "galactanase": "galactan",
    "arabinanase": "arabinan", "arabinofuranosidase": "arabinan",
    "alpha-galactosidase": "raffinose", "α-galactosidase": "raffinose",
    "beta-galactosidase": "galactooligosaccharide", "β-galactosidase": "galactooligosaccharide",
    "xanthanase": "xanthan", "xanthan lyase": "xanthan",
    "sialidase": "host glycan", "neuraminidase": "host glycan",
    "hyaluronidase": "glycosaminoglycan", "hyaluronate lyase": "glycosaminoglycan",
    "heparinase": "glycosaminoglycan", "chondroitinase": "glycosaminoglycan",
    "lysozyme": "peptidoglycan", "laccase": "lignin",
    "petase": "PET", "pet hydrolase": "PET", "mhetase": "PET", "cutinase": "PET",
    "polyesterase": "PET", "plastic-degrading enzyme": "PET", "plastic degrading enzyme": "PET",
    "depolymerase": "PHAs", "pha depolymerase": "PHAs", "polyurethanase": "PU",
    "urethanase": "PU", "nylonase": "PA",
    "褐藻胶裂解酶": "alginate", "海藻酸裂解酶": "alginate", "褐藻酸裂解酶": "alginate",
    "藻酸裂解酶": "alginate", "海藻酸钠裂解酶": "alginate",
    "琼胶酶": "agar", "琼脂酶": "agar", "琼脂糖酶": "agar", "β-琼胶酶": "agar",
    "α-琼胶酶": "agar",
    "紫菜多糖酶": "porphyran", "紫菜胶酶": "porphyran",
    "卡拉胶酶": "carrageenan", "κ-卡拉胶酶": "carrageenan", "ι-卡拉胶酶": "carrageenan",
    "石莼多糖裂解酶": "ulvan", "石莼聚糖裂解酶": "ulvan",
    "岩藻多糖酶": "fucoidan", "褐藻糖胶酶": "fucoidan", "岩藻多糖降解酶": "fucoidan",
    "岩藻糖苷酶": "fucoidan",
    "昆布多糖酶": "laminarin", "海带多糖酶": "laminarin", "β-1,3-葡聚糖酶": "laminarin",
    "几丁质酶": "chitin", "甲壳素酶": "chitin", "壳聚糖酶": "chitosan",
    "淀粉酶": "starch", "普鲁兰酶": "starch", "异淀粉酶": "starch", "糖化酶": "starch",
    "葡萄糖淀粉酶": "starch", "右旋糖酐酶": "dextran", "海藻糖酶": "trehalose",
    "蔗糖酶": "fructan", "转化酶": "fructan", "菊粉酶": "fructan", "果聚糖酶": "fructan",
    "纤维素酶": "cellulose", "地衣多糖酶": "beta-glucan", "木聚糖酶": "xylan",
    "木葡聚糖酶": "xyloglucan", "甘露聚糖酶": "beta-mannan", "果胶酶": "pectin",
    "果胶裂解酶": "pectin", "果胶酸裂解酶": "pectin", "多聚半乳糖醛酸酶": "pectin",
    "半乳聚糖酶": "galactan", "阿拉伯聚糖酶": "arabinan", "α-半乳糖苷酶": "raffinose",
    "β-半乳糖苷酶": "galactooligosaccharide", "黄原胶酶": "xanthan",
    "唾液酸酶": "host glycan", "神经氨酸酶": "host glycan", "透明质酸酶": "glycosaminoglycan",
    "肝素酶": "glycosaminoglycan", "软骨素酶": "glycosaminoglycan", "溶菌酶": "peptidoglycan",
    "漆酶": "lignin",
    "硫酸酯酶": "sulfated polysaccharides", "硫酸酯水解酶": "sulfated polysaccharides",
    "pet水解酶": "PET", "pet降解酶": "PET", "角质酶": "PET", "塑料降解酶": "PET",
    "聚酯水解酶": "PET", "聚氨酯酶": "PU", "聚氨酯降解酶": "PU", "尼龙水解酶": "PA",
}
#: a CAZy family or subfamily (GH16, PL7_5, CBM73, S1_4) or a Pfam accession
_FAMILY = re.compile(r"^(?:(?:GH|GT|PL|CE|AA|CBM)\d{1,3}(?:_\d{1,3})?|S\d{1,2}(?:_\d{1,3})?"
                     r"|PF\d{5}(?:\.\d+)?)$", re.IGNORECASE)


@dataclass(frozen=True)
class Suggestion:
    """What the words name and where its proteins are: ``substrate`` and its ``families``
    (or one family named outright)."""

    words: str
    substrate: str | None
    families: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {"words": self.words, "substrate": self.substrate,
                "families": list(self.families)}


@cache
def families_by_substrate() -> dict[str, tuple[str, ...]]:
    """Substrate -> the families acting on it: CAZy families from the annotation's table,
    plastics-pack families from their validated enzymes' substrates."""
    data = resources.files("lanhai.profiles") / "data"
    table = tomllib.loads((data / "cazy_substrates.toml").read_text("utf-8"))["families"]
    out: dict[str, list[str]] = {}
    for family, substrates in table.items():
        for substrate in substrates:
            out.setdefault(substrate, []).append(family)
    plastics = json.loads((data / "plastics" / "pack.json").read_text("utf-8"))["families"]
    for family, info in plastics.items():
        for substrate in info.get("substrates") or []:
            out.setdefault(substrate, []).append(family)
    return {s: tuple(sorted(set(f), key=_family_order)) for s, f in out.items()}


def _family_order(name: str) -> list[tuple[int, str]]:
    """Natural order: GH2 before GH16, PlastEDMA_2 before PlastEDMA_10."""
    return [(0, part) if not part.isdigit() else (1, f"{int(part):09d}")
            for part in re.split(r"(\d+)", name) if part]


def substrate_names() -> list[str]:
    """Every substrate a search can ask for, in a stable order."""
    known = families_by_substrate()
    return [s for s in SUBSTRATES if s in known]


def suggest(words: str) -> list[Suggestion]:
    """Enzymes, substrates and families the search words name (most specific first)."""
    text = " ".join(words.split()).strip()
    if not text:
        return []
    folded = text.casefold()
    found: list[Suggestion] = []
    known = families_by_substrate()
    tokens = re.split(r"[\s,;]+", text)
    named = [t for t in tokens if _FAMILY.match(t)]
    if named:
        found.append(Suggestion(" ".join(named), None, tuple(t.upper() for t in named)))
    seen: set[str] = set()
    for name in sorted(ENZYMES, key=len, reverse=True):  # the longest name first
        if name.casefold() in folded and ENZYMES[name] not in seen:
            substrate = ENZYMES[name]
            seen.add(substrate)
            found.append(Suggestion(name, substrate, known.get(substrate, ())))
    for substrate, (english, chinese) in SUBSTRATES.items():
        if substrate in seen:
            continue
        for name in (*english, *chinese):
            if _mentions(folded, name.casefold()):
                seen.add(substrate)
                found.append(Suggestion(name, substrate, known.get(substrate, ())))
                break
    return [s for s in found if s.families]


def _mentions(text: str, name: str) -> bool:
    """Whole-word for Latin names (PET is not in 'carpet'), substring for Chinese."""
    if re.search(r"[\u3400-\u9fff]", name):
        return name in text
    return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text) is not None
