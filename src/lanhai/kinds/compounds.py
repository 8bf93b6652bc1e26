"""Compound: a small molecule (RDKit-validated SMILES) or a glycan (WURCS, via glypy)."""

from __future__ import annotations

from typing import Any

from lanhai.errors import Problem
from lanhai.kinds import vocab
from lanhai.kinds.fields import COMMON_FIELDS, Field, Fields, KindSpec, require_one_of, unique
from lanhai.kinds.vocab import FieldError, ValueContext

STANDARD = "canonical SMILES + InChIKey (RDKit) or WURCS 2.0 (glypy)"


def smiles(value: Any, ctx: ValueContext, name: str) -> str:
    """A SMILES string RDKit can parse; stored as given, canonicalised in ``derive``."""
    from rdkit import Chem, RDLogger

    raw = vocab.text(value, ctx, name)
    RDLogger.DisableLog("rdApp.*")  # type: ignore[attr-defined]
    mol = Chem.MolFromSmiles(raw)
    if mol is None or mol.GetNumAtoms() == 0:
        raise FieldError("is not a SMILES string RDKit can parse",
                         "check ring closures, brackets and valences (e.g. 'CC(=O)O')")
    return raw


def wurcs(value: Any, ctx: ValueContext, name: str) -> str:
    """A WURCS 2.0 glycan string glypy can parse; stored in glypy's canonical writing."""
    import glypy.io.wurcs as glypy_wurcs

    raw = vocab.text(value, ctx, name)
    if not raw.startswith("WURCS="):
        raise FieldError("is not a WURCS string", "it starts with 'WURCS=2.0/'")
    try:
        glycan = glypy_wurcs.loads(raw)
        return str(glypy_wurcs.dumps(glycan))
    except Exception as err:  # glypy raises many error types for bad input
        raise FieldError(f"is not valid WURCS ({type(err).__name__}: {err})"[:200],
                         "copy the WURCS from GlyTouCan") from None


FIELDS = (
    Field("compound_name", required=True, missing_ok=False, group="Identity",
          aliases=("name", "compound", "compound name", "化合物名称"),
          description="Compound name.", example="abyssomicin C"),
    Field("smiles", smiles, group="Structure",
          aliases=("chem struct smiles", "chem_struct_smiles", "structure", "isomeric smiles"),
          description="SMILES; canonicalised by RDKit with its InChIKey.",
          example="CC(=O)Oc1ccccc1C(=O)O"),
    Field("wurcs", wurcs, group="Structure", aliases=("wurcs2", "glycan wurcs"),
          description="WURCS 2.0 for glycans (validated by glypy)."),
    Field("glycan_iupac", group="Structure",
          aliases=("glycan iupac condensed", "glycan_iupac_condensed", "iupac condensed"),
          description="IUPAC-condensed glycan text (kept as given)."),
    Field("source_organism", required=True, group="Source",
          aliases=("organism", "organism name", "producer", "species", "source", "来源生物"),
          description="Organism the compound comes from.", example="Verrucosispora maris"),
    Field("source_taxid", vocab.ncbi_taxid, group="Source", aliases=("ncbi tax id",
                                                                     "ncbi_tax_id"),
          description="NCBI taxid of the source organism."),
    Field("reference", group="Source", aliases=("doi", "pmid", "refs", "citation"),
          description="Publication (DOI or PubMed id)."),
    Field("compound_class", group="Identity", aliases=("biosyn class", "biosyn_class",
                                                       "class", "glycan type"),
          description="Chemical or biosynthetic class."),
    Field("substrate", group="Identity",
          description="Marine polysaccharide it belongs to (agar, alginate, carrageenan …)."),
    Field("activities", vocab.text_list, group="Identity", aliases=("chem acts", "chem_acts"),
          description="Reported activities."),
    Field("source_ids", vocab.text_list, group="Identifiers",
          aliases=("compound id", "cmnpd id", "mibig accession", "glytoucan id", "database ids",
                   "database_ids"),
          description="Identifiers in source databases (CMNPD…, BGC…, G…)."),
    *COMMON_FIELDS,
)


def derive(fields: Fields) -> list[Problem]:
    """Canonical SMILES, InChIKey, formula and mass from RDKit."""
    if "smiles" not in fields:
        fields.pop("canonical_smiles", None)
        fields.pop("inchikey", None)
        return []
    from rdkit import Chem, RDLogger
    from rdkit.Chem import Descriptors, rdMolDescriptors

    RDLogger.DisableLog("rdApp.*")  # type: ignore[attr-defined]
    mol = Chem.MolFromSmiles(fields["smiles"])
    fields["canonical_smiles"] = Chem.MolToSmiles(mol)
    key: str = Chem.MolToInchiKey(mol)  # type: ignore[no-untyped-call]
    if not key:
        return [Problem(reason="has no InChIKey (RDKit could not build an InChI)",
                        fix="check the structure", field="smiles", value=fields["smiles"])]
    fields["inchikey"] = key
    fields["formula"] = rdMolDescriptors.CalcMolFormula(mol)
    weight: float = Descriptors.MolWt(mol)  # type: ignore[attr-defined]
    fields["mol_weight"] = round(weight, 3)
    return []


def identifiers(fields: Fields) -> list[str]:
    return unique([*fields.get("source_ids", []), *fields.get("identifiers", [])])


def _needs_identity(fields: Fields) -> list[Problem]:
    if identifiers(fields):
        return []
    return [Problem(reason="needs a source identifier so re-imports update the same record",
                    fix="give source_ids (e.g. CMNPD12345, BGC0000001) or identifiers",
                    field="source_ids")]


SPEC = KindSpec(
    name="compound", prefix="LHCP", title="Compound", standard=STANDARD, fields=FIELDS,
    name_field="compound_name", identifiers=identifiers, derive=derive,
    checks=(require_one_of("smiles", "wurcs", "glycan_iupac"), _needs_identity),
    computed=("canonical_smiles", "inchikey", "formula", "mol_weight"),
    taxon_field="source_organism",
)
