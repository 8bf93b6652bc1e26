"""Family search: every protein that hits a family, or a user's HMM, across the bank.

Annotation hits are read with DuckDB from the stored hit tables of the assemblies that pass
the catalogue filters (:mod:`lanhai.store.hits`); each hit is joined with its assembly's
lineage context (strain, sample, depth, place, date, who may receive the strain) taken from
the catalogue as the caller may see it. A user-supplied HMM is searched on the fly with
pyhmmer over the stored proteins of the same assemblies.
"""

from __future__ import annotations

import io
import math
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from lanhai.errors import Problem, ValidationFailed
from lanhai.limits import GZIP_MAGIC, Limits, gunzip
from lanhai.search.filters import LINEAGE_DEPTH, CatalogFilters, FamilyQuery, check_named
from lanhai.services.access import Actor
from lanhai.store import hits as hit_store
from lanhai.store import links as link_store
from lanhai.store.database import Database
from lanhai.store.sequences import SequenceStore

Progress = Callable[[int, int], None]

#: the columns a family hit carries, in output order
COLUMNS = ("assembly", "protein_id", "family", "family_accession", "pack", "category",
           "description", "evalue", "score", "ali_from", "ali_to", "hmm_from", "hmm_to",
           "coverage", "substrates", "assembly_name", "strain", "strain_name", "availability",
           "sample", "taxon", "depth_m", "latitude", "longitude", "event_date")


@dataclass
class FamilyResult:
    """Hits (dicts with :data:`COLUMNS`), how many there are in all, what was searched."""

    hits: list[dict[str, Any]]
    total: int
    assemblies_searched: int
    proteins_searched: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.total, "returned": len(self.hits),
                "assemblies_searched": self.assemblies_searched,
                "proteins_searched": self.proteins_searched, "items": self.hits}


def read_hmms(data: bytes, source: str = "the HMM file", limits: Limits | None = None
              ) -> list[Any]:
    """Profile HMMs from HMMER3 text or binary data (or either gzip-compressed, which may
    expand to ``limits.query`` bytes: the HMM is a search request), or a usage error saying
    what is wrong."""
    from pyhmmer import plan7

    if data.startswith(GZIP_MAGIC):
        try:
            with gunzip(io.BytesIO(data), limits or Limits(), source, cap="query") as plain:
                data = plain.read()
        except (OSError, EOFError, zlib.error) as err:
            raise ValidationFailed(f"{source} is not readable gzip", [Problem(
                f"the gzip data is truncated or corrupt ({err})"[:300],
                "compress the HMM file again with gzip, or give it uncompressed",
                field=source)]) from None
    if not data.strip():
        raise ValidationFailed(f"{source} is empty", [Problem(
            "has no profile", "give an HMMER3 profile file (hmmbuild output)", field=source)])
    try:
        with plan7.HMMFile(io.BytesIO(data)) as hmm_file:
            hmms = list(hmm_file)
    except (ValueError, EOFError, OSError) as err:
        raise ValidationFailed(f"{source} is not an HMMER3 profile", [Problem(
            f"cannot be read: {err}"[:300],
            "give an HMMER3 profile file as written by hmmbuild (starts with 'HMMER3/f')",
            field=source)]) from None
    if not hmms:
        raise ValidationFailed(f"{source} holds no profile", [Problem(
            "has no profile", "give an HMMER3 profile file (hmmbuild output)", field=source)])
    if any(h.alphabet.type != "amino" for h in hmms):
        raise ValidationFailed(f"{source} is not a protein profile", [Problem(
            "is a nucleotide profile", "give a protein HMM; the bank searches proteins",
            field=source)])
    return hmms


