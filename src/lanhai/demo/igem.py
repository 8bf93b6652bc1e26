"""Flatten iGEM SBOL3 N-Triples into the parts CSV the demo ships (a maintainer's tool).

``python -m lanhai.demo.igem OUT.csv FILE.nt [FILE.nt …]`` writes one row per SBOL3
Component that has a sequence: its displayId, name, description, SBO type, Sequence
Ontology role, sequence elements, creator, creation date, iGEM part status and the
registry page it was derived from. Values are copied; nothing is edited or guessed.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Sequence
from pathlib import Path

SBOL3 = "http://sbols.org/v3#"
IGEM = "http://wiki.synbiohub.org/wiki/Terms/igem#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
DC_CREATOR = "http://purl.org/dc/elements/1.1/creator"
DCTERMS = "http://purl.org/dc/terms/"
PROV_DERIVED = "http://www.w3.org/ns/prov#wasDerivedFrom"
COLUMNS = ("displayId", "name", "description", "type", "role", "elements", "creator",
           "created", "partStatus", "wasDerivedFrom", "source_file")


def components(path: Path) -> list[dict[str, str]]:
    """One dict per SBOL3 Component with a sequence, in displayId order."""
    from rdflib import Graph, URIRef

    graph = Graph()
    graph.parse(path, format="nt")

    def one(subject: URIRef, predicate: URIRef) -> str:
        values = sorted(str(v) for v in graph.objects(subject, predicate))
        return values[0] if values else ""

    rows = []
    for comp in graph.subjects(URIRef(RDF_TYPE), URIRef(SBOL3 + "Component")):
        assert isinstance(comp, URIRef)
        seq = one(comp, URIRef(SBOL3 + "hasSequence"))
        if not seq:
            continue
        roles = [str(r) for r in graph.objects(comp, URIRef(SBOL3 + "role"))
                 if "/so/SO:" in str(r) or "SO:" in str(r).rsplit("/", 1)[-1]]
        rows.append({
            "displayId": one(comp, URIRef(SBOL3 + "displayId")),
            "name": one(comp, URIRef(SBOL3 + "name")) or one(comp, URIRef(DCTERMS + "title")),
            "description": one(comp, URIRef(SBOL3 + "description")),
            "type": one(comp, URIRef(SBOL3 + "type")),
            "role": sorted(roles)[0] if roles else "",
            "elements": one(URIRef(seq), URIRef(SBOL3 + "elements")),
            "creator": one(comp, URIRef(DC_CREATOR)),
            "created": one(comp, URIRef(DCTERMS + "created")),
            "partStatus": one(comp, URIRef(IGEM + "partStatus")),
            "wasDerivedFrom": one(comp, URIRef(PROV_DERIVED)),
            "source_file": path.name,
        })
    return sorted(rows, key=lambda r: r["displayId"])


def write_csv(out: Path, sources: Sequence[Path]) -> int:
    """Write the components of every source (first file wins for a repeated displayId)."""
    seen: dict[str, dict[str, str]] = {}
    for path in sources:
        for row in components(path):
            seen.setdefault(row["displayId"], row)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(seen.values())
    return len(seen)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    print(write_csv(Path(args[0]), [Path(a) for a in args[1:]]))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
