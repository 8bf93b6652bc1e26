"""A screening profile of one compound, computed offline with RDKit: physico-chemical
properties, drug-likeness rules with the criteria each fails, natural-product likeness and
synthetic accessibility (RDKit Contrib's NP_Score and SA_Score), structural alerts (RDKit's
FilterCatalog: PAINS A/B/C, Brenk, NIH, ZINC), the nearest approved drugs (ChEMBL, shipped in
``data/``) and the nearest compounds of a library the caller passes.

No ADMET model is installed, so a profile's ``admet`` section says so and predicts nothing.
A score whose Contrib module is missing from the RDKit build is marked absent, never guessed.

A SMILES with several fragments (a salt, a solvate) is profiled as its largest organic
fragment; ``fragments_removed`` says how many were left out.
"""

from __future__ import annotations

import contextlib
import csv
import importlib.util
import io
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import cache
from importlib import resources
from types import ModuleType
from typing import Any

import numpy as np

from lanhai.errors import Problem, ValidationFailed

#: Morgan fingerprint used for every similarity here (radius 2 = ECFP4-like, 2048 bits)
MORGAN_RADIUS = 2
MORGAN_BITS = 2048
#: the FilterCatalog catalogues searched for structural alerts, by the name a profile shows
ALERT_CATALOGUES = ("PAINS_A", "PAINS_B", "PAINS_C", "BRENK", "NIH", "ZINC")
ADMET_NOTE = ("no ADMET model installed: absorption, distribution, metabolism, excretion "
              "and toxicity are not predicted")
_SMILES_REASON = "is not a SMILES string RDKit can parse"
_SMILES_FIX = "check ring closures, brackets and valences (e.g. 'CC(=O)O')"


@dataclass(frozen=True)
class RuleResult:
    """One drug-likeness rule: passed or not, and each criterion the compound fails."""

    name: str
    passed: bool
    violations: tuple[str, ...]
    reference: str
    note: str = ""


@dataclass(frozen=True)
class Score:
    """A score that needs an optional model: its value, or None with the reason."""

    value: float | None
    note: str = ""

    @property
    def available(self) -> bool:
        return self.value is not None


@dataclass(frozen=True)
class Alert:
    """A structural alert: the catalogue, the filter's description, the atoms it matched."""

    catalogue: str
    description: str
    atoms: tuple[int, ...] = ()


@dataclass(frozen=True)
class Neighbour:
    """A similar compound: its key (ChEMBL id, library key), name, SMILES, Tanimoto."""

    key: str
    similarity: float
    name: str | None = None
    smiles: str | None = None
    first_approval: int | None = None


@dataclass
class ScreeningProfile:
    """Everything computed about one compound; :meth:`as_dict` is JSON-ready."""

    smiles: str
    inchikey: str
    formula: str
    properties: dict[str, float]
    rules: list[RuleResult]
    np_likeness: Score
    synthetic_accessibility: Score
    alerts: list[Alert]
    nearest_drugs: list[Neighbour]
    nearest_library: list[Neighbour] = field(default_factory=list)
    carbohydrate: bool = False
    glycan: dict[str, float] | None = None
    fragments_removed: int = 0
    admet: dict[str, Any] = field(default_factory=lambda: {"available": False,
                                                           "note": ADMET_NOTE})

    def rule(self, name: str) -> RuleResult:
        """The rule of that name (``Lipinski``, ``Veber`` ...)."""
        for r in self.rules:
            if r.name.lower() == name.lower():
                return r
        raise KeyError(name)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("np_likeness", "synthetic_accessibility"):
            score: Score = getattr(self, key)
            out[key]["available"] = score.available
        return out


# --- properties ----------------------------------------------------------------------------

