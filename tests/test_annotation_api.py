"""The sequence API: upload, annotate as a background job, read results and exports;
restricted assemblies are invisible to readers. Also the fixtures the access-control matrix
(tests/test_access_control.py) uses for these routes."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from Bio import SeqIO
from sqlalchemy import Engine

from tests.support import CURATOR, add_user, catalog_on, make_client
from tests.support.sequences import GENBANK, annotated_assemblies
from tests.support.sequences import REGION as ASSEMBLY


def upload(acc: str) -> dict[str, Any]:
    """Multipart upload of the same GenBank file that is stored (200 unchanged)."""
    return {"files": {"file": ("BGC0001866.gbk", GENBANK.read_bytes(), "text/plain")},
            "data": {"kind": "genome"}}


def test_upload_annotate_and_read(engine: Engine) -> None:
    client = make_client(engine)
    curator = add_user(engine, "ana", "curator")
    reader = add_user(engine, "rui", "reader")
    acc = catalog_on(engine).create(CURATOR, "assembly", ASSEMBLY).accession
    sent = client.post(f"/api/assemblies/{acc}/sequences", headers=curator, **upload(acc))
    assert sent.status_code == 201, sent.text
    assert sent.json()["summary"]["genome_size"] == 33290
    again = client.post(f"/api/assemblies/{acc}/sequences", headers=curator, **upload(acc))
    assert again.status_code == 200 and again.json()["status"] == "unchanged"
    bad = client.post(f"/api/assemblies/{acc}/sequences", headers=curator, files={
        "file": ("x.fa", b">a\nACGTXX\n", "text/plain")}, data={"replace": "true"})
    assert bad.status_code == 422 and bad.json()["error"]["problems"]
    assert client.post(f"/api/assemblies/{acc}/sequences", headers=reader,
                       **upload(acc)).status_code == 403

    started = client.post(f"/api/assemblies/{acc}/annotate", headers=curator,
                          json={"packs": ["pfam-gecco"], "steps": ["genes", "families"]})
    assert started.status_code == 202, started.text
    assert started.headers["location"] == f"/api/jobs/{started.json()['id']}"
    runner = client.app.state.bank.jobs  # type: ignore[attr-defined]
    job = runner.wait(started.json()["id"], 300)
    assert job.status == "done", job.error
    [item] = job.result["assemblies"]
    assert item["gene_count"] == 42 and item["steps"]["families"] == "done"

    stats = client.get(f"/api/assemblies/{acc}/sequences").json()
    assert stats["genes"]["gene_count"] == 42
    families = client.get(f"/api/assemblies/{acc}/annotations/families").json()
    assert any(f["family"] == "ketoacyl-synt" for f in families)
    hits = client.get(f"/api/assemblies/{acc}/annotations/hits").json()
    assert len(hits) == item["hit_count"] and hits[0]["protein_id"].startswith("BGC0001866")
    assert client.get(f"/api/assemblies/{acc}/annotations/loci").json() == []
    assert client.get(f"/api/assemblies/{acc}/annotations/substrates").json()[
        "substrates"] == {}
    assert client.get(f"/api/assemblies/{acc}/annotations/clusters").status_code == 404
    assert client.get(f"/api/assemblies/{acc}/annotations/widgets").status_code == 404
    gff = client.get(f"/api/assemblies/{acc}/genes.gff3").text
    assert gff.startswith("##gff-version 3") and "domains=ketoacyl-synt" in gff
    gbk = client.get(f"/api/assemblies/{acc}/genbank").text
    [record] = SeqIO.parse(io.StringIO(gbk), "genbank")
    assert len([f for f in record.features if f.type == "CDS"]) == 42
    fasta = client.get(f"/api/assemblies/{acc}/proteins.fasta").text
    assert fasta.count(">") == 42

    # the annotate job also indexed the proteins: a sequence search finds them at once
    first = ">" + fasta.split(">")[1]
    found = client.post("/api/search/sequence", json={"fasta": first, "max_hits": 3}).json()
    assert found["index"]["pending"] == 0
    best = found["hits"][0]
    assert (best["assembly"], best["identity"]) == (acc, 1.0)
    assert best["target"] == first[1:].split()[0]


def test_restricted_assemblies_are_404_for_readers(engine: Engine) -> None:
    client = make_client(engine)
    reader = add_user(engine, "rui", "reader")
    curator = add_user(engine, "ana", "curator")
    public, hidden = annotated_assemblies(client)
    for path in ("sequences", "annotations/hits", "genes.gff3", "genbank", "proteins.fasta"):
        assert client.get(f"/api/assemblies/{public}/{path}").status_code == 200, path
        assert client.get(f"/api/assemblies/{hidden}/{path}", headers=reader
                          ).status_code == 404, path
        assert client.get(f"/api/assemblies/{hidden}/{path}", headers=curator
                          ).status_code == 200, path
    assert Path(client.app.state.bank.settings.data_dir).exists()  # type: ignore[attr-defined]
