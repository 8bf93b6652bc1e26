"""Sequence data and banks the sequence, annotation and search tests share.

Genomes come from the test data pyrodigal's wheel ships (Prodigal's own test genomes); the
proteome slices and the GenBank file are in tests/data/sequence/ and tests/data/search/
(provenance in their README.md). The Zobellia galactanivorans DsijT proteome and the SusC/SusD
profiles are the ones Lanhai ships (the demo's proteome, the built-in ``sus`` pack).
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from concurrent.futures import Executor, Future
from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from lanhai.profiles.pack import Family, Pack
from lanhai.services.access import Actor
from lanhai.services.sequences import SequenceService
from lanhai.store.layout import Layout
from lanhai.store.sequences import SequenceStore
from tests.support import CURATOR, bank_on

TESTS = Path(__file__).resolve().parents[1]
SRC = TESTS.parent / "src" / "lanhai"
HERE = TESTS / "data" / "sequence"
PYRODIGAL_DATA = Path(str(files("pyrodigal.tests") / "data"))
KK037166 = PYRODIGAL_DATA / "KK037166.fna.gz"
SRR492066 = PYRODIGAL_DATA / "SRR492066.fna.gz"
PROTEOME = HERE / "maribacter_hel_i_7_231-260.faa.gz"
GENBANK = HERE / "BGC0001866.gbk"
#: Wolter et al. 2021's proteome of Zobellia galactanivorans DsijT, as the demo ships it
ZOBELLIA_PROTEOME = SRC / "demo" / "data" / "sequences" / "Zobellia_galactanivorans_DsiJ.faa.gz"
#: PULkit's 8 SusC/SusD Pfam HMMs (GA lines), as the built-in sus pack ships them
SUS_HMM = SRC / "profiles" / "data" / "sus" / "sus.hmm.gz"
#: which of them are SusC-like (TonB-dependent transporter) and which SusD-like
SUS_ROLES = {"TonB_dep_Rec": "susC", "STN": "susC", "Plug": "susC",
             "CarbopepD_reg_2": "susC", "SusD_RagB": "susD", "SusD-like": "susD",
             "SusD-like_2": "susD", "SusD-like_3": "susD"}
#: the annotation tests' curator (named in the histories they check)
ANNOTATOR = Actor("curator-wang", "curator")
#: an assembly record for the GenBank region
REGION = {"assembly_name": "BGC0001866 region", "assembly_type": "isolate genome",
          "seq_meth": "Illumina", "assembly_software": "SPAdes"}

SEARCH_DATA = TESTS / "data" / "search"
DOKDONENSIS = SEARCH_DATA / "maribacter_dokdonensis_dsw8_1-250.faa.gz"
FORSETII = SEARCH_DATA / "maribacter_forsetii_dsm18668_1-250.faa.gz"
LITORALIS = SEARCH_DATA / "maribacter_litoralis_sdrb_phe2_1-150.faa.gz"

#: contigs of the simulated metagenome, and their length
CONTIGS = 100_000
LENGTH = 300


def sus_pack(version: str = "test-1", evalue: float = 1e3) -> Pack:
    """The 8 SusC/SusD Pfam HMMs with their GA cut-offs (the E-value bound is loose so that
    the hits equal `hmmsearch --cut_ga`)."""
    return Pack(name="sus", version=version, category="pul", path=SUS_HMM,
                cutoff="gathering", evalue=evalue,
                families={name: Family(name, role=role) for name, role in SUS_ROLES.items()})


def proteome_bank(engine: Engine, data_dir: Path, path: Path = ZOBELLIA_PROTEOME,
                  name: str = "Zobellia galactanivorans DsiJT") -> tuple[SequenceService, str]:
    """A bank holding one assembly record with ``path`` ingested as its proteome."""
    bank = bank_on(engine, data_dir)
    record = bank.catalog.create(ANNOTATOR, "assembly", {
        "assembly_name": name, "assembly_type": "isolate genome",
        "seq_meth": "Sanger", "assembly_software": "Arachne"})
    bank.sequences.ingest(ANNOTATOR, record.accession, path, kind="proteome",
                          allow_stops=True)
    return bank.sequences, record.accession


class FailingExecutor(Executor):
    """Runs tasks inline, but the task for ``failing`` raises as a killed worker would."""

    def __init__(self, failing: str) -> None:
        self.failing = failing
        self.ran: list[str] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        accession = args[1]
        self.ran.append(accession)
        if accession == self.failing:
            future.set_exception(RuntimeError("worker killed"))
        else:
            future.set_result(fn(*args, **kwargs))
        return future


def annotated_assemblies(client: TestClient) -> tuple[str, str]:
    """A public and a restricted assembly with sequences, genes and (sus pack) families, made
    once per application (the access matrix builds its requests for each caller)."""
    state = client.app.state  # type: ignore[attr-defined]
    made: tuple[str, str] | None = getattr(state, "test_assemblies", None)
    if made is not None:
        return made
    bank = state.bank
    public = bank.catalog.create(CURATOR, "assembly", REGION).accession
    hidden = bank.catalog.create(CURATOR, "assembly", {**REGION, "assembly_name": "hidden",
                                                       "restricted": True}).accession
    for acc in (public, hidden):
        bank.sequences.ingest(CURATOR, acc, GENBANK)
        bank.sequences.annotate(CURATOR, [acc], packs=[sus_pack()],
                                steps=["genes", "families"])
    state.test_assemblies = (public, hidden)
    return public, hidden


def records(path: Path) -> list[tuple[str, str]]:
    """(id, sequence) of a gzip'ed FASTA file."""
    out: list[tuple[str, str]] = []
    with gzip.open(path, "rt") as lines:
        for line in lines:
            if line.startswith(">"):
                out.append((line[1:].split()[0], ""))
            else:
                out[-1] = (out[-1][0], out[-1][1] + line.strip())
    return out


def fasta(recs: list[tuple[str, str]], prefix: str = "") -> str:
    return "".join(f">{prefix}{i}\n{s.rstrip('*')}\n" for i, s in recs)


def write_metagenome(path: Path) -> int:
    """100,000 contigs cut from the real KK037166 scaffold (windows at shifting offsets)."""
    with gzip.open(KK037166, "rt") as handle:
        source = "".join(line.strip() for line in handle if not line.startswith(">"))
    total = 0
    with gzip.open(path, "wt", compresslevel=1) as out:
        for n in range(CONTIGS):
            start = (n * 37) % (len(source) - LENGTH)
            out.write(f">k141_{n} flag=1 multi=2.0 len={LENGTH}\n{source[start:start + LENGTH]}\n")
            total += LENGTH
    return total


def stored(data_dir: Path) -> SequenceStore:
    """The sequence tables of the bank whose data folder is ``data_dir``."""
    return SequenceStore(Layout(data_dir).assemblies)
