"""Annotation steps after gene calling, run per assembly (in a worker process).

1. ``annotation``: hmmsearch of the proteins against the profile packs
   (:mod:`lanhai.sequence.hmm`) → ``hits.parquet``; substrate summary; polysaccharide
   utilisation loci (:mod:`lanhai.sequence.loci`) → ``loci.parquet``; marker
   ``annotation.done.json`` keyed by the input's SHA-256, the packs' names and versions and
   the loci gene distance.
2. ``clusters``: biosynthetic gene clusters with GECCO (:mod:`lanhai.sequence.clusters`) on
   the contigs of a genome → ``clusters.parquet``; marker ``clusters.done.json``
   (:func:`find_assembly_clusters`).

Each step writes to a staging folder, moves its files into ``annotation/`` and writes its
marker last: an interrupted step leaves no marker, its tables are not readable, and the next
run redoes that step only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

from lanhai.profiles import pressed
from lanhai.profiles.pack import Pack
from lanhai.sequence import hmm
from lanhai.sequence.loci import CAZYME, MAX_GAP, SULFATASE, Annotation, Gene, find_puls, role_of
from lanhai.sequence.reader import PROTEOME
from lanhai.store.sequences import CLUSTERS as CLUSTER_TABLE
from lanhai.store.sequences import GECCO_DOMAINS, HITS, LOCI, SequenceStore

#: bump when the annotation logic changes so that stored results are redone
LOGIC_VERSION = 1
ANNOTATION, CLUSTERS = "annotation", "clusters"
GENE_ORDER_PROTEOME = ("proteome: no coordinates; gene order is the order of the proteins in "
                       "the input file, all on one pseudo-contig")


def pack_digest(pack: Pack) -> str:
    """A short digest of what decides a pack's hits and their meaning (cut-off rule,
    thresholds, family substrates and roles, HMM file size), so that a pack rebuilt under the
    same version still makes the step run again."""
    try:
        size = Path(pack.path).stat().st_size
    except OSError:
        size = -1
    described = {"cutoff": pack.cutoff, "evalue": pack.evalue,
                 "thresholds": dict(sorted(pack.thresholds.items())),
                 "families": {n: [list(f.substrates), f.role]
                              for n, f in sorted(pack.families.items())}, "size": size}
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:16]


def pack_key(packs: Sequence[Pack], max_gap: int) -> dict[str, Any]:
    """What makes stored hits and loci current, besides the input sequences."""
    return {"packs": sorted([{"name": p.name, "version": p.version, "digest": pack_digest(p)}
                             for p in packs], key=lambda p: p["name"]),
            "max_gap": max_gap, "logic": LOGIC_VERSION}


def annotation_current(marker: Mapping[str, Any] | None, packs: Sequence[Pack],
                       max_gap: int) -> bool:
    if marker is None:
        return False
    key = pack_key(packs, max_gap)
    return all(marker.get(name) == value for name, value in key.items())


def protein_count(store: SequenceStore, accession: str) -> int:
    """How many proteins the assembly has (given, or from its called genes)."""
    count = store.count_rows(accession, "proteins")
    if count is None:
        raise FileNotFoundError(f"{accession} has no proteins (genes not called yet)")
    return count


def _proteins(store: SequenceStore, accession: str) -> Iterator[tuple[str, str]]:
    for row in store.iter_rows(accession, "proteins", columns=["id", "sequence"]):
        yield row["id"], row["sequence"]


def _genes(store: SequenceStore, accession: str, proteome: bool) -> Iterator[Gene]:
    if proteome:
        for row in store.iter_rows(accession, "proteins", columns=["id"]):
            yield Gene(row["id"], "")
        return
    for row in store.iter_rows(accession, "genes",
                               columns=["protein_id", "contig", "start", "end", "strand"]):
        yield Gene(row["protein_id"], row["contig"], row["start"], row["end"], row["strand"])


def annotate_families(root: str, accession: str, packs: Sequence[Pack], threads: int,
                      max_gap: int = MAX_GAP, batch_size: int = hmm.BATCH_SIZE
                      ) -> dict[str, Any]:
    """Search the assembly's proteins against ``packs``; store hits and loci; return the
    marker (written last)."""
    store = SequenceStore.at(root)
    manifest = store.manifest(accession)
    if manifest is None:
        raise FileNotFoundError(f"{accession} has no sequences")
    proteome = manifest["kind"] == PROTEOME
    total = protein_count(store, accession)
    cache = pressed.cache_folder(store.profiles_folder())
    loaded = [hmm.load_pack(pack, cache=cache) for pack in packs]
    roles = {p.name: {name: f.role for name, f in p.families.items()} for p in packs}
    annotations: dict[str, Annotation] = {}
    #: category -> substrate -> family -> proteins
    summary: dict[str, dict[str, dict[str, int]]] = {}
    hit_count = 0
    with_hits = 0
    skipped: list[str] = []
    shared = any(pack.gecco_size for pack in loaded)
    with store.stage_step(accession, ANNOTATION) as staged:
        table = staged.table("hits", HITS)
        domains = staged.table("gecco_domains", GECCO_DOMAINS) if shared else None
        last: str | None = None
        seen: set[tuple[str, str, str]] = set()
        for rows, gecco_rows in hmm.search(loaded, _proteins(store, accession), total=total,
                                           threads=threads, batch_size=batch_size,
                                           skipped=skipped):
            if domains is not None:
                for domain in gecco_rows:
                    domains.add(domain)
            for row in rows:
                table.add(row)
                hit_count += 1
                protein = row["protein_id"]
                if protein != last:
                    last, seen = protein, set()
                    with_hits += 1
                for substrate in row["substrates"]:
                    key = (row["category"], substrate, row["family"])
                    if key not in seen:  # one protein counts once per family
                        seen.add(key)
                        families = summary.setdefault(row["category"], {}).setdefault(
                            substrate, {})
                        families[row["family"]] = families.get(row["family"], 0) + 1
                role = role_of(row["family"], row["category"],
                               roles.get(row["pack"], {}).get(row["family"]))
                if role is not None:
                    found = annotations.setdefault(protein, Annotation())
                    found.roles.add(role)
                    if role in (CAZYME, SULFATASE):
                        found.families[row["family"]] = tuple(row["substrates"])
        loci = find_puls(_genes(store, accession, proteome), annotations, max_gap=max_gap)
        loci_table = staged.table("loci", LOCI)
        for locus in loci:
            loci_table.add(locus)
        staged.commit_into(store.annotation_folder(accession))
    if not shared:  # no longer current: an earlier run's, with GECCO's Pfam pack
        (store.annotation_folder(accession) / "gecco_domains.parquet").unlink(missing_ok=True)
    marker = {
        "input_sha256": manifest["sha256"], **pack_key(packs, max_gap),
        "protein_count": total, "hit_count": hit_count, "proteins_with_hits": with_hits,
        "substrates": _sorted_summary(summary.get("cazy", {})),
        "plastics": _sorted_summary(summary.get("plastics", {})),
        "loci_count": len(loci), "gecco_domains": shared,
        "gene_order": GENE_ORDER_PROTEOME if proteome else "genes in contig order",
        "warnings": [w for pack in loaded for w in pack.warnings] + ([
            f"{len(skipped)} protein(s) longer than {hmm.MAX_LENGTH:,} residues (pyhmmer's "
            f"limit) were not searched: {', '.join(skipped[:10])}"
            + (" …" if len(skipped) > 10 else "")] if skipped else []),
        "tool": f"pyhmmer {version('pyhmmer')}",
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    store.mark_step_done(accession, ANNOTATION, marker)
    return marker


def _sorted_summary(summary: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, int]]:
    """substrate -> {family: proteins}, families by count (most first) then name."""
    return {substrate: dict(sorted(families.items(), key=lambda kv: (-kv[1], kv[0])))
            for substrate, families in sorted(summary.items())}


def substrate_line(substrate: str, families: Mapping[str, int]) -> str:
    """'agar: 14 GH16, 3 GH86'."""
    return f"{substrate}: " + ", ".join(f"{n} {family}" for family, n in families.items())


def find_assembly_clusters(root: str, accession: str, threads: int) -> dict[str, Any]:
    """Find the gene clusters of one gene-called genome with GECCO
    (:mod:`lanhai.sequence.clusters`), store them, return the marker (written last)."""
    from lanhai.sequence.clusters import GeccoModels, batches, gecco_genes, predict

    store = SequenceStore.at(root)
    manifest = store.manifest(accession)
    if manifest is None or store.table_path(accession, "genes") is None:
        raise FileNotFoundError(f"{accession} has no called genes")
    models = GeccoModels()
    proteins = store.iter_rows(accession, "proteins", columns=["sequence"])
    genes = ({**gene, "protein": protein["sequence"]} for gene, protein in zip(
        store.iter_rows(accession, "genes", columns=["contig", "protein_id", "start", "end",
                                                      "strand"]), proteins, strict=True))
    count = 0
    types: dict[str, int] = {}
    annotation = store.step_done(accession, "annotation")
    reuse = bool(annotation and annotation.get("gecco_domains")
                 and store.table_path(accession, "gecco_domains") is not None)
    found = store.iter_rows(accession, "gecco_domains") if reuse else iter(())
    pending = next(found, None)
    with store.stage_step(accession, "clusters") as staged:
        table = staged.table("clusters", CLUSTER_TABLE)
        for batch in batches(store.iter_sequences(accession), genes):
            gecco = [g for contig, seq, rows in batch for g in gecco_genes(contig, seq, rows)]
            domains: dict[str, list[dict[str, Any]]] | None = None
            if reuse:  # the domains come in gene order, as the genes do: merge the streams
                domains = {}
                ids = {g.protein.id for g in gecco}
                while pending is not None and pending["protein_id"] in ids:
                    domains.setdefault(pending["protein_id"], []).append(pending)
                    pending = next(found, None)
            for row in predict(models, gecco, threads, domains):
                table.add(row)
                count += 1
                types[row["type"]] = types.get(row["type"], 0) + 1
        staged.commit_into(store.annotation_folder(accession))
    marker = {"input_sha256": manifest["sha256"], "cluster_count": count,
              "types": dict(sorted(types.items())), "tool": f"gecco {version('gecco')}",
              "genes": "Lanhai's pyrodigal genes (not GECCO's own ORF finder)",
              "domains": ("GECCO's Pfam domains from the family step's search of the same HMMs"
                          if reuse else "GECCO's own search of its Pfam HMMs"),
              "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    store.mark_step_done(accession, "clusters", marker)
    return marker
