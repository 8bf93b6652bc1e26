"""Compound structures with RDKit: parsing, InChIKeys, Morgan fingerprints, and the library
of a bank's compounds that structure searches run over."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lanhai.errors import Problem, ValidationFailed

RADIUS = 2
BITS = 2048
INCHIKEY = re.compile(r"^[A-Z]{14}-[A-Z]{10}-[A-Z]$")


@dataclass(frozen=True)
class Entry:
    """One compound record's structure."""

    accession: str
    name: str
    restricted: bool
    inchikey: str
    smiles: str


@dataclass
class Library:
    """The compound structures of a bank, with fingerprints and molecules, in accession order."""

    stamp: str
    entries: list[Entry]
    fingerprints: list[Any]
    mols: list[Any]

    def positions(self, include_restricted: bool) -> list[int]:
        """Positions of the entries a caller may see."""
        return [i for i, e in enumerate(self.entries) if include_restricted or not e.restricted]

    def to_columns(self) -> dict[str, list[Any]]:
        """The library as columns of plain values (fingerprints and molecules as bytes)."""
        return {
            "accession": [e.accession for e in self.entries],
            "name": [e.name for e in self.entries],
            "restricted": [e.restricted for e in self.entries],
            "inchikey": [e.inchikey for e in self.entries],
            "smiles": [e.smiles for e in self.entries],
            "fingerprint": [fp.ToBinary() for fp in self.fingerprints],
            "mol": [m.ToBinary() for m in self.mols],
        }

    @classmethod
    def from_columns(cls, stamp: str, data: Mapping[str, list[Any]]) -> Library:
        from rdkit import Chem, DataStructs

        entries = [Entry(*values) for values in zip(
            data["accession"], data["name"], data["restricted"], data["inchikey"],
            data["smiles"], strict=True)]
        fps = [DataStructs.ExplicitBitVect(raw) for raw in data["fingerprint"]]
        mols = [Chem.Mol(raw) for raw in data["mol"]]
        return cls(stamp, entries, fps, mols)

    @classmethod
    def build(cls, stamp: str, records: Iterable[tuple[str, str, bool, Mapping[str, Any]]]
              ) -> Library:
        """From (accession, name, restricted, fields) of compound records in accession
        order; records without a parsable SMILES and InChIKey take no part."""
        from rdkit import Chem

        quiet()
        entries, fps, mols = [], [], []
        for accession, name, restricted, fields in records:
            smiles, key = fields.get("canonical_smiles"), fields.get("inchikey")
            if not smiles or not key:
                continue
            mol = Chem.MolFromSmiles(smiles)
            if mol is None:
                continue
            entries.append(Entry(accession, name, bool(restricted), key, smiles))
            fps.append(fingerprint(mol))
            mols.append(mol)
        return cls(stamp, entries, fps, mols)


def quiet() -> None:
    from rdkit import RDLogger

    RDLogger.DisableLog("rdApp.*")  # type: ignore[attr-defined]


def fingerprint(mol: Any) -> Any:
    """Morgan fingerprint, radius 2, 2048 bits (RDKit's generator; ECFP4-like)."""
    from rdkit.Chem import rdFingerprintGenerator

    generator = rdFingerprintGenerator.GetMorganGenerator(radius=RADIUS, fpSize=BITS)
    return generator.GetFingerprint(mol)


def parse_smiles(smiles: str, what: str = "smiles") -> Any:
    from rdkit import Chem

    quiet()
    mol = Chem.MolFromSmiles(smiles.strip()) if smiles.strip() else None
    if mol is None or mol.GetNumAtoms() == 0:
        raise ValidationFailed(f"cannot read the {what} {smiles!r}", [Problem(
            "is not a SMILES string RDKit can parse",
            "check ring closures, brackets and valences (e.g. 'CC(=O)Oc1ccccc1C(=O)O')",
            field=what, value=smiles)])
    return mol


def parse_smarts(pattern: str) -> Any:
    from rdkit import Chem

    quiet()
    query = Chem.MolFromSmarts(pattern.strip()) if pattern.strip() else None
    if query is None:
        raise ValidationFailed(f"cannot read the SMARTS {pattern!r}", [Problem(
            "is not a SMARTS pattern RDKit can parse",
            "check brackets and atom primitives (e.g. 'c1ccccc1C(=O)[OX2H1]'); "
            "give a SMILES with --substructure instead", field="smarts", value=pattern)])
    return query


def inchikey_of_smiles(smiles: str) -> str:
    """The InChIKey RDKit computes for a SMILES (as the compound records store it)."""
    from rdkit import Chem

    key: str = Chem.MolToInchiKey(parse_smiles(smiles))  # type: ignore[no-untyped-call]
    if not key:
        raise ValidationFailed(f"no InChIKey for {smiles!r}", [Problem(
            "RDKit could not build an InChI", "check the structure", field="smiles",
            value=smiles)])
    return key
