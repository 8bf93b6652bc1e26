"""Assembly: isolate genome, MAG, SAG or metagenome, with MIxS MIGS/MIMAG/MISAG fields."""

from __future__ import annotations

from lanhai.errors import Problem
from lanhai.kinds import assembly_quality, vocab
from lanhai.kinds.fields import COMMON_FIELDS, Field, Fields, KindSpec, unique

STANDARD = "MIxS MIGS / MIMAG / MISAG"
ASSEMBLY_TYPES = ("isolate genome", "MAG", "SAG", "metagenome")
QUALITY = ("Finished genome", "High-quality draft genome", "Medium-quality draft genome",
           "Low-quality draft genome", "Genome fragment(s)")

FIELDS = (
    Field("assembly_name", required=True, missing_ok=False, group="Assembly",
          aliases=("name", "genome name", "mag", "mag id", "bin", "id", "组装名称"),
          description="Name of the assembly, unique in the bank.",
          example="TARA_ANW_MAG_00001"),
    Field("assembly_type", vocab.choice(ASSEMBLY_TYPES, {
        "isolate": "isolate genome", "genome": "isolate genome", "migs": "isolate genome",
        "metagenome-assembled genome": "MAG", "mimag": "MAG",
        "single amplified genome": "SAG", "misag": "SAG", "metagenome assembly": "metagenome",
        "mims": "metagenome"}),
          required=True, missing_ok=False, group="Assembly", aliases=("type", "package"),
          description="isolate genome, MAG, SAG or metagenome.", example="MAG"),
    Field("seq_meth", required=True, group="Sequencing",
          aliases=("sequencing method", "platform", "instrument"),
          description="Sequencing method (MIxS seq_meth).", example="Illumina HiSeq 2000"),
    Field("assembly_software", required=True, group="Assembly",
          aliases=("assembly method", "assembler", "assembly_method"),
          description="Tool and version (MIxS assembly_software).", example="SPAdes;3.15.5"),
    Field("assembly_qual", vocab.choice(QUALITY, {
        "finished": "Finished genome", "high quality": "High-quality draft genome",
        "hq": "High-quality draft genome", "medium quality": "Medium-quality draft genome",
        "mq": "Medium-quality draft genome", "low quality": "Low-quality draft genome",
        "lq": "Low-quality draft genome"}),
          group="Assembly", aliases=("assembly quality",), conditional=True,
          description="MIxS assembly_qual; required for MAGs and SAGs."),
    Field("compl_score", vocab.percentage, group="Quality",
          aliases=("completeness", "compl score", "checkm completeness"), conditional=True,
          description="Completeness %, required for MAGs and SAGs.", example="97.4"),
    Field("contam_score", vocab.percentage, group="Quality",
          aliases=("contamination", "contam score", "checkm contamination"), conditional=True,
          description="Contamination %, required for MAGs and SAGs.", example="1.2"),
    Field("compl_software", group="Quality", aliases=("completeness software",),
          description="Tool used for completeness (CheckM2 …)."),
    Field("binning_software", group="Quality", aliases=("binning tool", "binning_tool",
                                                       "binner"), conditional=True,
          description="Binning tool and version; required for MAGs."),
    Field("taxon_name", group="Taxonomy", aliases=("taxonomy", "organism", "gtdb taxonomy",
                                                   "species"),
          description="Taxon (lowest rank known)."),
    Field("taxid", vocab.ncbi_taxid, group="Taxonomy", description="NCBI Taxonomy id."),
    Field("insdc_accession", group="Identifiers",
          aliases=("assembly accession", "genbank accession", "gca", "erz"),
          description="INSDC assembly accession (GCA_…, ERZ…)."),
    Field("genome_size", vocab.integer, group="Statistics",
          aliases=("size", "total length", "genome length"), description="Total length, bp."),
    Field("contig_count", vocab.integer, group="Statistics",
          aliases=("contigs", "nr contigs", "nr_contigs", "number of contigs"),
          description="Number of contigs."),
    *assembly_quality.FIELDS,
    *COMMON_FIELDS,
)


def _mag_fields(fields: Fields) -> list[Problem]:
    kind = fields.get("assembly_type")
    needed: list[str] = []
    if kind in ("MAG", "SAG"):
        needed = ["assembly_qual", "compl_score", "contam_score"]
    if kind == "MAG":
        needed.append("binning_software")
    return [Problem(reason=f"is required for a {kind} by {STANDARD} but missing",
                    fix=f"add a column {name!r} (or the INSDC missing-value term "
                        "'not provided' when the source lacks it)", field=name)
            for name in needed if name not in fields]


def identifiers(fields: Fields) -> list[str]:
    return unique([fields.get("insdc_accession", ""), f"assembly:{fields.get('assembly_name')}",
                   *fields.get("identifiers", [])])


#: summary of the stored sequences, set by `lanhai ingest` / `lanhai annotate`
#: (lanhai.services.sequences), never by hand
SEQUENCE_SUMMARY = ("sequence_kind", "n50", "gc_percent", "largest_contig", "gene_count",
                    "protein_count", "sequence_contig_n50", "gap_count")

SPEC = KindSpec(
    name="assembly", prefix="LHAS", title="Assembly", standard=STANDARD, fields=FIELDS,
    name_field="assembly_name", identifiers=identifiers, checks=(_mag_fields,),
    taxon_field="taxon_name", computed=(*SEQUENCE_SUMMARY, *assembly_quality.COMPUTED),
    summary_fields=SEQUENCE_SUMMARY, derive=assembly_quality.derive,
)
