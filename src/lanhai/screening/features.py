"""Molecules to numbers: SMILES parsing with light standardisation, Morgan count fingerprints
plus a few physico-chemical descriptors for the models, and Morgan bit vectors for the
applicability domain (Tanimoto similarity to the training set).

A :class:`FeatureSpec` names every choice that changes the numbers, so a stored model can
featurise new molecules exactly as it featurised its training set.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from rdkit import Chem, DataStructs, rdBase
from rdkit.Chem import Descriptors, rdFingerprintGenerator, rdMolDescriptors
from rdkit.Chem.MolStandardize import rdMolStandardize

from lanhai.errors import Problem, UsageError, ValidationFailed

#: a charged atom in a SMILES string ("[O-]", "[NH4+]", "[Fe+2]"): only then is there
#: anything to neutralise
_CHARGED = re.compile(r"\[[^\]]*[+-]")
#: radius and size of the bit vectors the applicability domain compares (ECFP4, 2,048 bits)
SIMILARITY_RADIUS = 2
SIMILARITY_BITS = 2048

#: one extra block of features computed from a molecule (glycan features, say)
ExtraFeatures = Callable[[Chem.Mol], Sequence[float]]


def _mol_wt(mol: Chem.Mol) -> float:
    return float(rdMolDescriptors._CalcMolWt(mol))


def _logp(mol: Chem.Mol) -> float:
    return float(rdMolDescriptors.CalcCrippenDescriptors(mol)[0])


def _formal_charge(mol: Chem.Mol) -> float:
    return float(Chem.GetFormalCharge(mol))


def _heavy_atoms(mol: Chem.Mol) -> float:
    return float(mol.GetNumHeavyAtoms())


def _rotatable(mol: Chem.Mol) -> float:
    return float(rdMolDescriptors.CalcNumRotatableBonds(
        mol, rdMolDescriptors.NumRotatableBondsOptions.NonStrict))


#: the descriptors computed without RDKit's generic (slower) lookup: name -> function
_FAST: Mapping[str, Callable[[Chem.Mol], float]] = {
    "MolWt": _mol_wt,
    "MolLogP": _logp,
    "TPSA": rdMolDescriptors.CalcTPSA,
    "LabuteASA": rdMolDescriptors.CalcLabuteASA,
    "NumHDonors": rdMolDescriptors.CalcNumLipinskiHBD,
    "NumHAcceptors": rdMolDescriptors.CalcNumLipinskiHBA,
    "NumRotatableBonds": _rotatable,
    "RingCount": rdMolDescriptors.CalcNumRings,
    "NumAromaticRings": rdMolDescriptors.CalcNumAromaticRings,
    "NumAliphaticRings": rdMolDescriptors.CalcNumAliphaticRings,
    "FractionCSP3": rdMolDescriptors.CalcFractionCSP3,
    "HeavyAtomCount": _heavy_atoms,
    "NumHeteroatoms": rdMolDescriptors.CalcNumHeteroatoms,
    "NumAmideBonds": rdMolDescriptors.CalcNumAmideBonds,
    "FormalCharge": _formal_charge,
}

#: the default descriptors: cheap counts and surface areas, plus Crippen's logP (about half
#: of the featurising time: it types every atom with SMARTS patterns, and it is what
#: solubility and permeability models lean on most)
DEFAULT_DESCRIPTORS: tuple[str, ...] = tuple(_FAST)


def descriptor_function(name: str) -> Callable[[Chem.Mol], float]:
    """The function computing descriptor ``name``: one of :data:`DEFAULT_DESCRIPTORS` or any
    name in RDKit's ``Descriptors.descList``; UsageError for an unknown name."""
    found = _FAST.get(name)
    if found is not None:
        return found
    for known, function in Descriptors.descList:
        if known == name:
            return function  # type: ignore[no-any-return]
    raise UsageError(f"the descriptor {name!r} is not known", [Problem(
        reason="is not an RDKit descriptor", field="descriptors", value=name,
        fix="use a name from rdkit.Chem.Descriptors.descList, e.g. "
            + ", ".join(DEFAULT_DESCRIPTORS[:4]))])