def properties(mol: Any) -> dict[str, float]:
    """Physico-chemical properties. ``clogp`` is Wildman-Crippen logP and ``mr`` its molar
    refractivity; ``hbd``/``hba`` are RDKit's Lipinski-module counts, ``nhoh``/``no`` the
    counts Lipinski's rule uses (OH + NH, N + O); ``atoms`` counts hydrogens too."""
    from rdkit import Chem
    from rdkit.Chem import QED, Descriptors, rdMolDescriptors

    heavy = mol.GetNumHeavyAtoms()
    with_h = Chem.AddHs(mol)
    carbons = sum(1 for a in mol.GetAtoms() if a.GetAtomicNum() == 6)
    logp, mr = rdMolDescriptors.CalcCrippenDescriptors(mol)
    return {
        "mw": round(float(Descriptors.MolWt(mol)), 3),  # type: ignore[attr-defined]
        "exact_mass": round(float(rdMolDescriptors.CalcExactMolWt(mol)), 5),
        "clogp": round(float(logp), 3),
        "mr": round(float(mr), 3),
        "tpsa": round(float(rdMolDescriptors.CalcTPSA(mol)), 2),
        "hbd": float(rdMolDescriptors.CalcNumHBD(mol)),
        "hba": float(rdMolDescriptors.CalcNumHBA(mol)),
        "nhoh": float(rdMolDescriptors.CalcNumLipinskiHBD(mol)),
        "no": float(rdMolDescriptors.CalcNumLipinskiHBA(mol)),
        "rotatable_bonds": float(rdMolDescriptors.CalcNumRotatableBonds(mol)),
        "rings": float(rdMolDescriptors.CalcNumRings(mol)),
        "aromatic_rings": float(rdMolDescriptors.CalcNumAromaticRings(mol)),
        "heavy_atoms": float(heavy),
        "atoms": float(with_h.GetNumAtoms()),
        "carbons": float(carbons),
        "heteroatoms": float(rdMolDescriptors.CalcNumHeteroatoms(mol)),
        "fraction_sp3": round(float(rdMolDescriptors.CalcFractionCSP3(mol)), 4),
        "formal_charge": float(Chem.GetFormalCharge(mol)),
        "qed": round(float(QED.qed(mol)), 4),  # type: ignore[no-untyped-call]
    }


# --- drug-likeness rules -------------------------------------------------------------------

def _check(p: Mapping[str, float], criteria: Sequence[tuple[str, str, float, float]]
           ) -> tuple[str, ...]:
    """The violated criteria of (label, property, low, high) bounds, as readable texts."""
    out = []
    for label, key, low, high in criteria:
        value = p[key]
        if value < low:
            out.append(f"{label} {value:g} < {low:g}")
        elif value > high:
            out.append(f"{label} {value:g} > {high:g}")
    return tuple(out)


_INF = float("inf")


def drug_likeness(p: Mapping[str, float]) -> list[RuleResult]:
    """Lipinski, Veber, Ghose, Egan, Muegge and the beyond-rule-of-five space, from
    :func:`properties`. Each paper's logP is replaced by Wildman-Crippen logP (noted)."""
    crippen = "logP is Wildman-Crippen (RDKit), not the paper's own logP"
    lipinski = _check(p, [("MW", "mw", 0, 500), ("cLogP", "clogp", -_INF, 5),
                          ("H-bond donors (OH + NH)", "nhoh", 0, 5),
                          ("H-bond acceptors (N + O)", "no", 0, 10)])
    veber = list(_check(p, [("rotatable bonds", "rotatable_bonds", 0, 10)]))
    if p["tpsa"] > 140 and p["hbd"] + p["hba"] > 12:
        veber.append(f"TPSA {p['tpsa']:g} > 140 and H-bond donors + acceptors "
                     f"{p['hbd'] + p['hba']:g} > 12")
    ghose = _check(p, [("cLogP", "clogp", -0.4, 5.6), ("molar refractivity", "mr", 40, 130),
                       ("MW", "mw", 160, 480), ("atoms", "atoms", 20, 70)])
    egan = _check(p, [("TPSA", "tpsa", -_INF, 131.6), ("cLogP", "clogp", -_INF, 5.88)])
    muegge = _check(p, [("MW", "mw", 200, 600), ("cLogP", "clogp", -2, 5),
                        ("TPSA", "tpsa", -_INF, 150), ("rings", "rings", 0, 7),
                        ("carbons", "carbons", 5, _INF), ("heteroatoms", "heteroatoms", 2, _INF),
                        ("rotatable bonds", "rotatable_bonds", 0, 15),
                        ("H-bond acceptors", "hba", 0, 10), ("H-bond donors", "hbd", 0, 5)])
    bro5 = _check(p, [("MW", "mw", 0, 1000), ("cLogP", "clogp", -2, 10),
                      ("H-bond donors", "hbd", 0, 6), ("H-bond acceptors", "hba", 0, 15),
                      ("TPSA", "tpsa", -_INF, 250), ("rotatable bonds", "rotatable_bonds", 0, 20)])
    ro5_passed = len(lipinski) <= 1
    if ro5_passed:
        bro5_note = "within the rule of five"
    elif not bro5:
        bro5_note = ("outside the rule of five but inside the beyond-rule-of-five space, "
                     "where orally active natural products and macrocycles lie; Lipinski "
                     "exempted natural products and transporter substrates from the rule")
    else:
        bro5_note = "outside the rule of five and the beyond-rule-of-five space"
    return [
        RuleResult("Lipinski", ro5_passed, lipinski,
                   "Lipinski et al. 1997 Adv Drug Deliv Rev 23:3",
                   f"at most one violation allowed; {crippen}"),
        RuleResult("Veber", not veber, tuple(veber), "Veber et al. 2002 J Med Chem 45:2615",
                   "rotatable bonds <= 10 and (TPSA <= 140 or H-bond donors + acceptors "
                   "<= 12)"),
        RuleResult("Ghose", not ghose, ghose, "Ghose et al. 1999 J Comb Chem 1:55", crippen),
        RuleResult("Egan", not egan, egan, "Egan et al. 2000 J Med Chem 43:3867",
                   f"the bounds of the egg's axes (TPSA 131.6, logP 5.88); {crippen}"),
        RuleResult("Muegge", not muegge, muegge, "Muegge et al. 2001 J Med Chem 44:1841",
                   f"{crippen} (the paper used XLOGP)"),
        RuleResult("beyond rule of five", not bro5, bro5,
                   "Doak et al. 2014 Chem Biol 21:1115", bro5_note),
    ]


