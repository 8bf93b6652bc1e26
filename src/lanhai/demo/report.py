"""What `lanhai demo` tells the person who ran it: what the bank holds, the lineage chains
the sources document, what is ready to try (sequence search, jobs, breeding, the deposit),
how to sign in as the demo curator, and which pages to open first.

Plain text, built from a :class:`~lanhai.demo.builder.DemoSummary` only (no bank access), so
it says the same on the first run and on any later one.
"""

from __future__ import annotations

from typing import Any

from lanhai.demo.builder import DemoSummary
from lanhai.demo.links import LINK_RULES
from lanhai.demo.sources import data_dir

#: highlight -> what its page shows (the order is the order printed)
PAGES: dict[str, str] = {
    "isolation_sample": "Delesseria sanguinea, the red alga the Zobellia strain came from",
    "zobellia_strain": "Zobellia galactanivorans DsijT, its lineage and proteome",
    "zobellia_proteome": "its proteins: CAZyme families, substrates, PULs",
    "agarase_part": "the beta-agarase agaA mined as a part (SBOL3)",
    "uncialamycin_strain": "Streptomyces uncialis DCA2648, producer of uncialamycin",
    "uncialamycin_region": "its uncialamycin gene cluster region: genes, domains, cluster",
    "uncialamycin": "uncialamycin, the compound of MIBiG BGC0001377",
    "producer_strain": "Salinispora tropica CNB-440T and its MIBiG compounds",
    "osd_merged_sample": "an Ocean Sampling Day sample two tables describe, merged",
    "deposit_curators_only": "the example patent deposit (signed-in curators only)",
    "market_demand": "an example demand in Chinese and the English offers it matches",
}


def _n(value: int) -> str:
    return f"{value:,}"


def _count(value: int, one: str, many: str) -> str:
    return f"{value:,} {one if value == 1 else many}"


def pages_to_open(url: str, summary: DemoSummary) -> dict[str, str]:
    """The pages worth opening first, with what each shows (label -> address)."""
    out = {"the dashboard": f"{url}/"}
    for key, what in PAGES.items():
        accession = summary.highlights.get(key)
        if accession:
            out[what] = f"{url}/records/{accession}"
    out["sequence search (an agarase as the example query)"] = \
        f"{url}/search/sequence?example=agab"
    out["every agar-degrading protein of the proteome"] = \
        f"{url}/search/families?substrate=agar"
    if summary.breeding:
        out["the wheat breeding data set"] = \
            f"{url}/breeding/datasets/{summary.breeding['dataset']}"
    if summary.screening:
        out["the marine library ranked by the antibacterial model"] = \
            f"{url}/screening/models/{summary.screening['model']}"
    if summary.design.get("coupled"):
        out["a growth-coupled strain design (anaerobic succinate in E. coli core)"] = \
            f"{url}/records/{summary.design['coupled']}"
    out["the demo curator's jobs (signed in)"] = f"{url}/jobs"
    out["the HTTP API, browsable"] = f"{url}/docs"
    return out


def _chain_lines(chain: dict[str, Any]) -> list[str]:
    def named(end: dict[str, str]) -> str:
        return f"{end['name']} ({end['accession']})"

    lines = []
    if chain["sample"]:
        lines.append(f"    {named(chain['sample'])}")
        lines.append(f"      --isolated_from--> {named(chain['strain'])}")
    else:
        lines.append(f"    {named(chain['strain'])} (no source names the sample it was "
                     "isolated from)")
    lines.append(f"      --sequenced_as--> {named(chain['assembly'])}")
    # genes the sources name (agaA, ucmE) before those known by their locus tag only
    genes = sorted(chain["genes"], key=lambda g: g["protein"].startswith(g["gene"]))
    listed = ", ".join(f"{g['gene']} {g['family']} ({g['part']})" for g in genes[:4])
    more = f" and {len(genes) - 4} more" if len(genes) > 4 else ""
    label = "documented gene" if len(genes) == 1 else "documented genes"
    lines.append(f"      --mined_from--> {len(genes)} {label}, protein and family from "
                 f"the annotation: {listed}{more}")
    for compound in chain["compounds"]:
        lines.append(f"      and the strain --produces--> {named(compound)}")
    return lines


def _sequence_lines(summary: DemoSummary) -> list[str]:
    annotated = {a["accession"]: a for a in (summary.annotation or {}).get("assemblies", [])}
    lines = []
    for item in summary.sequences:
        if item["kind"] == "proteome":
            stored = f"{_n(item['proteins'])} proteins"
        else:
            stored = f"{_count(item['contigs'], 'contig', 'contigs')}, {_n(item['bases'])} bp"
        done = annotated.get(item["accession"])
        if done is None:
            found = "not annotated (lanhai demo without --no-annotate does it)"
        else:
            counts = [("gene_count", "gene called", "genes called"),
                      ("hit_count", "family hit", "family hits"),
                      ("loci_count", "PUL", "PULs"),
                      ("cluster_count", "gene cluster", "gene clusters")]
            found = ", ".join(_count(done[key], one, many) for key, one, many in counts
                              if done.get(key))
        lines.append(f"    {item['accession']} {item['file'].rsplit('/', 1)[-1]}: "
                     f"{stored}; {found}")
    packs = (summary.annotation or {}).get("packs", [])
    if packs:
        lines.append("    profile packs: " + ", ".join(f"{p['name']} {p['version']}"
                                                        for p in packs))
    return lines