@dataclass(frozen=True)
class FeatureSpec:
    """How molecules become features: Morgan fingerprints of ``radius`` folded to ``n_bits``
    (counts of each substructure if ``counts``, else presence), then ``descriptors`` (RDKit
    names), then an optional extra block named ``extra_names``."""

    radius: int = 2
    n_bits: int = 2048
    counts: bool = True
    descriptors: tuple[str, ...] = DEFAULT_DESCRIPTORS
    extra_names: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        problems = []
        if not 0 <= self.radius <= 6:
            problems.append(Problem(reason="is not a Morgan radius between 0 and 6",
                                    field="radius", value=str(self.radius),
                                    fix="use 2 (ECFP4) or 3 (ECFP6)"))
        if not 64 <= self.n_bits <= 65536:
            problems.append(Problem(reason="is not a fingerprint size between 64 and 65536",
                                    field="n_bits", value=str(self.n_bits),
                                    fix="use 2048"))
        if len(set(self.descriptors)) != len(self.descriptors):
            problems.append(Problem(reason="names a descriptor twice", field="descriptors",
                                    value=", ".join(self.descriptors),
                                    fix="list each descriptor once"))
        if problems:
            raise UsageError("the feature settings are not valid", problems)
        for name in self.descriptors:
            descriptor_function(name)

    def as_dict(self) -> dict[str, Any]:
        """The settings as plain JSON values."""
        return {"radius": self.radius, "n_bits": self.n_bits, "counts": self.counts,
                "descriptors": list(self.descriptors), "extra_names": list(self.extra_names)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureSpec:
        """The settings :meth:`as_dict` wrote; UsageError for unknown keys."""
        unknown = sorted(set(data) - {"radius", "n_bits", "counts", "descriptors",
                                      "extra_names"})
        if unknown:
            raise UsageError("the feature settings have unknown keys", [Problem(
                reason="is not a feature setting", field=key,
                fix="use radius, n_bits, counts, descriptors and extra_names")
                for key in unknown])
        return cls(radius=int(data.get("radius", 2)), n_bits=int(data.get("n_bits", 2048)),
                   counts=bool(data.get("counts", True)),
                   descriptors=tuple(data.get("descriptors", DEFAULT_DESCRIPTORS)),
                   extra_names=tuple(data.get("extra_names", ())))

    @property
    def n_features(self) -> int:
        """How many columns :func:`featurise` returns."""
        return self.n_bits + len(self.descriptors) + len(self.extra_names)


#: the default settings
DEFAULT_SPEC = FeatureSpec()


def parse_smiles(smiles: str) -> Chem.Mol:
    """The molecule a SMILES string writes, lightly standardised.

    Standardisation: only the largest fragment is kept (salts, counter-ions and solvents
    are dropped: ``CC(=O)[O-].[Na+]`` becomes acetic acid), and charged atoms are
    neutralised where a neutral form exists (by adding or removing hydrogens; quaternary
    nitrogen and nitro groups stay as they are). Stereochemistry is kept.

    ValidationFailed, with what was wrong and how to fix it, for a string RDKit rejects:
    bad syntax, an impossible valence, an aromatic ring that cannot be kekulised.
    """
    if not isinstance(smiles, str) or not smiles.strip():
        raise ValidationFailed("the SMILES is empty", [Problem(
            reason="is empty", field="smiles", value=str(smiles),
            fix="give a SMILES string such as CCO")])
    text = smiles.strip()
    if any(c.isspace() for c in text):
        text = text.split()[0]  # "CCO ethanol": SMILES files put a name after a space
    with rdBase.BlockLogs():
        mol = Chem.MolFromSmiles(text, sanitize=False)
        if mol is None:
            raise ValidationFailed(f"the SMILES {smiles!r} cannot be read", [Problem(
                reason="is not valid SMILES syntax", field="smiles", value=smiles,
                fix="check brackets, ring-closure digits and atom symbols (e.g. Cl, not "
                    "CL); export the structure again from the drawing tool")])
        try:
            Chem.SanitizeMol(mol)
        except Exception as err:  # RDKit raises MolSanitizeException and its subclasses
            reason, fix = _sanitize_reason(str(err))
            raise ValidationFailed(f"the SMILES {smiles!r} is not a valid molecule", [Problem(
                reason=reason, field="smiles", value=smiles, fix=fix)]) from None
    if mol.GetNumAtoms() == 0:
        raise ValidationFailed("the SMILES has no atoms", [Problem(
            reason="has no atoms", field="smiles", value=smiles,
            fix="give a SMILES string such as CCO")])
    return standardise(mol, charged=bool(_CHARGED.search(text)), fragments="." in text)


def _sanitize_reason(message: str) -> tuple[str, str]:
    """A chemist's reason and fix for RDKit's sanitisation message."""
    first = message.strip().splitlines()[0] if message.strip() else "sanitisation failed"
    lowered = first.lower()
    if "valence" in lowered:
        return (f"has an impossible valence ({first})",
                "check the charges and bond orders around that atom, or write the charge "
                "explicitly (e.g. [N+])")
    if "kekulize" in lowered or "aromatic" in lowered:
        return (f"has an aromatic ring RDKit cannot kekulise ({first})",
                "write the ring in Kekulé form, or give the hydrogen on aromatic nitrogen "
                "explicitly (e.g. c1cc[nH]c1)")
    return (f"is not a valid molecule ({first})",
            "check the structure in a drawing tool and export its SMILES again")


def standardise(mol: Chem.Mol, charged: bool = True, fragments: bool = True) -> Chem.Mol:
    """The largest fragment of ``mol``, neutralised (see :func:`parse_smiles`);
    ``charged=False`` / ``fragments=False`` skip steps known to have nothing to do."""
    with rdBase.BlockLogs():
        if fragments and len(Chem.GetMolFrags(mol)) > 1:
            mol = rdMolStandardize.LargestFragmentChooser().choose(mol)
        if charged:
            mol = rdMolStandardize.Uncharger().uncharge(mol)
    return mol


def canonical_smiles(mol: Chem.Mol) -> str:
    """RDKit's canonical isomeric SMILES of a molecule."""
    return str(Chem.MolToSmiles(mol))


def feature_names(spec: FeatureSpec) -> list[str]:
    """The name of each column :func:`featurise` returns, in order."""
    kind = "morgan_count" if spec.counts else "morgan_bit"
    return ([f"{kind}_r{spec.radius}_{i}" for i in range(spec.n_bits)]
            + list(spec.descriptors) + list(spec.extra_names))


def featurise(mols: Sequence[Chem.Mol], spec: FeatureSpec = DEFAULT_SPEC,
              extra: ExtraFeatures | None = None,
              extra_names: Sequence[str] | None = None) -> np.ndarray:
    """The feature matrix (float32, one row per molecule, columns as
    :func:`feature_names`): Morgan fingerprint, descriptors, then ``extra(mol)``, which
    must give one number per name in ``extra_names`` (default ``spec.extra_names``).
    Non-finite descriptor values become 0."""
    if extra_names is not None:
        spec = replace(spec, extra_names=tuple(extra_names))
    if (extra is None) != (not spec.extra_names):
        raise UsageError("the extra features and their names do not match", [Problem(
            reason="gives an extra feature block without names, or names without a block",
            field="extra_names", value=", ".join(spec.extra_names),
            fix="pass extra= together with FeatureSpec(extra_names=...)")])
    n = len(mols)
    out = np.zeros((n, spec.n_features), dtype=np.float32)
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=spec.radius,
                                                          fpSize=spec.n_bits)
    functions = [descriptor_function(name) for name in spec.descriptors]
    width = len(spec.extra_names)
    with rdBase.BlockLogs():
        for row, mol in enumerate(mols):
            _fill(out[row], mol, generator, spec.counts, functions, extra, width, row)
    if not np.isfinite(out).all():
        np.nan_to_num(out, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    return out


def _fill(out: np.ndarray, mol: Chem.Mol, generator: Any, counts: bool,
          functions: Sequence[Callable[[Chem.Mol], float]], extra: ExtraFeatures | None,
          width: int, row: int) -> None:
    """One molecule's feature row, written into ``out``."""
    first = len(out) - len(functions) - width
    out[:first] = (generator.GetCountFingerprintAsNumPy(mol) if counts
                   else generator.GetFingerprintAsNumPy(mol))
    for col, function in enumerate(functions, start=first):
        out[col] = function(mol)
    if extra is not None:
        values = list(extra(mol))
        if len(values) != width:
            raise UsageError("the extra feature block has the wrong length", [Problem(
                reason=f"gave {len(values)} values where {width} names were declared",
                field="extra_names", row=row + 1,
                fix="make extra(mol) return one number per name in extra_names")])
        out[first + len(functions):] = values


def similarity_fingerprints(mols: Iterable[Chem.Mol]) -> list[DataStructs.ExplicitBitVect]:
    """Morgan bit vectors (radius 2, 2,048 bits) for Tanimoto similarity."""
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=SIMILARITY_RADIUS,
                                                          fpSize=SIMILARITY_BITS)
    return [generator.GetFingerprint(mol) for mol in mols]


