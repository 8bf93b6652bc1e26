"""Features that fit carbohydrates (the bank's marine polysaccharides: agarose,
carrageenans, alginate, fucoidan, ulvan, porphyran ...), read from WURCS 2.0, from
IUPAC-condensed text (glycowork's writing: ``3,6-Anhydro-L-Gal(a1-3)Gal``), or, failing
both, from a SMILES by substructure.

:func:`glycan_features` gives a ``dict[str, float]`` with the keys of
:data:`GLYCAN_FEATURE_NAMES` always, in that order, so it can be appended to a fingerprint
matrix: the degree of polymerisation (residues, of the repeat unit when the notation gives
one), the monosaccharide composition, sulfates and the degree of sulfation (sulfates per
residue), uronic acids, anhydro sugars, other substituents, and the glycosidic linkages by
position and anomer where the notation carries them.

Both text notations are read here rather than by glypy: glypy 1.0's IUPAC reader takes none
of glycowork's marine glycans in its "condensed" dialect and only plain ones in its "simple"
dialect (no ``3,6-Anhydro-``, ``L-GulA``, a leading branch or ``1Cer``), and its WURCS reader
refuses residues with a second ring (``a2112h-1a_1-5_3-6``: the 3,6-anhydro-galactose of agar
and carrageenan).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from lanhai.errors import Problem, ValidationFailed

#: residue classes counted in the composition (``res_<class>``); anything else is "other"
RESIDUE_CLASSES = ("Glc", "Gal", "Man", "Fuc", "Rha", "Xyl", "Ara", "Qui", "GlcA", "GalA",
                   "ManA", "GulA", "IdoA", "HexA", "AnGal", "GlcNAc", "GalNAc", "GlcN", "Sia",
                   "Hex", "other")
#: linkage classes (``link_<child>_<parent>``); positions unknown or ambiguous -> unknown
LINK_CLASSES = ("1_2", "1_3", "1_4", "1_6", "2_3", "2_6", "2_8", "other", "unknown")
GLYCAN_FEATURE_NAMES: tuple[str, ...] = (
    "glycan_dp", "glycan_branches", "glycan_repeat",
    *(f"glycan_res_{c}" for c in RESIDUE_CLASSES),
    "glycan_sulfate", "glycan_sulfation_degree", "glycan_uronic", "glycan_uronic_fraction",
    "glycan_anhydro", "glycan_n_acetyl", "glycan_amino", "glycan_o_methyl", "glycan_o_acetyl",
    "glycan_pyruvate", "glycan_phosphate", "glycan_l_config", "glycan_furanose",
    "glycan_alditol",
    *(f"glycan_link_{c}" for c in LINK_CLASSES),
    "glycan_alpha", "glycan_beta", "glycan_anomer_unknown",
)
URONIC = frozenset({"GlcA", "GalA", "ManA", "GulA", "IdoA", "HexA"})


@dataclass
class Residue:
    """One monosaccharide: its class, configuration and what is attached to it."""

    cls: str
    written: str = ""
    config: str | None = None
    uronic: bool = False
    anhydro: int = 0
    sulfate: int = 0
    n_acetyl: int = 0
    amino: int = 0
    o_methyl: int = 0
    o_acetyl: int = 0
    pyruvate: int = 0
    phosphate: int = 0
    furanose: bool = False
    alditol: bool = False


@dataclass(frozen=True)
class Linkage:
    """A glycosidic bond: child's anomeric carbon (``child_pos``) to ``parent_pos``."""

    child: int
    parent: int
    anomer: str  # "a", "b" or "?"
    child_pos: int | None
    parent_pos: int | None


@dataclass
class Glycan:
    """Residues and linkages read from one notation."""

    notation: str
    residues: list[Residue] = field(default_factory=list)
    links: list[Linkage] = field(default_factory=list)
    repeat: bool = False


def glycan_features(*, wurcs: str | None = None, iupac: str | None = None,
                    smiles: str | None = None, mol: Any = None) -> dict[str, float]:
    """The features of :data:`GLYCAN_FEATURE_NAMES` from the first notation given that
    reads (WURCS, then IUPAC-condensed, then the structure); one error names each that
    was given and why none read."""
    return features_of(read_glycan(wurcs=wurcs, iupac=iupac, smiles=smiles, mol=mol))


