"""An assay table for screening tests: real approved drugs (the shipped ChEMBL list) with
IC50s made from a known structure rule, pIC50 = 4 + 0.8 x Crippen logP, so that a model that
learns anything must find the rule (what such tests check is Lanhai's machinery, not a
biological claim)."""

from __future__ import annotations

import csv
from pathlib import Path

from rdkit import Chem
from rdkit.Chem import Crippen

DRUGS = Path(__file__).parents[2] / "src/lanhai/screening/data/chembl_approved_drugs.tsv"


def drugs(count: int, skip: int = 0) -> list[tuple[str, str]]:
    """(name, SMILES) of ``count`` small, single-fragment drugs after the first ``skip``."""
    out: list[tuple[str, str]] = []
    with DRUGS.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            mol = Chem.MolFromSmiles(row["smiles"])
            if mol is None or "." in row["smiles"] or not 10 <= mol.GetNumHeavyAtoms() <= 40:
                continue
            out.append((row["name"], row["smiles"]))
            if len(out) == skip + count:
                break
    return out[skip:]


def pic50(smiles: str) -> float:
    """The made-up potency of a structure."""
    return 4 + 0.8 * Crippen.MolLogP(Chem.MolFromSmiles(smiles))


def assay_table(path: Path, compounds: list[tuple[str, str]], target: str = "test kinase"
                ) -> Path:
    """An assay table in ChEMBL's column names: IC50 in µM (10 ** (6 - pIC50))."""
    lines = ["Molecule Name,Smiles,Standard Type,Standard Relation,Standard Value,"
             "Standard Units,Target Name,Document ChEMBL ID"]
    for name, smiles in compounds:
        value = 10 ** (6 - pic50(smiles))
        lines.append(f'"{name}","{smiles}",IC50,=,{value:.6g},uM,{target},made for the test')
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path