# --- Contrib scores --------------------------------------------------------------------------

def _contrib_dir() -> str:
    from rdkit.Chem import RDConfig

    return str(RDConfig.RDContribDir)


@cache
def _contrib(folder: str, module: str) -> ModuleType | None:
    """A module of RDKit's Contrib folder, loaded once; None if this RDKit lacks it."""
    path = os.path.join(_contrib_dir(), folder, f"{module}.py")
    if not os.path.isfile(path):
        return None
    spec = importlib.util.spec_from_file_location(f"lanhai_contrib_{module}", path)
    if spec is None or spec.loader is None:
        return None
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded


@cache
def _np_model() -> Any:
    scorer = _contrib("NP_Score", "npscorer")
    if scorer is None:
        return None
    with contextlib.redirect_stderr(io.StringIO()):  # it reports its loading on stderr
        return scorer.readNPModel()


def np_likeness(mol: Any) -> Score:
    """Natural-product likeness (Ertl et al. 2008 J Chem Inf Model 48:68), about -5
    (synthetic) to +5 (natural product); absent when RDKit ships no Contrib NP_Score."""
    scorer = _contrib("NP_Score", "npscorer")
    if scorer is None:
        return Score(None, f"RDKit Contrib NP_Score is not installed (looked in "
                           f"{_contrib_dir()}); the score is absent")
    return Score(round(float(scorer.scoreMol(mol, _np_model())), 4),
                 "RDKit Contrib NP_Score (Ertl 2008)")


def synthetic_accessibility(mol: Any) -> Score:
    """Synthetic accessibility (Ertl & Schuffenhauer 2009 J Cheminform 1:8), 1 (easy) to
    10 (hard); absent when RDKit ships no Contrib SA_Score."""
    scorer = _contrib("SA_Score", "sascorer")
    if scorer is None:
        return Score(None, f"RDKit Contrib SA_Score is not installed (looked in "
                           f"{_contrib_dir()}); the score is absent")
    return Score(round(float(scorer.calculateScore(mol)), 4),
                 "RDKit Contrib SA_Score (Ertl & Schuffenhauer 2009)")


# --- structural alerts -----------------------------------------------------------------------

@cache
def _catalogues() -> tuple[tuple[str, Any], ...]:
    from rdkit.Chem import FilterCatalog

    params = FilterCatalog.FilterCatalogParams
    out = []
    for name in ALERT_CATALOGUES:
        p = params()
        p.AddCatalog(getattr(params.FilterCatalogs, name))
        out.append((name, FilterCatalog.FilterCatalog(p)))
    return tuple(out)