def read_glycan(*, wurcs: str | None = None, iupac: str | None = None,
                smiles: str | None = None, mol: Any = None) -> Glycan:
    """The glycan from the first notation given that reads (see :func:`glycan_features`)."""
    problems: list[Problem] = []
    if wurcs:
        try:
            return parse_wurcs(wurcs)
        except GlycanSyntax as err:
            problems.append(Problem(reason=err.reason, fix=err.fix, field="wurcs",
                                    value=wurcs))
    if iupac:
        try:
            return parse_iupac(iupac)
        except GlycanSyntax as err:
            problems.append(Problem(reason=err.reason, fix=err.fix, field="glycan_iupac",
                                    value=iupac))
    if mol is None and smiles:
        from rdkit import Chem, RDLogger

        RDLogger.DisableLog("rdApp.*")  # type: ignore[attr-defined]
        mol = Chem.MolFromSmiles(smiles)
        if mol is None:
            problems.append(Problem(reason="is not a SMILES string RDKit can parse",
                                    fix="check ring closures, brackets and valences "
                                        "(e.g. 'CC(=O)O')", field="smiles", value=smiles))
    if mol is not None:
        glycan = glycan_from_mol(mol)
        if glycan.residues:
            return glycan
        problems.append(Problem(reason="has no sugar ring", field="smiles",
                                value=smiles or None,
                                fix="give the glycan's WURCS or IUPAC-condensed text"))
    if not problems:
        raise ValidationFailed("no glycan given", [Problem(
            reason="no glycan given", fix="give wurcs, iupac, smiles or mol")])
    raise ValidationFailed("the glycan could not be read", problems)


def features_of(glycan: Glycan) -> dict[str, float]:
    """The feature vector of a read glycan (keys in :data:`GLYCAN_FEATURE_NAMES` order)."""
    out = dict.fromkeys(GLYCAN_FEATURE_NAMES, 0.0)
    res = glycan.residues
    dp = len(res)
    out["glycan_dp"] = float(dp)
    out["glycan_repeat"] = float(glycan.repeat)
    children: dict[int, int] = {}
    for link in glycan.links:
        children[link.parent] = children.get(link.parent, 0) + 1
    out["glycan_branches"] = float(sum(1 for n in children.values() if n > 1))
    for r in res:
        cls = r.cls if r.cls in RESIDUE_CLASSES else "other"
        out[f"glycan_res_{cls}"] += 1
        out["glycan_sulfate"] += r.sulfate
        out["glycan_uronic"] += r.uronic
        out["glycan_anhydro"] += r.anhydro
        out["glycan_n_acetyl"] += r.n_acetyl
        out["glycan_amino"] += r.amino
        out["glycan_o_methyl"] += r.o_methyl
        out["glycan_o_acetyl"] += r.o_acetyl
        out["glycan_pyruvate"] += r.pyruvate
        out["glycan_phosphate"] += r.phosphate
        out["glycan_l_config"] += r.config == "L"
        out["glycan_furanose"] += r.furanose
        out["glycan_alditol"] += r.alditol
    if dp:
        out["glycan_sulfation_degree"] = out["glycan_sulfate"] / dp
        out["glycan_uronic_fraction"] = out["glycan_uronic"] / dp
    for link in glycan.links:
        out[f"glycan_link_{_link_class(link)}"] += 1
        out[{"a": "glycan_alpha", "b": "glycan_beta"}.get(link.anomer,
                                                          "glycan_anomer_unknown")] += 1
    return out


def feature_vector(features: dict[str, float]) -> list[float]:
    """The values of :func:`glycan_features` in :data:`GLYCAN_FEATURE_NAMES` order."""
    return [features[name] for name in GLYCAN_FEATURE_NAMES]


def _link_class(link: Linkage) -> str:
    if link.child_pos is None or link.parent_pos is None:
        return "unknown"
    name = f"{link.child_pos}_{link.parent_pos}"
    return name if name in LINK_CLASSES else "other"