def similarity_fingerprints_from(x: np.ndarray, spec: FeatureSpec
                                 ) -> list[DataStructs.ExplicitBitVect] | None:
    """The :func:`similarity_fingerprints` of already featurised molecules, read off their
    Morgan columns when ``spec`` has the same radius and size (the bits set are those whose
    count is non-zero); None when it does not."""
    if spec.radius != SIMILARITY_RADIUS or spec.n_bits != SIMILARITY_BITS:
        return None
    out = []
    for row in x[:, :SIMILARITY_BITS]:
        fp = DataStructs.ExplicitBitVect(SIMILARITY_BITS)
        fp.SetBitsFromList(np.flatnonzero(row).tolist())
        out.append(fp)
    return out


def max_similarity(query: Sequence[DataStructs.ExplicitBitVect],
                   reference: Sequence[DataStructs.ExplicitBitVect]
                   ) -> tuple[np.ndarray, np.ndarray]:
    """For each query fingerprint, its highest Tanimoto similarity to ``reference`` and the
    index of that reference (the first on ties); similarity 0 and index -1 when
    ``reference`` is empty."""
    best = np.zeros(len(query), dtype=np.float64)
    where = np.full(len(query), -1, dtype=np.int64)
    if not reference:
        return best, where
    ref = list(reference)
    for i, fp in enumerate(query):
        sims = np.asarray(DataStructs.BulkTanimotoSimilarity(fp, ref))
        j = int(sims.argmax())
        best[i], where[i] = sims[j], j
    return best, where