def _context(chain: Sequence[link_store.Node]) -> dict[str, Any]:
    """An assembly's lineage context: its name, the nearest strain and sample upstream, and
    taxon, depth, place and date from the nearest record that has them."""
    own = chain[0]
    strain = next((n for n in chain if n.kind == "strain"), None)
    sample = next((n for n in chain if n.kind == "sample"), None)

    def first(name: str, order: Sequence[link_store.Node | None]) -> Any:
        return next((getattr(n, name) for n in order
                     if n is not None and getattr(n, name) is not None), None)

    places = (own, sample, strain)
    return {
        "assembly_name": own.name,
        "strain": strain.accession if strain is not None else None,
        "strain_name": strain.name if strain is not None else None,
        "availability": strain.status if strain is not None else None,
        "sample": sample.accession if sample is not None else None,
        "taxon": first("taxon", (own, strain, sample)),
        "depth_m": first("depth_m", places), "latitude": first("latitude", places),
        "longitude": first("longitude", places), "event_date": first("event_date", places),
    }


def _hit(accession: str, row: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
    merged = {"assembly": accession, **row, **ctx}
    for key in ("evalue", "score", "coverage"):
        value = merged.get(key)
        if isinstance(value, float) and math.isnan(value):
            merged[key] = None
    return {name: merged.get(name) for name in COLUMNS}


def _lat_lon(lat: Any, lon: Any) -> str:
    """INSDC /lat_lon ('12.5 N 45.25 W'), or '' when unknown."""
    if lat is None or lon is None:
        return ""
    return (f"{abs(float(lat)):g} {'N' if float(lat) >= 0 else 'S'} "
            f"{abs(float(lon)):g} {'E' if float(lon) >= 0 else 'W'}")


class FamilySearchService:
    """Family and HMM search over one bank."""

    def __init__(self, db: Database, sequences: SequenceStore,
                 limits: Limits | None = None) -> None:
        self.db = db
        self.sequences = sequences
        #: what an uploaded HMM may expand to
        self.limits = limits or Limits()

    def lineage_context(self, actor: Actor, accessions: Sequence[str]
                        ) -> dict[str, dict[str, Any]]:
        """For each assembly ``actor`` may see: its name and the nearest strain and sample
        upstream, with taxon, depth, place, date and the strain's availability."""
        with self.db.read() as conn:
            chains = link_store.upstream_chains(conn, accessions, "assembly",
                                                actor.can_see_restricted, LINEAGE_DEPTH)
        return {acc: _context(chain) for acc, chain in chains.items()}

    def _candidates(self, actor: Actor, accessions: Sequence[str], filters: CatalogFilters
                    ) -> dict[str, dict[str, Any]]:
        context = self.lineage_context(actor, accessions)
        return {acc: ctx for acc, ctx in context.items() if filters.matches(ctx)}

    def search(self, actor: Actor, query: FamilyQuery) -> FamilyResult:
        """Every stored annotation hit matching ``query``, best score first."""
        check_named(query)  # a usage error before anything is read
        files = self.sequences.annotated()
        if query.assemblies:
            wanted = {a.strip().upper() for a in query.assemblies}
            files = {acc: path for acc, path in files.items() if acc in wanted}
        context = self._candidates(actor, list(files), query.filters)
        chosen = {acc: files[acc] for acc in sorted(context)}
        if not chosen:
            return FamilyResult([], 0, 0)
        found, total = hit_store.family_hits(chosen, query)
        return FamilyResult([_hit(acc, row, context[acc]) for acc, row in found], total,
                            len(chosen))

    def search_hmm(self, actor: Actor, hmm_data: bytes, query: FamilyQuery | None = None,
                   *, threads: int = 1, progress: Progress | None = None,
                   source: str = "the HMM file") -> FamilyResult:
        """Search profile HMMs with pyhmmer over the stored proteins of every visible
        assembly that passes the catalogue filters. E-values use Z = the number of proteins
        searched, as ``hmmsearch -Z N`` does. ``query.families`` is ignored: the HMMs are the
        families. ``threads`` is pyhmmer's ``cpus`` (0: all cores).
        """
        import pyhmmer
        from pyhmmer import easel

        query = query or FamilyQuery()
        hmms = read_hmms(hmm_data, source, self.limits)
        store = self.sequences
        context = self._candidates(actor, store.accessions(), query.filters)
        sizes = {acc: size for acc in sorted(context)
                 if (size := store.count_rows(acc, "proteins")) is not None}
        total = sum(sizes.values())
        if total == 0:
            return FamilyResult([], 0, len(sizes), 0)
        alphabet = easel.Alphabet.amino()
        hits: list[dict[str, Any]] = []
        for number, accession in enumerate(sizes, 1):
            block = easel.TextSequenceBlock(
                easel.TextSequence(name=row["id"], sequence=row["sequence"].replace("*", ""))
                for row in store.iter_rows(accession, "proteins", columns=["id", "sequence"])
            ).digitize(alphabet)  # stop codons ('*') are not amino acids HMMER knows
            options: dict[str, Any] = {"Z": total, "E": query.max_evalue or 10.0}
            if query.min_score is not None:
                options["T"] = query.min_score
            for hmm, tops in zip(hmms, pyhmmer.hmmsearch(hmms, block, cpus=threads,
                                                          **options), strict=True):
                for top in tops:
                    if not top.reported:
                        continue
                    domain = top.best_domain.alignment
                    row = {"protein_id": top.name, "family": hmm.name,
                           "family_accession": hmm.accession, "pack": "user",
                           "category": "user HMM", "description": hmm.description,
                           "evalue": float(top.evalue), "score": round(float(top.score), 1),
                           "ali_from": domain.target_from, "ali_to": domain.target_to,
                           "hmm_from": domain.hmm_from, "hmm_to": domain.hmm_to,
                           "coverage": round((domain.hmm_to - domain.hmm_from + 1) / hmm.M, 3),
                           "substrates": []}
                    hits.append(_hit(accession, row, context[accession]))
            if progress is not None:
                progress(number, len(sizes))
        hits.sort(key=lambda h: (-h["score"], h["evalue"], h["assembly"], h["protein_id"]))
        limited = hits if query.limit is None else hits[:query.limit]
        return FamilyResult(limited, len(hits), len(sizes), total)

    def hit_sequences(self, hits: Sequence[dict[str, Any]]) -> Iterator[tuple[str, str]]:
        """(FASTA header, sequence) of each distinct hit protein, in hit order (``hits``
        come from :meth:`search`, so hold only what the caller may see)."""
        wanted: dict[str, list[str]] = {}
        for hit in hits:
            ids = wanted.setdefault(hit["assembly"], [])
            if hit["protein_id"] not in ids:
                ids.append(hit["protein_id"])
        found = hit_store.protein_sequences(self.sequences, wanted)
        done: set[tuple[str, str]] = set()
        for hit in hits:
            key = (hit["assembly"], hit["protein_id"])
            if key in done or key not in found:
                continue
            done.add(key)
            families = sorted({h["family"] for h in hits
                               if (h["assembly"], h["protein_id"]) == key and h["family"]})
            header = (f"{hit['protein_id']} assembly={hit['assembly']} "
                      f"families={','.join(families)}")
            if hit.get("strain"):
                header += f" strain={hit['strain']}"
            yield header, found[key]

    def hit_genbank(self, hits: Sequence[dict[str, Any]]) -> Iterator[str]:
        """GenBank (GenPept-style) text of each distinct hit protein: its domain hits as
        Region features and, on the source feature, the assembly, strain, sample, place,
        depth, date."""
        from lanhai.sequence.genbank import protein_record

        by_protein: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for hit in hits:
            by_protein.setdefault((hit["assembly"], hit["protein_id"]), []).append(hit)
        for header, sequence in self.hit_sequences(hits):
            protein_id, assembly = header.split(" ")[0], header.split("assembly=")[1].split()[0]
            found = by_protein[(assembly, protein_id)]
            first = found[0]
            where = [f"assembly {assembly}"] + [
                f"{label} {first[key]}" for key, label in (
                    ("strain", "strain"), ("sample", "sample"), ("depth_m", "depth (m)"))
                if first.get(key) is not None]
            source = {
                "description": f"{protein_id} from {first.get('assembly_name') or assembly}",
                "organism": str(first.get("taxon") or "unknown"),
                "strain": str(first.get("strain_name") or ""),
                "lat_lon": _lat_lon(first.get("latitude"), first.get("longitude")),
                "collection_date": str(first.get("event_date") or ""),
                "note": "; ".join(where)}
            yield protein_record(protein_id, sequence, found, source)


__all__ = ["COLUMNS", "FamilyResult", "FamilySearchService", "read_hmms"]
