"""The small bank the web page tests share, behind a TestClient, with signed-in users."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from lanhai.app import create_app
from lanhai.bank import Bank
from lanhai.services.access import LOCAL_ADMIN
from tests.support import DEPOSIT, SAMPLE, ZOBELLIA, add_token, bank_on, create_user

PASSWORDS = {"rui": "reader-pass-1", "ana": "curator-pass-1"}
MAG = {"assembly_name": "TARA_ANW_MAG_00001", "assembly_type": "MAG",
       "seq_meth": "Illumina HiSeq 2000", "assembly_software": "MEGAHIT",
       "assembly_qual": "Medium-quality draft genome", "compl_score": "80.5",
       "contam_score": "1.2", "binning_software": "anvi'o"}
GLYCAN = {"compound_name": "neoagarobiose", "compound_class": "oligosaccharide",
          "smiles": "OCC1OC(O)C(O)C(O)C1O", "source_organism": "Zobellia galactanivorans",
          "source_ids": "LHTEST-GLYCAN-1"}
#: a sample table as a curator uploads it
HEADER = ("samp_name,project_name,samp_taxon_id,collection_date,geo_loc_name,lat_lon,"
          "env_broad_scale,env_local_scale,env_medium,depth\n")
ROW = ('{name},Web test,408172,{date},"Norway: Oslofjord",{latlon},'
       '"marine biome [ENVO:00000447]","coastal water body [ENVO:02000049]",'
       '"sea water [ENVO:00002149]",5 m\n')


@dataclass
class Site:
    client: TestClient
    bank: Bank
    tokens: dict[str, str]
    sample: str
    hidden_sample: str
    strain: str
    plastic_strain: str
    deposit: str

    def bearer(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def make_site(engine: Engine) -> Iterator[Site]:
    """The bank of the web tests behind a TestClient."""
    folder = Path(tempfile.mkdtemp(prefix="lanhai-web-"))
    bank = bank_on(engine, folder, secret_key="test-secret")
    catalog = bank.catalog
    sample = catalog.create(LOCAL_ADMIN, "sample", SAMPLE).accession
    hidden = catalog.create(LOCAL_ADMIN, "sample", {**SAMPLE, "samp_name": "secret site",
                                                    "restricted": "yes"}).accession
    strain = catalog.create(LOCAL_ADMIN, "strain", ZOBELLIA).accession
    plastic = catalog.create(LOCAL_ADMIN, "strain", {
        **ZOBELLIA, "taxon_name": "Ideonella sakaiensis", "strain_designation": "201-F6",
        "collection_numbers": "NBRC 110686", "degrades": "PET", "marine": "yes"}).accession
    deposit = catalog.create(LOCAL_ADMIN, "deposit", DEPOSIT).accession
    catalog.create(LOCAL_ADMIN, "assembly", MAG)
    catalog.create(LOCAL_ADMIN, "compound", GLYCAN)
    catalog.link(LOCAL_ADMIN, sample, "isolated_from", strain)
    catalog.link(LOCAL_ADMIN, strain, "deposited_as", deposit)
    tokens = {}
    for name, role in (("rui", "reader"), ("ana", "curator")):
        create_user(engine, name, role, password=PASSWORDS[name])
        tokens[name] = add_token(engine, name, "web tests")
    with TestClient(create_app(bank=bank)) as client:
        yield Site(client, bank, tokens, sample, hidden, strain, plastic, deposit)


def sign_in(site: Site, username: str) -> None:
    page = site.client.get("/signin")
    token = csrf_of(page.text)
    answer = site.client.post("/signin", data={"username": username, "csrf": token,
                                               "password": PASSWORDS[username],
                                               "next": "/import"}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/import"


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "the page has no CSRF field"
    return match[1]
