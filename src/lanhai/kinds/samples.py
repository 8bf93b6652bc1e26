"""Sample: MIxS 7 core checklist plus the water/sediment extension (depth required)."""

from __future__ import annotations

from typing import Any

from lanhai.errors import Problem
from lanhai.kinds import vocab
from lanhai.kinds.fields import COMMON_FIELDS, Field, Fields, KindSpec, known, unique

MIXS = "MIxS 7 (core + water/sediment)"

FIELDS = (
    Field("samp_name", required=True, missing_ok=False, group="MIxS core",
          aliases=("sample name", "sample_name", "sample id", "sampleid", "sample alias",
                   "sample_alias", "sample label", "样品名称"),
          description="Sample name, unique within its project (MIxS samp_name).",
          example="OSD186_2014-06-21_2.4m_NPL022"),
    Field("project_name", required=True, group="MIxS core",
          aliases=("project", "project name", "investigation", "项目名称"),
          description="Project the sample belongs to (MIxS project_name).", example="Tara Oceans"),
    Field("samp_taxon_id", vocab.ncbi_taxid, required=True, group="MIxS core",
          aliases=("taxon id", "ncbi taxid", "taxid", "organism taxid"),
          description="NCBI taxid of the sample (metagenome) taxon (MIxS samp_taxon_id).",
          example="408172 (marine metagenome)"),
    Field("collection_date", vocab.partial_date, required=True, group="MIxS core",
          aliases=("date", "collection date", "event date", "datetime", "date/time",
                   "collection_datetime", "event date/time start", "采样日期"),
          description="When the sample was taken, ISO 8601; partial dates allowed.",
          example="2014-06-21T17:04"),
    Field("geo_loc_name", required=True, group="MIxS core",
          aliases=("geographic location", "geo loc name", "country", "地理位置"),
          description="INSDC 'country: region' (MIxS geo_loc_name).",
          example="Atlantic Ocean: Sargasso Sea"),
    Field("lat_lon", vocab.lat_lon, required=True, group="MIxS core",
          aliases=("lat lon", "latitude longitude", "coordinates"),
          description="Latitude and longitude in decimal degrees (MIxS lat_lon).",
          example="31.66 -64.16"),
    Field("env_broad_scale", vocab.envo_term, required=True, group="MIxS core",
          aliases=("broad-scale environmental context", "env biome", "env_biome", "biome"),
          description="Broad-scale environmental context, an ENVO biome.",
          example="marine biome [ENVO:00000447]"),
    Field("env_local_scale", vocab.envo_term, required=True, group="MIxS core",
          aliases=("local environmental context", "env feature", "env_feature", "feature"),
          description="Local environmental context, an ENVO term.",
          example="ocean [ENVO:00000015]"),
    Field("env_medium", vocab.envo_term, required=True, group="MIxS core",
          aliases=("environmental medium", "env material", "env_material", "material"),
          description="Environmental medium, an ENVO material.",
          example="sea water [ENVO:00002149]"),
    Field("depth", vocab.depth, required=True, group="Water / sediment",
          aliases=("depth m", "depth (m)", "sampling depth", "深度"),
          description="Depth below the surface, normalised to metres; ranges allowed.",
          example="25 m"),
    Field("biosample", vocab.biosample, group="Identifiers",
          aliases=("biosample accession", "sample label biosample", "archiveid biosample",
                   "biosampleaccessionnumber"),
          description="INSDC BioSample accession.", example="SAMEA2620084"),
    Field("insdc_sample", group="Identifiers",
          aliases=("ena sample", "sra sample", "sample label ena", "sampleid ena",
                   "archiveid sraaccession", "sra", "sample accession"),
          description="ENA/SRA sample accession (ERS…, SRS…)."),
    Field("tot_depth_water_col", vocab.depth, group="Water / sediment",
          aliases=("total depth water column", "total depth"),
          description="Depth of the water column at the site, metres."),
    Field("temp", vocab.number, group="Water / sediment", aliases=("temperature", "水温"),
          description="Water temperature, °C."),
    Field("salinity", vocab.number, group="Water / sediment", aliases=("sal", "盐度"),
          description="Salinity, PSU."),
    Field("samp_collect_device", group="Sampling",
          aliases=("sample collection device", "device"),
          description="Device used to take the sample."),
    Field("size_frac", group="Sampling", aliases=("size fraction",),
          description="Filter size fraction, e.g. '0.22-1.6 µm'."),
    Field("isolation_source", group="Sampling", aliases=("isolation-source", "isolation source"),
          description="What the sample was taken from, in words."),
    *COMMON_FIELDS,
)


def identifiers(fields: Fields) -> list[str]:
    """BioSample / INSDC accessions, and project + sample name."""
    ids = [fields.get("biosample", ""), fields.get("insdc_sample", "")]
    ids.append(f"{fields.get('project_name', '')}:{fields.get('samp_name', '')}")
    ids.extend(fields.get("identifiers", []))
    return unique(ids)


def derive(fields: Fields) -> list[Problem]:
    for name in ("latitude", "longitude", "depth_m"):
        fields.pop(name, None)
    if known(fields, "lat_lon"):
        fields["latitude"], fields["longitude"] = fields["lat_lon"]
    if known(fields, "depth"):
        fields["depth_m"] = fields["depth"][0]
    return []


def _depth_within_water_column(fields: Fields) -> list[Problem]:
    problems: list[Problem] = []
    tot: Any = fields.get("tot_depth_water_col")
    if tot and known(fields, "depth") and fields["depth"][0] > tot[1] + 1:
        problems.append(Problem(reason="is deeper than the water column at the site",
                                fix="check depth and tot_depth_water_col units", field="depth",
                                value=str(fields["depth"])))
    return problems


SPEC = KindSpec(
    name="sample", prefix="LHSM", title="Sample", standard=MIXS, fields=FIELDS,
    name_field="samp_name", identifiers=identifiers, derive=derive,
    checks=(_depth_within_water_column,),
    computed=("latitude", "longitude", "depth_m"),
)
