"""Biosynthetic gene clusters with the GECCO library (Carroll et al. 2021), on our genes.

What ``gecco run`` does, through GECCO's Python API, except the ORF finder: the genes already
called by :mod:`lanhai.sequence.genes` (single mode for isolates, metagenomic mode otherwise)
are given to GECCO instead of calling genes again (``gecco run`` calls genes in metagenomic
mode, so on an isolate genome a few genes, and therefore clusters, may differ). Then, with
GECCO's defaults: domain annotation with its embedded Pfam subset (pyhmmer, the HMMs its CRF
uses, p-value < 1e-9), CRF probabilities (padded), cluster extraction (threshold 0.8,
criterion ``gecco``, at least 3 annotated CDS, edge trimming) and type classification.

Contigs are processed in batches of about :data:`BATCH_GENES` genes, so memory holds a batch,
not a metagenome.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

BATCH_GENES = 5000
#: GECCO's `gecco run` defaults
P_FILTER = 1e-9
THRESHOLD = 0.8
MIN_CDS = 3


class GeccoModels:
    """GECCO's trained CRF, type classifier and embedded HMMs, loaded once."""

    def __init__(self) -> None:
        from gecco.crf import ClusterCRF
        from gecco.hmmer import embedded_hmms
        from gecco.types import TypeClassifier

        self.crf = ClusterCRF.trained()
        self.classifier = TypeClassifier.trained()
        self.whitelist = set(self.classifier.model.attributes_)
        self.hmms = list(embedded_hmms())


def gecco_genes(contig: str, sequence: str, genes: Sequence[dict[str, Any]]) -> list[Any]:
    """GECCO Gene objects for one contig's genes (rows of the genes table)."""
    from Bio.Seq import Seq
    from Bio.SeqRecord import SeqRecord
    from gecco.model import Gene, Protein, Strand

    from lanhai.sequence.hmm import MAX_LENGTH

    source = SeqRecord(Seq(sequence), id=contig, name=contig)
    return [Gene(source=source, start=int(g["start"]), end=int(g["end"]),
                 strand=Strand.Coding if g["strand"] == 1 else Strand.Reverse,
                 protein=Protein(g["protein_id"], Seq(g["protein"])))
            for g in genes if len(g["protein"]) <= MAX_LENGTH]  # pyhmmer's limit


def with_domains(genes: list[Any], domains: Mapping[str, Sequence[Mapping[str, Any]]],
                 hmm_id: str = "Pfam") -> list[Any]:
    """GECCO genes carrying the given Pfam domains (rows of ``gecco_domains``), as GECCO's
    own PyHMMER annotator would attach them (with InterPro GO terms)."""
    from gecco.interpro import InterPro
    from gecco.model import Domain

    interpro = InterPro.load()
    for gene in genes:
        for row in domains.get(gene.protein.id, ()):
            entry = interpro.by_accession.get(row["name"])
            gene.protein.domains.append(Domain(
                row["name"], int(row["start"]), int(row["end"]), hmm_id,
                float(row["i_evalue"]), float(row["pvalue"]),
                go_terms=entry.go_terms if entry else [],
                go_functions=entry.go_functions if entry else []))
    return genes


def predict(models: GeccoModels, genes: list[Any], threads: int = 1,
            domains: Mapping[str, Sequence[Mapping[str, Any]]] | None = None
            ) -> list[dict[str, Any]]:
    """Clusters among GECCO genes (several contigs, each contiguous, in order); ``domains``
    (protein id -> GECCO's Pfam domains, already searched) spares GECCO's own search."""
    import itertools

    from gecco.hmmer import PyHMMER
    from gecco.refine import ClusterRefiner

    if not genes:
        return []
    if domains is not None:
        genes = with_domains(genes, domains)
    else:
        for hmm in models.hmms:
            genes = PyHMMER(hmm, threads, models.whitelist).run(genes)
    keep = [g.with_protein(g.protein.with_domains([d for d in g.protein.domains
                                                   if d.pvalue < P_FILTER]))
            for g in genes]
    for gene in keep:
        gene.protein.domains.sort(key=lambda d: (d.start, d.end))
    order = {g.source.id: n for n, g in enumerate(genes)}
    keep.sort(key=lambda g: (order[g.source.id], g.start, g.end))
    probable = models.crf.predict_probabilities(keep, pad=True)
    refiner = ClusterRefiner(threshold=THRESHOLD, criterion="gecco", n_cds=MIN_CDS,
                             edge_distance=0, trim=True)
    found = []
    for _, group in itertools.groupby(probable, key=lambda g: g.source.id):
        found.extend(refiner.iter_clusters(list(group)))
    if found and len(models.classifier.classes_) > 1:
        found = list(models.classifier.predict_types(found))
    return [_row(cluster) for cluster in found]


def _row(cluster: Any) -> dict[str, Any]:
    names = list(cluster.type.names) if cluster.type and cluster.type.names else []
    domains: dict[str, None] = {}
    for gene in cluster.genes:
        for domain in gene.protein.domains:
            domains.setdefault(domain.name, None)
    probabilities = {k: round(float(v), 4) for k, v in
                     sorted(cluster.type_probabilities.items())}
    return {"cluster_id": cluster.id, "contig": cluster.source.id,
            "start": int(cluster.start), "end": int(cluster.end),
            "type": "/".join(sorted(names)) or "Unknown",
            "type_probabilities": json.dumps(probabilities),
            "average_probability": round(float(cluster.average_probability or 0), 4),
            "max_probability": round(float(cluster.maximum_probability or 0), 4),
            "proteins": [g.protein.id for g in cluster.genes], "domains": list(domains)}


def batches(contigs: Iterable[tuple[str, str]], genes: Iterable[dict[str, Any]],
            size: int = BATCH_GENES) -> Iterator[list[tuple[str, str, list[dict[str, Any]]]]]:
    """(contig, sequence, its genes) grouped in batches of about ``size`` genes; ``genes``
    come in contig order (as stored), contigs in input order."""
    gene_iter = iter(genes)
    pending = next(gene_iter, None)
    batch: list[tuple[str, str, list[dict[str, Any]]]] = []
    count = 0
    for contig, sequence in contigs:
        found: list[dict[str, Any]] = []
        while pending is not None and pending["contig"] == contig:
            found.append(pending)
            pending = next(gene_iter, None)
        if not found:
            continue
        batch.append((contig, sequence, found))
        count += len(found)
        if count >= size:
            yield batch
            batch, count = [], 0
    if batch:
        yield batch
