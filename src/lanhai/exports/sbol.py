"""SBOL3 export of genetic parts (pySBOL3), validated by ``sbol3`` with no errors or warnings.

One Component per part (displayId, name, description, SBO type, SO role) with a Sequence
(elements and the EDAM encoding: IUPAC DNA/RNA ``edam:format_1207``, protein
``edam:format_1208``). Identities are ``{namespace}/{display_id}``. Provenance: a part mined
from an assembly (or strain) carries ``prov:wasDerivedFrom {namespace}/{accession}`` of that
record, and its own Lanhai accession as ``dcterms:identifier``.

The document is built in memory before it is written (parts number in the hundreds, not
the hundreds of thousands).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from lanhai.errors import UsageError
from lanhai.exports.common import Batch, ExportOptions, Item
from lanhai.kinds import KindSpec
from lanhai.kinds.parts import TYPES

DCTERMS_IDENTIFIER = "http://purl.org/dc/terms/identifier"
PROTEIN_ENCODING = "https://identifiers.org/edam:format_1208"
NUCLEOTIDE_ENCODING = "https://identifiers.org/edam:format_1207"

#: option value -> (pySBOL3 format name, media type, file extension)
RDF_FORMATS: dict[str, tuple[str, str, str]] = {
    "turtle": ("ttl", "text/turtle", "ttl"),
    "rdf-xml": ("xml", "application/rdf+xml", "xml"),
    "json-ld": ("json-ld", "application/ld+json", "jsonld"),
    "n-triples": ("nt11", "application/n-triples", "nt"),
    "sorted-n-triples": ("sorted nt", "application/n-triples", "nt"),
}


def rdf_format(name: str) -> tuple[str, str, str]:
    """(pySBOL3 format, media type, extension) of an option value, or a usage error."""
    try:
        return RDF_FORMATS[name.strip().lower()]
    except KeyError:
        raise UsageError(f"unknown SBOL3 serialisation {name!r}; use one of: "
                         + ", ".join(RDF_FORMATS)) from None


def check_namespace(namespace: str) -> str:
    """The namespace without a trailing '/' or '#'; it must be an http(s) URL."""
    clean = namespace.strip().rstrip("/#")
    if not re.match(r"^https?://[^\s/]+(/\S*)?$", clean):
        raise UsageError(f"SBOL3 namespace {namespace!r} is not an http(s) URL; set "
                         "LANHAI_SBOL_NAMESPACE to e.g. https://w3id.org/lanhai")
    return clean


def _provenance(item: Item, namespace: str) -> list[str]:
    return [f"{namespace}/{link.source}" for link in item.links
            if link.rel == "mined_from" and link.target == item.record.accession]


def add_part(doc: Any, item: Item, namespace: str) -> None:
    """Add one part's Component and Sequence to the pySBOL3 ``doc``."""
    import sbol3

    fields = item.record.fields
    display_id = str(fields["display_id"])
    identity = f"{namespace}/{display_id}"
    seq_identity = f"{identity}_sequence"
    suffix = 1
    while doc.find(seq_identity) is not None:
        suffix += 1
        seq_identity = f"{identity}_sequence{suffix}"
    protein = fields.get("part_type") == TYPES["protein"]
    sequence = sbol3.Sequence(
        seq_identity, namespace=namespace, elements=str(fields["sequence"]),
        encoding=PROTEIN_ENCODING if protein else NUCLEOTIDE_ENCODING)
    component = sbol3.Component(
        identity, [str(fields["part_type"])], namespace=namespace,
        roles=[str(fields["role"])], name=fields.get("part_name") or None,
        description=fields.get("description") or None, sequences=[seq_identity],
        derived_from=_provenance(item, namespace) or None)
    component.lanhai_accession = sbol3.TextProperty(component, DCTERMS_IDENTIFIER, 0, 1)
    component.lanhai_accession = item.record.accession
    doc.add(sequence)
    doc.add(component)


def write_sbol3(spec: KindSpec, batches: Iterable[Batch], options: ExportOptions
                ) -> Iterator[bytes]:
    """An SBOL3 document of the parts, in ``options.rdf_format`` (Turtle by default)."""
    import sbol3

    namespace = check_namespace(options.sbol_namespace)
    file_format = rdf_format(options.rdf_format)[0]
    doc = sbol3.Document()
    doc.bind("lanhai", namespace + "/")
    doc.bind("dcterms", "http://purl.org/dc/terms/")
    for batch in batches:
        for item in batch:
            add_part(doc, item, namespace)
        yield b""
    yield str(doc.write_string(file_format)).encode("utf-8")