def summary_text(summary: DemoSummary, url: str, data: str) -> str:
    """The human summary of one `lanhai demo` run (``data``: LANHAI_DATA_DIR as given)."""
    out: list[str] = []
    say = out.append
    total = sum(summary.counts.values())
    say(f"Lanhai demo bank in {data} ({summary.database_url})")
    say(f"Real public records; where each file comes from: {data_dir() / 'PROVENANCE.md'}")
    say("")
    first = summary.created or summary.parts_created or summary.deposit_created
    say(f"Records: {_n(total)} ("
        + ("built now" if first else "already built: this run changed nothing") + ")")
    say("    " + " · ".join(f"{kind} {_n(count)}"
                            for kind, count in sorted(summary.counts.items())))
    say(f"    this run: {_n(summary.created)} created and {_n(summary.updated)} updated "
        f"from {len(summary.sources)} files, {summary.parts_created} parts mined, "
        f"{summary.links_created} links made")
    for s in summary.sources:
        if s.name == "osd2014_vliz" and s.matched and s.created == 0:
            say(f"    {s.rows} rows of {s.file} describe samples already imported from "
                "osd2014_osd_sample.tsv (same BioSample): merged, one record each")
    say("")
    if summary.chains:
        say("Lineage chains the sources document (each record's page shows its lineage):")
        for chain in summary.chains:
            out.extend(_chain_lines(chain))
        say("")
    by_rule: dict[str, int] = {}
    for link in summary.links:
        by_rule[link.rule] = by_rule.get(link.rule, 0) + 1
    say(f"Links: {len(summary.links)}, each made by a documented rule")
    for rule, count in by_rule.items():
        rel, why = LINK_RULES[rule]
        say(f"    {count:>3} {rel:<13} {why}")
    say("")
    if summary.sequences:
        say("Sequences, stored and annotated:")
        out.extend(_sequence_lines(summary))
        proteins = summary.index.get("proteins", {})
        contigs = summary.index.get("contigs", {})
        if proteins.get("sequences"):
            say(f"Sequence search is ready: {_n(proteins['sequences'])} proteins and "
                f"{_count(contigs.get('sequences', 0), 'contig', 'contigs')} indexed"
                + ("" if proteins.get("up_to_date") else " (the index is not up to date)")
                + f"; try `LANHAI_DATA_DIR={data} lanhai search seq QUERY.faa`")
        say("")
    if summary.jobs:
        say(f"Finished jobs of {summary.curator} (sign in to see them on the jobs page):")
        for job in summary.jobs:
            say(f"    {job['what']}: {job['status']} ({job['kind']}, {job['id']})")
    if summary.breeding:
        b = summary.breeding
        say(f"Breeding data set {b['dataset']}: {b['title']}; "
            f"{_n(b['counts']['genotyped_animals'])} lines genotyped, "
            f"traits {', '.join(b['counts']['traits'])}")
    if summary.market:
        offers = _count(len(summary.market["offers"]), "example offer", "example offers")
        say(f"Technology market: {offers} drawn from the mined Zobellia parts (each part is the "
            "evidence behind its offer) and one example demand in Chinese; no organisation "
            f"offers or seeks them. Try `LANHAI_DATA_DIR={data} lanhai market match "
            f"{summary.market['demand']}`")
    deposit = summary.highlights.get("deposit_curators_only")
    if deposit:
        say(f"Patent deposit {deposit}: an example record, not a real deposit. It is held "
            f"(confidential), so anonymous visitors and readers never see it or count it; "
            f"{summary.curator} does.")
    say("")
    say(f"Sign in as {summary.curator} (a curator"
        + (", created now" if summary.curator_created else "") + "; it has no password "
        "until you give it one):")
    say(f"    on the pages: echo 'a-long-password' | LANHAI_DATA_DIR={data} "
        f"lanhai users set {summary.curator} --password-stdin")
    say(f"    for the API:  LANHAI_DATA_DIR={data} lanhai tokens create {summary.curator}")
    say("")
    say("Open:")
    pages = pages_to_open(url, summary)
    width = max(len(what) for what in pages)
    for what, address in pages.items():
        say(f"    {what:<{width}}  {address}")
    return "\n".join(out)


__all__ = ["PAGES", "pages_to_open", "summary_text"]
