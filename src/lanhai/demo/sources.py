"""The demo's sources: which shipped data file is imported with which shipped mapping.

Every entry names a file under ``lanhai/demo/data`` (a small cut of a real public table, or
a record written from the public sources it names; see ``data/PROVENANCE.md``) and a
mapping under ``lanhai/mappings`` (none when the file's headers are Lanhai's fields). The
demo imports them in this order; the OSD tables come one after the other so the second
merges into the samples the first created. The sequences, documented genes and breeding
data the demo also ships are named at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

#: NCBI Taxonomy id of 'marine metagenome', the organism of seawater metagenome samples
MARINE_METAGENOME = 408172


@dataclass(frozen=True)
class DemoSource:
    """One shipped file and the mapping that imports it."""

    name: str
    kind: str
    #: file under lanhai/demo/data
    file: str
    #: mapping under lanhai/mappings, or None for a file whose headers are Lanhai fields
    mapping: str | None
    #: constants added on top of the mapping for this cut only (like `--set`)
    constants: dict[str, str] = field(default_factory=dict)
    #: one line for the summary: what the file is
    title: str = ""


DEMO_SOURCES: tuple[DemoSource, ...] = (
    DemoSource("osd2014_samples", "sample", "samples/osd2014_osd_sample.tsv",
               "osd2014_osd_sample.toml",
               title="Ocean Sampling Day 2014 (planet-microbe osd_sample.tsv), seawater rows"),
    DemoSource("osd2014_vliz", "sample", "samples/osd2014_vliz_OSD14Data.csv",
               "osd2014_vliz_OSD14Data.toml",
               title="OSD 2014 as reformatted by VLIZ: the same BioSamples, merged by upsert"),
    DemoSource("tara_apy", "sample", "samples/tara_oceans_APY_sample_NCBI.tsv",
               "tara_oceans_sample_NCBI.toml",
               title="Tara Oceans prokaryote-fraction samples (PRJEB1787)"),
    DemoSource("gos_2009_10", "sample", "samples/gos_2009-10_samples_NCBI.tsv",
               "gos_2009-10_samples_NCBI.toml",
               title="Global Ocean Sampling 2009-10 (Beyster), seawater rows"),
    DemoSource("bats", "sample", "samples/bats_chisholm_NCBI_samples.tsv",
               "bats_chisholm_NCBI_samples.toml",
               title="Bermuda Atlantic Time-series Study, 2003-04 and 2009 (PRJNA385855)"),
    DemoSource("malaspina", "sample", "samples/malaspina_MAL_patch2.csv",
               "malaspina_MAL_patch2.toml",
               title="Malaspina 2010 vertical profiles (PRJEB52452), one run per BioSample"),
    DemoSource("ijsem_marine", "strain", "strains/ijsem_marine_type_strains.csv",
               "ijsem_type_strains.toml", constants={"marine": "yes"},
               title="IJSEM type strains from seawater and marine sediment"),
    DemoSource("ijsem_producers", "strain", "strains/ijsem_mibig_producers.csv",
               "ijsem_type_strains.toml",
               title="IJSEM type strains that MIBiG names as producers"),
    DemoSource("zobellia", "strain", "strains/zobellia_galactanivorans_DsijT.csv", None,
               constants={"marine": "yes"},
               title="Zobellia galactanivorans DsijT, the type strain (Barbeyron et al. 2001)"),
    DemoSource("zobellia_isolation", "sample",
               "samples/zobellia_galactanivorans_DsijT_isolation.csv", None,
               title="Delesseria sanguinea at Roscoff, where Zobellia galactanivorans DsijT "
                     "was isolated"),
    DemoSource("streptomyces_uncialis", "strain", "strains/streptomyces_uncialis_DCA2648.csv",
               None, title="Streptomyces uncialis DCA2648, named by MIBiG BGC0001377"),
    DemoSource("tara_mags", "assembly", "assemblies/tara_delmont2018_MAG_taxonomy.csv",
               "tara_delmont2018_mags.toml",
               title="Tara Oceans MAGs, Delmont et al. 2018 (taxonomy only)"),
    DemoSource("zobellia_proteome", "assembly",
               "assemblies/zobellia_galactanivorans_DsijT_proteome.csv", None,
               title="Zobellia galactanivorans DsijT proteome (Wolter et al. 2021)"),
    DemoSource("uncialamycin_region", "assembly",
               "assemblies/streptomyces_uncialis_DCA2648_BGC0001377.csv", None,
               title="The uncialamycin gene cluster region of S. uncialis DCA2648 (GenBank)"),
    DemoSource("mibig", "compound", "compounds/mibig_marine_compounds.tsv",
               "mibig_compounds.toml",
               title="MIBiG compounds of marine producers (Salinispora, Pseudoalteromonas …)"),
    DemoSource("mibig_uncialamycin", "compound", "compounds/mibig_BGC0001377_uncialamycin.tsv",
               "mibig_compounds.toml",
               title="Uncialamycin, the compound of MIBiG gene cluster BGC0001377"),
    DemoSource("cmnpd", "compound", "compounds/cmnpd_bacteria_after2000.tsv",
               "cmnpd_bacteria.toml", title="CMNPD marine bacterial natural products"),
    DemoSource("glycans", "compound", "compounds/glycowork_marine_glycans.tsv",
               "glycowork_marine_glycans.toml",
               title="Marine glycans from glycowork with GlyTouCan ids"),
    DemoSource("igem_parts", "part", "parts/igem_anderson_promoters_rbs.csv",
               "igem_parts_sbol3.toml",
               title="iGEM Anderson promoters and RBS collection (from SBOL3)"),
    DemoSource("vavilov3", "germplasm", "germplasm/vavilov3_accessions_2019_09_04.xlsx",
               "vavilov3_mcpd.toml",
               title="MCPD accessions (tomato; a format example, not aquatic)"),
)

#: an example patent deposit (one row, headers are Lanhai's fields), created once: deposits
#: are confidential, so the record is held (random accession) and only curators see it
DEMO_DEPOSIT = "deposits/example_patent_deposit.csv"


def data_dir() -> Path:
    """Folder holding the shipped demo files."""
    return Path(str(resources.files("lanhai.demo").joinpath("data")))


def mappings_dir() -> Path:
    """Folder holding the shipped example mappings."""
    return Path(str(resources.files("lanhai").joinpath("mappings")))


def source_path(source: DemoSource) -> Path:
    return data_dir() / source.file


def mapping_path(source: DemoSource) -> Path | None:
    return mappings_dir() / source.mapping if source.mapping else None


@dataclass(frozen=True)
class DemoSequences:
    """A shipped sequence file and the assembly record that holds it."""

    #: assembly_name of the record (imported from the assembly sources above)
    assembly: str
    #: file under lanhai/demo/data
    file: str
    #: 'proteome' (proteins given) or 'genome' (contigs; genes are called)
    kind: str


ZOBELLIA_PROTEOME = "Zobellia galactanivorans DsijT proteome (Wolter et al. 2021)"
UNCIALAMYCIN_REGION = ("Streptomyces uncialis DCA2648 uncialamycin cluster region "
                       "(MIBiG BGC0001377)")
#: the sequences the demo ingests, annotates and indexes for sequence search
DEMO_SEQUENCES: tuple[DemoSequences, ...] = (
    DemoSequences(ZOBELLIA_PROTEOME, "sequences/Zobellia_galactanivorans_DsiJ.faa.gz",
                  "proteome"),
    DemoSequences(UNCIALAMYCIN_REGION, "sequences/BGC0001377.gbk.gz", "genome"),
)
#: (assembly name, shipped protein FASTA): the proteomes among them
DEMO_PROTEOMES: tuple[tuple[str, str], ...] = tuple(
    (s.assembly, s.file) for s in DEMO_SEQUENCES if s.kind == "proteome")

#: the documented genes of the shipped sequences (see data/PROVENANCE.md)
DBCAN_PUL_CAZYMES = "genes/zobellia_dbcan_pul_cazymes.tsv"
CHARACTERISED_PUL_GENES = "genes/zobellia_characterized_pul_genes.tsv"
#: the MIBiG gene cluster shipped as a GenBank record, and its accession
MIBIG_CLUSTER_FILE = "sequences/BGC0001377.gbk.gz"
MIBIG_CLUSTER = "BGC0001377"


@dataclass(frozen=True)
class DemoBreeding:
    """A shipped breeding data set: genotypes and phenotypes of the same lines."""

    name: str
    genotypes: str
    phenotypes: str
    title: str


#: Crossa et al. 2010 (Genetics 186:713), CIMMYT wheat, as distributed with BGLR
WHEAT = DemoBreeding(
    "wheat-crossa2010", "breeding/wheat_markers.tsv.gz", "breeding/wheat_phenotypes.tsv",
    "CIMMYT wheat: 599 lines, 1,279 DArT markers, grain yield in 4 environments "
    "(Crossa et al. 2010)")