def structural_alerts(mol: Any) -> list[Alert]:
    """Every FilterCatalog match, with its catalogue and description."""
    alerts = []
    for name, catalogue in _catalogues():
        for entry in catalogue.GetMatches(mol):
            atoms: set[int] = set()
            for hit in entry.GetFilterMatches(mol):
                atoms.update(int(pair[1]) for pair in hit.atomPairs)
            alerts.append(Alert(name, str(entry.GetDescription()), tuple(sorted(atoms))))
    return alerts


# --- similarity ------------------------------------------------------------------------------

@cache
def _morgan() -> Any:
    from rdkit.Chem import rdFingerprintGenerator

    return rdFingerprintGenerator.GetMorganGenerator(radius=MORGAN_RADIUS, fpSize=MORGAN_BITS)


def fingerprint(mol: Any) -> Any:
    """The Morgan bit vector every similarity here uses."""
    return _morgan().GetFingerprint(mol)


def library_fingerprints(items: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Key -> fingerprint for (key, SMILES) pairs; one error lists every bad SMILES."""
    out: dict[str, Any] = {}
    problems = []
    for key, smiles in items:
        mol = parse_smiles(smiles)
        if mol is None:
            problems.append(Problem(reason=_SMILES_REASON, fix=_SMILES_FIX, field="smiles",
                                    value=smiles, record=key))
        else:
            out[key] = fingerprint(mol)
    if problems:
        raise ValidationFailed(f"{len(problems)} library SMILES are not valid", problems)
    return out


def nearest_in(mol: Any, library_fingerprints: Mapping[str, Any] | Sequence[tuple[str, Any]],
               k: int = 5) -> list[Neighbour]:
    """The ``k`` library compounds most similar to ``mol`` (Tanimoto on Morgan bits),
    most similar first, ties in the library's order."""
    from rdkit import DataStructs

    pairs = list(library_fingerprints.items()) if isinstance(library_fingerprints, Mapping) \
        else list(library_fingerprints)
    if not pairs or k <= 0:
        return []
    sims = DataStructs.BulkTanimotoSimilarity(fingerprint(mol), [fp for _, fp in pairs])
    order = sorted(range(len(pairs)), key=lambda i: -sims[i])[:k]
    return [Neighbour(str(pairs[i][0]), round(float(sims[i]), 4)) for i in order]


@dataclass(frozen=True)
class DrugIndex:
    """Approved drugs with their fingerprints, built once (:func:`approved_drugs`)."""

    names: tuple[str, ...]
    ids: tuple[str, ...]
    smiles: tuple[str, ...]
    canonical: tuple[str, ...]
    years: tuple[int | None, ...]
    fingerprints: tuple[Any, ...]

    def __len__(self) -> int:
        return len(self.ids)

    def nearest(self, mol: Any, k: int = 5) -> list[Neighbour]:
        """The ``k`` most similar drugs; among equal similarities the drug with the same
        canonical SMILES comes first, then ChEMBL's order."""
        from rdkit import Chem, DataStructs

        if k <= 0:
            return []
        sims = np.asarray(DataStructs.BulkTanimotoSimilarity(fingerprint(mol),
                                                             self.fingerprints))
        # the k best, and every drug tied with the k-th, then ordered exactly
        kth = np.partition(sims, len(sims) - k)[len(sims) - k] if k < len(sims) else -1.0
        own = Chem.MolToSmiles(mol)
        order = sorted((int(i) for i in np.flatnonzero(sims >= kth)),
                       key=lambda i: (-sims[i], self.canonical[i] != own, i))[:k]
        return [Neighbour(self.ids[i], round(float(sims[i]), 4), self.names[i],
                          self.smiles[i], self.years[i]) for i in order]


@cache
def approved_drugs() -> DrugIndex:
    """The shipped ChEMBL approved drugs (``data/chembl_approved_drugs.tsv``, see
    ``data/PROVENANCE.md``), parsed and fingerprinted once per process."""
    from rdkit import Chem

    text = resources.files("lanhai.screening").joinpath(
        "data/chembl_approved_drugs.tsv").read_text("utf-8")
    names, ids, smiles, canonical, years, fps = [], [], [], [], [], []
    for row in csv.DictReader(text.splitlines(), delimiter="\t"):
        mol = parse_smiles(row["smiles"])
        if mol is None:
            continue
        names.append(row["name"])
        ids.append(row["chembl_id"])
        smiles.append(row["smiles"])
        canonical.append(Chem.MolToSmiles(mol))
        years.append(int(row["first_approval"]) if row["first_approval"] else None)
        fps.append(fingerprint(mol))
    return DrugIndex(tuple(names), tuple(ids), tuple(smiles), tuple(canonical), tuple(years),
                     tuple(fps))


def nearest_drugs(mol: Any, k: int = 5) -> list[Neighbour]:
    """The ``k`` approved drugs most similar to ``mol`` (Tanimoto on Morgan bits)."""
    return approved_drugs().nearest(mol, k)


# --- the profile -----------------------------------------------------------------------------

def parse_smiles(smiles: str) -> Any:
    """An RDKit molecule, or None if RDKit cannot parse the SMILES."""
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")  # type: ignore[attr-defined]
    mol = Chem.MolFromSmiles(smiles.strip()) if smiles and smiles.strip() else None
    return mol if mol is not None and mol.GetNumAtoms() else None


def _parent(mol: Any) -> tuple[Any, int]:
    """The largest organic fragment and how many fragments were left out."""
    from rdkit import Chem
    from rdkit.Chem.MolStandardize import rdMolStandardize

    count = len(Chem.GetMolFrags(mol))
    if count == 1:
        return mol, 0
    chooser = rdMolStandardize.LargestFragmentChooser(preferOrganic=True)
    return chooser.choose(mol), count - 1


def _molecule(item: Any, label: str) -> Any:
    if isinstance(item, str):
        mol = parse_smiles(item)
        if mol is None:
            raise ValidationFailed(f"{label} is not a SMILES string RDKit can parse", [
                Problem(reason=_SMILES_REASON, fix=_SMILES_FIX, field="smiles", value=item)])
        return mol
    return item


def screening_profile(smiles_or_mol: Any, *, k: int = 5,
                      library: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None,
                      drugs: DrugIndex | None = None) -> ScreeningProfile:
    """The profile of one compound (a SMILES or an RDKit molecule). ``library``: key ->
    fingerprint (:func:`library_fingerprints`) for the nearest library compounds;
    ``drugs``: another drug index than the shipped one."""
    from rdkit import Chem
    from rdkit.Chem import rdMolDescriptors

    from lanhai.screening import glycans

    mol, removed = _parent(_molecule(smiles_or_mol, "the compound"))
    props = properties(mol)
    carbohydrate = glycans.is_carbohydrate(mol)
    return ScreeningProfile(
        smiles=Chem.MolToSmiles(mol),
        inchikey=str(Chem.MolToInchiKey(mol) or ""),  # type: ignore[no-untyped-call]
        formula=str(rdMolDescriptors.CalcMolFormula(mol)),
        properties=props,
        rules=drug_likeness(props),
        np_likeness=np_likeness(mol),
        synthetic_accessibility=synthetic_accessibility(mol),
        alerts=structural_alerts(mol),
        nearest_drugs=(drugs or approved_drugs()).nearest(mol, k),
        nearest_library=nearest_in(mol, library, k) if library is not None else [],
        carbohydrate=carbohydrate,
        glycan=glycans.glycan_features(mol=mol) if carbohydrate else None,
        fragments_removed=removed,
    )


def profile_many(items: Iterable[Any], *, k: int = 5,
                 library: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None
                 ) -> list[ScreeningProfile]:
    """Profiles of many compounds (SMILES or molecules), in order. Every SMILES is checked
    first: one error lists each bad one (by its position, from 1), and none is profiled.
    The drug fingerprints, alert catalogues and Contrib models are loaded once."""
    mols: list[Any] = []
    problems = []
    for number, item in enumerate(items, start=1):
        mol = parse_smiles(item) if isinstance(item, str) else item
        if mol is None:
            problems.append(Problem(reason=_SMILES_REASON, fix=_SMILES_FIX, field="smiles",
                                    value=str(item), row=number))
        mols.append(mol)
    if problems:
        raise ValidationFailed(f"{len(problems)} of {len(mols)} SMILES are not valid; "
                               "nothing was profiled", problems)
    drugs = approved_drugs()
    return [screening_profile(m, k=k, library=library, drugs=drugs) for m in mols]
