"""Copy the 8 SusC/SusD Pfam HMMs (with their GA cut-offs) into the ``sus`` pack.

Source: ``hmm/PULkit_combined_susCD_Pfam.hmm`` (github yazid-hoblos/PULkit,
pul_models/pul_data/sus_cd/combined_susCD.hmm; Pfam, CC0). SusC is a TonB-dependent receptor
(TonB_dep_Rec, Plug, STN, CarbopepD_reg_2 domains), SusD its partner lipoprotein (SusD_RagB,
SusD-like, SusD-like_2, SusD-like_3); a SusC/SusD pair is the signature of a Bacteroidetes
polysaccharide utilisation locus.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

from lanhai.errors import Problem, UsageError, ValidationFailed
from lanhai.profiles import hmmtools
from lanhai.profiles.pack import Family, Pack
from lanhai.profiles.registry import write_pack

SOURCE = Path("hmm") / "PULkit_combined_susCD_Pfam.hmm"
ROLES = {"TonB_dep_Rec": "susC", "Plug": "susC", "STN": "susC", "CarbopepD_reg_2": "susC",
         "SusD_RagB": "susD", "SusD-like": "susD", "SusD-like_2": "susD",
         "SusD-like_3": "susD"}


def build_sus(data: Path, out: Path, *, replace: bool = True) -> Pack:
    source = data / SOURCE
    if not source.is_file():
        raise UsageError(f"missing input {source}", [Problem(
            "the SusC/SusD HMM file is missing", file=str(source),
            fix="pass --data pointing at the folder that holds hmm/")])
    hmms = hmmtools.read_hmms(source)
    names = sorted(str(h.name) for h in hmms)
    if names != sorted(ROLES) or not all(h.cutoffs.gathering_available() for h in hmms):
        raise ValidationFailed(f"{source} is not the expected SusC/SusD set", [Problem(
            f"expected HMMs {', '.join(sorted(ROLES))}, each with GA lines; found "
            f"{', '.join(names)}", file=str(source))])
    families = {str(h.name): Family(str(h.name), str(h.accession), str(h.description),
                                    (), ROLES[str(h.name)]) for h in hmms}
    pack = Pack(
        name="sus", version="1.0",
        category="pul", path=Path("sus.hmm.gz"), cutoff="gathering", evalue=1e-5,
        families=families,
        description="SusC (TonB-dependent receptor) and SusD Pfam HMMs with GA cut-offs: "
                    "signatures of polysaccharide utilisation loci",
        provenance={"source": "github yazid-hoblos/PULkit, pul_models/pul_data/sus_cd/"
                              "combined_susCD.hmm (Pfam HMMs, CC0)",
                    "inputs": {str(SOURCE): hashlib.sha256(source.read_bytes()).hexdigest()},
                    "accessions": {str(h.name): str(h.accession) for h in hmms},
                    "licence": "Pfam: CC0"},
        hmm_count=len(hmms))
    folder = write_pack(out, pack, hmms, replace=replace)
    return dataclasses.replace(pack, path=folder / pack.path.name)