class GlycanSyntax(ValueError):
    """A glycan text that does not read: why, and how to fix it."""

    def __init__(self, reason: str, fix: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.fix = fix


# --- IUPAC condensed -----------------------------------------------------------------------

#: base name -> (class, default configuration, uronic, N-acetyl, amino)
_BASES: dict[str, tuple[str, str | None, bool, int, int]] = {
    "Glc": ("Glc", "D", False, 0, 0), "Gal": ("Gal", "D", False, 0, 0),
    "Man": ("Man", "D", False, 0, 0), "Fuc": ("Fuc", "L", False, 0, 0),
    "Rha": ("Rha", "L", False, 0, 0), "Xyl": ("Xyl", "D", False, 0, 0),
    "Ara": ("Ara", "L", False, 0, 0), "Qui": ("Qui", "D", False, 0, 0),
    "GlcA": ("GlcA", "D", True, 0, 0), "GalA": ("GalA", "D", True, 0, 0),
    "ManA": ("ManA", "D", True, 0, 0), "GulA": ("GulA", "L", True, 0, 0),
    "IdoA": ("IdoA", "L", True, 0, 0), "HexA": ("HexA", None, True, 0, 0),
    "GlcNAc": ("GlcNAc", "D", False, 1, 0), "GalNAc": ("GalNAc", "D", False, 1, 0),
    "ManNAc": ("other", "D", False, 1, 0), "FucNAc": ("other", "L", False, 1, 0),
    "QuiNAc": ("other", "D", False, 1, 0), "HexNAc": ("other", None, False, 1, 0),
    "GlcN": ("GlcN", "D", False, 0, 1), "GalN": ("other", "D", False, 0, 1),
    "ManN": ("other", "D", False, 0, 1), "HexN": ("other", None, False, 0, 1),
    "Neu5Ac": ("Sia", "D", False, 1, 0), "Neu5Gc": ("Sia", "D", False, 0, 0),
    "Kdn": ("Sia", "D", False, 0, 0), "Neu": ("Sia", "D", False, 0, 1),
    "Kdo": ("other", "D", False, 0, 0), "Hex": ("Hex", None, False, 0, 0),
    "dHex": ("other", None, False, 0, 0), "Pen": ("other", None, False, 0, 0),
    "Gul": ("other", "D", False, 0, 0), "Ido": ("other", "D", False, 0, 0),
    "All": ("other", "D", False, 0, 0), "Alt": ("other", "D", False, 0, 0),
    "Tal": ("other", "D", False, 0, 0), "Rib": ("other", "D", False, 0, 0),
    "Lyx": ("other", "D", False, 0, 0), "Fru": ("other", "D", False, 0, 0),
    "Tag": ("other", "D", False, 0, 0), "Sor": ("other", "L", False, 0, 0),
    "Api": ("other", "D", False, 0, 0), "6dTal": ("other", "D", False, 0, 0),
    "6dGul": ("other", "D", False, 0, 0), "Ins": ("other", None, False, 0, 0),
    "Mur": ("other", "D", False, 0, 1), "MurNAc": ("other", "D", False, 1, 0),
}
_BASE_NAMES = "|".join(sorted(map(re.escape, _BASES), key=len, reverse=True))
_RESIDUE = re.compile(
    rf"^(?P<anhydro>(?:\d,\d-Anhydro-)*)(?P<config>[DL]-)?(?P<base>{_BASE_NAMES})"
    r"(?P<ring>[fp])?(?P<mods>(?:(?:\d+(?:,\d+)*|O)?(?:Pyr|Aep|Cer|Me|Ac|S|P|N))*)"
    r"(?P<ol>-ol)?$")
_MOD = re.compile(r"(\d+(?:,\d+)*|O)?(Pyr|Aep|Cer|Me|Ac|S|P|N)")
_LINK = re.compile(r"^([ab?])(\d+|\?)-(\d+(?:/\d+)*|\?)$")
_TOKEN = re.compile(r"\[|\]|\([^()]*\)|[^()\[\]]+")
_IUPAC_EXAMPLE = "3,6-Anhydro-L-Gal(a1-3)Gal(b1-4)3,6-Anhydro-L-Gal(a1-3)Gal"


def parse_iupac(text: str) -> Glycan:
    """An IUPAC-condensed glycan as glycowork writes it: residues from the non-reducing
    end, each followed by its linkage ``(b1-4)``, branches in ``[...]`` before the residue
    they hang from. Raises :class:`GlycanSyntax` for text that does not read."""
    s = text.strip()
    if not s:
        raise GlycanSyntax("is empty", f"write e.g. {_IUPAC_EXAMPLE}")
    glycan = Glycan("iupac")
    pending: list[list[tuple[int, str]]] = [[]]
    last: int | None = None  # residue waiting for its linkage
    at = 0
    for match in _TOKEN.finditer(s):
        if match.start() != at:
            raise GlycanSyntax(f"has an unexpected character at {at + 1}", "check the "
                               f"brackets; e.g. {_IUPAC_EXAMPLE}")
        at = match.end()
        token = match.group(0)
        if token == "[":
            if last is not None:
                raise GlycanSyntax(f"residue {glycan.residues[last].written} has no "
                                   "linkage before '['", "write its linkage, e.g. (b1-4)")
            pending.append([])
        elif token == "]":
            if len(pending) < 2 or last is not None:
                raise GlycanSyntax("has a ']' without its '[' or a branch ending in a "
                                   "residue without linkage", "check the brackets")
            inner = pending.pop()
            pending[-1].extend(inner)
        elif token.startswith("("):
            if last is None:
                raise GlycanSyntax(f"has a linkage {token} that follows no residue",
                                   "write each linkage right after its residue")
            pending[-1].append((last, token[1:-1]))
            last = None
        else:
            if last is not None:
                raise GlycanSyntax(f"has two residues with no linkage between them "
                                   f"({glycan.residues[last].written}, {token})",
                                   "write the linkage, e.g. (b1-4), or (?1-?) if unknown")
            index = len(glycan.residues)
            glycan.residues.append(_iupac_residue(token))
            for child, link in pending[-1]:
                glycan.links.append(_iupac_link(child, index, link))
            pending[-1] = []
            last = index
    if at != len(s):
        raise GlycanSyntax(f"has an unexpected character at {at + 1}", "check the brackets")
    if len(pending) != 1:
        raise GlycanSyntax("has a '[' that is never closed", "close each branch with ']'")
    if last is None or pending[0]:
        raise GlycanSyntax("ends with a linkage, not the reducing-end residue",
                           f"end with the reducing-end residue; e.g. {_IUPAC_EXAMPLE}")
    return glycan


def _iupac_residue(token: str) -> Residue:
    m = _RESIDUE.match(token)
    if m is None:
        raise GlycanSyntax(f"has a residue {token} that is not a known monosaccharide",
                           "write residues as glycowork does (Gal, GlcNAc, L-GulA, "
                           "3,6-Anhydro-L-Gal, Fuc2S4S)")
    cls, config, uronic, nac, amino = _BASES[m.group("base")]
    anhydro = m.group("anhydro").count("Anhydro")
    if m.group("config"):
        config = m.group("config")[0]
    r = Residue(cls, token, config, uronic, anhydro, n_acetyl=nac, amino=amino,
                furanose=m.group("ring") == "f", alditol=bool(m.group("ol")))
    if anhydro:
        r.cls = "AnGal" if m.group("base") == "Gal" else "other"
    pyruvate_positions = 0
    for _, mod in _MOD.findall(m.group("mods")):
        if mod == "S":
            r.sulfate += 1
        elif mod == "Me":
            r.o_methyl += 1
        elif mod == "Ac":
            r.o_acetyl += 1
        elif mod == "Pyr":
            pyruvate_positions += 1
        elif mod in ("P", "Aep"):
            r.phosphate += 1
        elif mod == "N":
            r.amino += 1
    # one pyruvate acetal bridges two oxygens: glycowork writes 4,6-pyruvate as 4Pyr6Pyr
    r.pyruvate = (pyruvate_positions + 1) // 2
    return r


def _iupac_link(child: int, parent: int, text: str) -> Linkage:
    m = _LINK.match(text)
    if m is None:
        raise GlycanSyntax(f"has a linkage ({text}) that does not read",
                           "write it as (a1-3), (b1-4) or (?1-?)")
    anomer, child_pos, parent_pos = m.groups()
    return Linkage(child, parent, anomer,
                   None if child_pos == "?" else int(child_pos),
                   int(parent_pos) if parent_pos.isdigit() else None)


# --- WURCS 2.0 -----------------------------------------------------------------------------

_WURCS = re.compile(r"^WURCS=2\.0/(\d+),(\d+),(\d+)\+?/((?:\[[^\]]*\])+)/([^/]*)/?(.*)$")
#: D-hexose stereo codes (C2-C5, 2 = hydroxyl right in Fischer projection)
_HEXOSES = {"2122": "Glc", "2112": "Gal", "1122": "Man", "2212": "Gul", "1212": "Ido",
            "2222": "All", "1222": "Alt", "1112": "Tal"}
_PENTOSES = {"212": "Xyl", "122": "Ara", "222": "Rib", "112": "Lyx"}
_MIRROR = str.maketrans("12", "21")
_DEOXY = {"Gal": "Fuc", "Man": "Rha", "Glc": "Qui"}
_ACID = {"Glc": "GlcA", "Gal": "GalA", "Man": "ManA", "Gul": "GulA", "Ido": "IdoA"}
_NAC = {"Glc": "GlcNAc", "Gal": "GalNAc"}
_MAPS = {"*OSO/3=O/3=O": "sulfate", "*NSO/3=O/3=O": "n_sulfate", "*NCC/3=O": "n_acetyl",
         "*NCCO/3=O": "n_glycolyl", "*N": "amino", "*OC": "o_methyl",
         "*OCC/3=O": "o_acetyl", "*OPO/3O/3=O": "phosphate",
         "*OC^XO*/3CO/6=O/3C": "pyruvate", "*OC^RO*/3CO/6=O/3C": "pyruvate",
         "*OC^SO*/3CO/6=O/3C": "pyruvate"}
_WURCS_EXAMPLE = "WURCS=2.0/2,2,1/[a2112h-1b_1-5][a1221h-1a_1-5_3-6]/1-2/a4-b1"


def parse_wurcs(text: str) -> Glycan:
    """A WURCS 2.0 glycan: its residue codes decoded (backbone stereo, deoxy and acid
    carbons, extra rings = anhydro bridges, substituent MAPs) and its linkages.
    Raises :class:`GlycanSyntax` for text that does not read."""
    m = _WURCS.match(text.strip())
    if m is None:
        raise GlycanSyntax("is not a WURCS 2.0 string", f"write e.g. {_WURCS_EXAMPLE}")
    unique = [code for code in m.group(4)[1:-1].split("][")]
    codes: list[tuple[Residue, int | None, str]] = [_wurcs_residue(c) for c in unique]
    try:
        sequence = [int(i) for i in m.group(5).split("-")] if m.group(5) else []
    except ValueError:
        raise GlycanSyntax("has a residue list that does not read",
                           f"write e.g. {_WURCS_EXAMPLE}") from None
    if any(i < 1 or i > len(codes) for i in sequence):
        raise GlycanSyntax("names a residue code that is not in its list",
                           f"write e.g. {_WURCS_EXAMPLE}")
    glycan = Glycan("wurcs")
    anomeric: list[tuple[int | None, str]] = []
    for i in sequence:
        residue, pos, anomer = codes[i - 1]
        glycan.residues.append(Residue(**residue.__dict__))
        anomeric.append((pos, anomer))
    for part in filter(None, m.group(6).split("_")):
        link = part
        if "~" in link:
            glycan.repeat = True
            link = link.split("~")[0]
        link = link.split("*")[0]
        sides = link.split("-")
        if len(sides) != 2:
            raise GlycanSyntax(f"has a linkage {part} that does not read",
                               "write linkages like a4-b1")
        ends = [_wurcs_end(side, len(sequence), part) for side in sides]
        (r1, p1), (r2, p2) = ends
        first_anomeric = p1 is not None and p1 == anomeric[r1][0]
        second_anomeric = p2 is not None and p2 == anomeric[r2][0]
        if second_anomeric or not first_anomeric:
            child, cpos, parent, ppos = r2, p2, r1, p1
        else:
            child, cpos, parent, ppos = r1, p1, r2, p2
        if cpos is None:
            cpos = anomeric[child][0]
        glycan.links.append(Linkage(child, parent, anomeric[child][1], cpos, ppos))
    return glycan


def _wurcs_end(side: str, count: int, part: str) -> tuple[int, int | None]:
    """(residue index, position or None) of one side of a WURCS linkage."""
    choices = side.split("|")
    first = re.match(r"^([a-zA-Z])(\d+|\?)", choices[0])
    if first is None:
        raise GlycanSyntax(f"has a linkage {part} that does not read",
                           "write linkages like a4-b1")
    letter = first.group(1)
    index = ord(letter) - ord("a") if letter.islower() else 26 + ord(letter) - ord("A")
    if index >= count:
        raise GlycanSyntax(f"has a linkage {part} to a residue it does not have",
                           "check the residue letters")
    positions = {c[1:] for c in choices}
    pos = first.group(2)
    return index, int(pos) if pos.isdigit() and len(positions) == 1 else None


def _wurcs_residue(code: str) -> tuple[Residue, int | None, str]:
    """A residue code -> (residue, anomeric position, anomer a/b/?)."""
    head, *parts = code.split("_")
    backbone, _, anomer_text = head.partition("-")
    if not re.fullmatch(r"[a-zA-Z0-9]+", backbone):
        raise GlycanSyntax(f"has a residue code [{code}] that does not read",
                           f"write e.g. {_WURCS_EXAMPLE}")
    anomeric_pos: int | None = None
    anomer = "?"
    if anomer_text:
        am = re.fullmatch(r"(\d|\?)([a-z])", anomer_text)
        if am is None:
            raise GlycanSyntax(f"has a residue code [{code}] with an anomer that does not "
                               "read", "write it like -1a or -1b")
        anomeric_pos = int(am.group(1)) if am.group(1).isdigit() else None
        anomer = am.group(2) if am.group(2) in "ab" else "?"
    residue = _backbone(backbone)
    ring_seen = False
    for part in parts:
        if "*" in part:
            map_text = part.partition("*")[2]
            kind = _MAPS.get("*" + map_text, "other")
            _substituent(residue, kind)
            continue
        ends = part.split("-")
        if len(ends) != 2:
            raise GlycanSyntax(f"has a residue code [{code}] that does not read",
                               f"write e.g. {_WURCS_EXAMPLE}")
        is_ring = not ring_seen and anomeric_pos is not None and \
            str(anomeric_pos) in ends
        if is_ring:
            ring_seen = True
            size = _ring_size(ends)
            residue.furanose = size == 5
        else:
            residue.anhydro += 1
    if residue.anhydro and residue.cls == "Gal":
        residue.cls = "AnGal"
    elif residue.anhydro:
        residue.cls = "other"
    return residue, anomeric_pos, anomer


def _ring_size(ends: list[str]) -> int | None:
    if all(e.isdigit() for e in ends):
        return abs(int(ends[1]) - int(ends[0])) + 2
    return None


def _substituent(residue: Residue, kind: str) -> None:
    if kind == "sulfate":
        residue.sulfate += 1
    elif kind == "n_sulfate":
        residue.sulfate += 1
        residue.amino += 1
        if residue.cls == "Glc":
            residue.cls = "GlcN"
    elif kind == "n_acetyl":
        residue.n_acetyl += 1
        residue.cls = _NAC.get(residue.cls, "Sia" if residue.cls == "Sia" else "other")
    elif kind == "amino":
        residue.amino += 1
        residue.cls = "GlcN" if residue.cls == "Glc" else (
            "Sia" if residue.cls == "Sia" else "other")
    elif kind == "n_glycolyl":
        residue.cls = "Sia" if residue.cls == "Sia" else "other"
    elif kind in ("o_methyl", "o_acetyl", "pyruvate", "phosphate"):
        setattr(residue, kind, getattr(residue, kind) + 1)


def _backbone(backbone: str) -> Residue:
    """Class, configuration, uronic/deoxy from a WURCS backbone code (``a2122h``)."""
    r = Residue("other", backbone)
    n = len(backbone)
    first, last = backbone[0], backbone[-1]
    if n == 9 and backbone.startswith("Aad"):  # Neu / Kdn
        r.cls, r.config = "Sia", "D"
        return r
    if first in "hH" and last == "h" and "a" not in backbone[1:]:
        r.alditol = True
    elif first not in "auo" or n not in (5, 6):
        return r  # ketoses, Kdo, heptoses and the like
    stereo = backbone[1:-1]
    names = _HEXOSES if n == 6 else _PENTOSES
    stem, config = None, None
    if stereo in names:
        stem, config = names[stereo], "D"
    elif stereo.translate(_MIRROR) in names:
        stem, config = names[stereo.translate(_MIRROR)], "L"
    r.config = config
    if n == 5:
        r.cls = stem if stem in ("Xyl", "Ara") else "other"
        return r
    if last == "A":
        r.uronic = True
        r.cls = _ACID.get(stem or "", "HexA" if stem is None else "other")
    elif last == "m":
        r.cls = _DEOXY.get(stem or "", "other")
    elif last == "h":
        r.cls = stem if stem in ("Glc", "Gal", "Man") else ("Hex" if stem is None
                                                             else "other")
    return r


# --- from a structure ----------------------------------------------------------------------

#: alpha-D-glucopyranose without O6, C2's substituent O or N; atom order: C6 C5 O5 C1 O1
#: C2 X2 C3 O3 C4 O4
_HEXOSE_SMARTS = "C[C@H]1O[C@H](O)[C@H]([O,N])[C@@H](O)[C@@H]1O"
_HEX_POS = {"C6": 0, "C5": 1, "O5": 2, "C1": 3, "O1": 4, "C2": 5, "X2": 6, "C3": 7, "O3": 8,
            "C4": 9, "O4": 10}
#: alpha-D-xylopyranose; atom order: C5 O5 C1 O1 C2 X2 C3 O3 C4 O4
_PENTOSE_SMARTS = "C1O[C@H](O)[C@H]([O,N])[C@@H](O)[C@@H]1O"
_PEN_POS = {"C5": 0, "O5": 1, "C1": 2, "O1": 3, "C2": 4, "X2": 5, "C3": 6, "O3": 7, "C4": 8,
            "O4": 9}
#: the centres flipped from D-glucose (D-xylose) to each D stem
_HEX_FLIPS = {"Glc": (), "Man": ("C2",), "Gal": ("C4",), "All": ("C3",),
              "Alt": ("C2", "C3"), "Tal": ("C2", "C4"), "Gul": ("C3", "C4"),
              "Ido": ("C2", "C3", "C4")}
_PEN_FLIPS = {"Xyl": (), "Lyx": ("C2",), "Rib": ("C3",), "Ara": ("C2", "C3")}


@dataclass(frozen=True)
class _Template:
    stem: str
    config: str
    anomer: str  # "a", "b" or "?" (anomeric centre not checked)
    hexose: bool
    query: Any

    @property
    def pos(self) -> dict[str, int]:
        return _HEX_POS if self.hexose else _PEN_POS


@cache
def _templates() -> tuple[_Template, ...]:
    from rdkit import Chem

    out = []
    for hexose, smarts, flips, pos in ((True, _HEXOSE_SMARTS, _HEX_FLIPS, _HEX_POS),
                                       (False, _PENTOSE_SMARTS, _PEN_FLIPS, _PEN_POS)):
        for stem, flipped in flips.items():
            for config in ("D", "L"):
                for anomer in ("a", "b", "?"):
                    q = Chem.MolFromSmarts(smarts)
                    for centre in flipped:
                        q.GetAtomWithIdx(pos[centre]).InvertChirality()
                    if config == "L":
                        for centre in ("C1", "C2", "C3", "C4", "C5"):
                            atom = q.GetAtomWithIdx(pos[centre])
                            if atom.GetChiralTag() != Chem.ChiralType.CHI_UNSPECIFIED:
                                atom.InvertChirality()
                    c1 = q.GetAtomWithIdx(pos["C1"])
                    if anomer == "b":
                        c1.InvertChirality()
                    elif anomer == "?":
                        c1.SetChiralTag(Chem.ChiralType.CHI_UNSPECIFIED)
                    out.append(_Template(stem, config, anomer, hexose, q))
    return tuple(out)


def _sugar_rings(mol: Any) -> list[frozenset[int]]:
    """Rings of 5 or 6 single-bonded atoms, one of them an oxygen, the others carbons, two
    or more of which carry an exocyclic O or N."""
    rings = []
    for ring in mol.GetRingInfo().AtomRings():
        if len(ring) not in (5, 6):
            continue
        atoms = [mol.GetAtomWithIdx(i) for i in ring]
        if sum(a.GetAtomicNum() == 8 for a in atoms) != 1 or \
                any(a.GetAtomicNum() not in (6, 8) or a.GetIsAromatic() for a in atoms):
            continue
        ringset = set(ring)
        bearing = sum(1 for a in atoms if a.GetAtomicNum() == 6 and any(
            n.GetAtomicNum() in (7, 8) and n.GetIdx() not in ringset for n in a.GetNeighbors()))
        if bearing >= 2:
            rings.append(frozenset(ring))
    return rings


def is_carbohydrate(mol: Any) -> bool:
    """Heuristic: at least one sugar ring, and the sugar rings with the atoms on them
    (their O, N and C6) and any open-chain polyol (an alditol: carbons bearing OH) make up
    at least half the heavy atoms."""
    rings = _sugar_rings(mol)
    if not rings:
        return False
    covered: set[int] = set()
    for atom in mol.GetAtoms():
        if atom.GetAtomicNum() == 6 and not atom.IsInRing() and not atom.GetIsAromatic():
            oxygens = [n for n in atom.GetNeighbors() if n.GetAtomicNum() == 8 and
                       mol.GetBondBetweenAtoms(atom.GetIdx(), n.GetIdx())
                       .GetBondTypeAsDouble() == 1]
            if oxygens and _oxo_count(mol, atom) == 0:
                covered.add(atom.GetIdx())
                covered.update(o.GetIdx() for o in oxygens)
    for ring in rings:
        covered.update(ring)
        for i in ring:
            for n in mol.GetAtomWithIdx(i).GetNeighbors():
                if n.GetAtomicNum() in (7, 8) or (n.GetAtomicNum() == 6 and not n.IsInRing()):
                    covered.add(n.GetIdx())
    heavy: int = mol.GetNumHeavyAtoms()
    return heavy > 0 and len(covered) >= 0.5 * heavy


def glycan_from_mol(mol: Any) -> Glycan:
    """Residues and linkages found in a structure: each sugar ring matched against
    stereo-specific pyranose templates (8 hexose and 4 pentose stems, D and L, alpha and
    beta); a ring no template fits counts as a hexose, hexuronic acid or "other"."""
    glycan = Glycan("smiles")
    rings = _sugar_rings(mol)
    found: dict[frozenset[int], tuple[_Template, tuple[int, ...]]] = {}
    for t in _templates():
        for hit in mol.GetSubstructMatches(t.query, useChirality=True, uniquify=False):
            ring = frozenset(hit[t.pos[k]] for k in ("C1", "C2", "C3", "C4", "C5", "O5"))
            if ring not in rings:
                continue
            known = found.get(ring)
            # a stereo-specific anomer wins over "?"; one ring keeps one stem
            if known is None or (known[0].anomer == "?" and t.anomer != "?"
                                 and known[0].stem == t.stem):
                found[ring] = (t, hit)
    used: set[int] = set()
    atom_pos: dict[int, tuple[int, int | None]] = {}  # ring carbon -> (residue, position)
    anomeric_o: dict[int, int] = {}  # exocyclic O on C1 -> residue
    anomers: list[str] = []
    for ring, (t, hit) in sorted(found.items(), key=lambda kv: min(kv[0])):
        index = len(glycan.residues)
        glycan.residues.append(_classify(mol, t, hit))
        anomers.append(t.anomer)
        used.update(ring)
        for name, at in t.pos.items():
            if name.startswith("C"):
                atom_pos[hit[at]] = (index, int(name[1]))
        anomeric_o[hit[t.pos["O1"]]] = index
    for ring in rings:
        if ring in found or len(ring & used) >= 2:
            continue  # a 3,6-anhydro bridge ring shares atoms with its pyranose
        for i in ring:
            atom_pos[i] = (len(glycan.residues), None)
        glycan.residues.append(_generic(mol, ring))
        used.update(ring)
    for o_atom, child in anomeric_o.items():
        for n in mol.GetAtomWithIdx(o_atom).GetNeighbors():
            where = atom_pos.get(n.GetIdx())
            if where is None or where[0] == child:
                continue
            glycan.links.append(Linkage(child, where[0], anomers[child], 1, where[1]))
    return glycan


def _classify(mol: Any, t: _Template, hit: tuple[int, ...]) -> Residue:
    p = t.pos
    r = Residue(t.stem, f"{t.config}-{t.stem}", t.config)
    ring_atoms = {hit[p[k]] for k in ("C1", "C2", "C3", "C4", "C5", "O5")}
    # substituents on the ring's oxygens (O1 is the glycosidic or anomeric one)
    for name in ("O1", "X2", "O3", "O4"):
        _o_substituents(mol, hit[p[name]], ring_atoms, r)
    x2 = mol.GetAtomWithIdx(hit[p["X2"]])
    if x2.GetAtomicNum() == 7:
        if _is_acyl_n(mol, x2):
            r.n_acetyl += 1
        else:
            r.amino += 1
        r.sulfate += _n_sulfates(x2)
    if t.hexose:
        c6 = mol.GetAtomWithIdx(hit[p["C6"]])
        o3 = hit[p["O3"]]
        heavy = [n for n in c6.GetNeighbors() if n.GetIdx() != hit[p["C5"]]]
        if any(n.GetIdx() == o3 for n in heavy):
            r.anhydro += 1
        elif any(mol.GetBondBetweenAtoms(c6.GetIdx(), n.GetIdx()).GetBondTypeAsDouble() == 2
                 and n.GetAtomicNum() == 8 for n in heavy):
            r.uronic = True
        elif not heavy:
            r.cls = _DEOXY.get(t.stem, "other")
            return r
        elif any(n.GetAtomicNum() == 7 for n in heavy):
            r.amino += 1  # a 6-amino-6-deoxy sugar (kanamycin's, say)
            r.cls = "other"
            return r
        else:
            for n in heavy:
                if n.GetAtomicNum() == 8:
                    _o_substituents(mol, n.GetIdx(), ring_atoms | {c6.GetIdx()}, r)
    if r.anhydro:
        r.cls = "AnGal" if t.stem == "Gal" else "other"
    elif r.uronic:
        r.cls = _ACID.get(t.stem, "other")
    elif r.n_acetyl:
        r.cls = _NAC.get(t.stem, "other")
    elif r.amino:
        r.cls = "GlcN" if t.stem == "Glc" else "other"
    elif t.stem not in ("Glc", "Gal", "Man", "Xyl", "Ara"):
        r.cls = "other"
    return r


def _o_substituents(mol: Any, o_index: int, own: set[int], r: Residue) -> None:
    """Count the sulfate, methyl, acetyl or phosphate on one of a residue's oxygens."""
    o = mol.GetAtomWithIdx(o_index)
    if o.GetAtomicNum() != 8:
        return
    for n in o.GetNeighbors():
        if n.GetIdx() in own:
            continue
        z = n.GetAtomicNum()
        if z == 16 and _oxo_count(mol, n) >= 2:
            r.sulfate += 1
        elif z == 15:
            r.phosphate += 1
        elif z == 6 and not n.IsInRing():
            if n.GetDegree() == 1:
                r.o_methyl += 1
            elif _oxo_count(mol, n) == 1 and n.GetDegree() == 3 and any(
                    m.GetAtomicNum() == 6 and m.GetDegree() == 1 for m in n.GetNeighbors()):
                r.o_acetyl += 1
            elif n.GetDegree() == 4 and sum(m.GetAtomicNum() == 8 for m in n.GetNeighbors()) \
                    == 2 and any(m.GetAtomicNum() == 6 and _oxo_count(mol, m) == 1
                                 for m in n.GetNeighbors()):
                r.pyruvate += 1


def _oxo_count(mol: Any, atom: Any) -> int:
    return sum(1 for n in atom.GetNeighbors() if n.GetAtomicNum() == 8 and
               mol.GetBondBetweenAtoms(atom.GetIdx(), n.GetIdx()).GetBondTypeAsDouble() == 2)


def _is_acyl_n(mol: Any, n_atom: Any) -> bool:
    return any(c.GetAtomicNum() == 6 and _oxo_count(mol, c) == 1 for c in n_atom.GetNeighbors())


def _n_sulfates(n_atom: Any) -> int:
    mol = n_atom.GetOwningMol()
    return sum(1 for s in n_atom.GetNeighbors()
               if s.GetAtomicNum() == 16 and _oxo_count(mol, s) >= 2)


def _generic(mol: Any, ring: frozenset[int]) -> Residue:
    """A sugar ring no template fits: a hexose or hexuronic acid when a C6 hangs off the
    carbon next to the ring oxygen, else "other"."""
    r = Residue("other", "sugar ring", furanose=len(ring) == 5)
    if len(ring) != 6:
        return r
    for i in ring:
        atom = mol.GetAtomWithIdx(i)
        if atom.GetAtomicNum() != 6 or not any(n.GetAtomicNum() == 8 and n.GetIdx() in ring
                                               for n in atom.GetNeighbors()):
            continue
        for c6 in atom.GetNeighbors():
            if c6.GetAtomicNum() == 6 and c6.GetIdx() not in ring and not c6.IsInRing():
                if _oxo_count(mol, c6) == 1:
                    r.cls, r.uronic = "HexA", True
                elif any(n.GetAtomicNum() == 8 for n in c6.GetNeighbors()):
                    r.cls = "Hex"
    for i in ring:
        for n in mol.GetAtomWithIdx(i).GetNeighbors():
            if n.GetIdx() not in ring and n.GetAtomicNum() == 8:
                _o_substituents(mol, n.GetIdx(), set(ring), r)
    return r


def glycan_feature_matrix(glycans: Iterable[dict[str, float]]) -> list[list[float]]:
    """Rows of :func:`feature_vector`, one per glycan, to append to a fingerprint matrix."""
    return [feature_vector(g) for g in glycans]
