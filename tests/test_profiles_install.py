"""Installers for full public HMM databases, tested without the network: a local http.server
on 127.0.0.1 (with HTTP Range support) serves small real HMM files cut from the Pfam SusC/SusD
set (tests/data/profiles/three_pfam.hmm), gzip'ed or tar'ed like the real downloads."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from lanhai.cli.main import main
from lanhai.errors import Conflict, UsageError, ValidationFailed
from lanhai.profiles import install as installer
from lanhai.profiles.hmmtools import read_hmms, write_hmms
from lanhai.profiles.registry import load_packs

DATA = Path(__file__).parent / "data" / "profiles"
THREE = DATA / "three_pfam.hmm"


class Server:
    """Files served from memory; records each request's path and Range header; can cut the
    first response to a path short (``interrupt[path] = bytes sent before closing``)."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.interrupt: dict[str, int] = {}
        self.requests: list[tuple[str, str | None]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                rng = self.headers.get("Range")
                server.requests.append((self.path, rng))
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                start = int(rng.split("=")[1].split("-")[0]) if rng else 0
                if start >= len(body):
                    self.send_error(416)
                    return
                part = body[start:]
                self.send_response(206 if rng else 200)
                if rng:
                    self.send_header("Content-Range",
                                     f"bytes {start}-{len(body) - 1}/{len(body)}")
                self.send_header("Content-Length", str(len(part)))
                self.end_headers()
                cut = server.interrupt.pop(self.path, None)
                if cut is not None:
                    self.wfile.write(part[:cut])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(part)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server()
    srv.thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


def _renamed(names: list[str]) -> bytes:
    """The three real Pfam HMMs of three_pfam.hmm under other names, as HMMER3 text."""
    hmms = read_hmms(THREE)
    for hmm, name in zip(hmms, names, strict=True):
        hmm.name = name
    buffer = io.BytesIO()
    for hmm in hmms:
        hmm.write(buffer, binary=False)
    return buffer.getvalue()


def _leftovers(data_dir: Path) -> list[str]:
    root = data_dir / "profiles"
    return sorted(p.name for p in root.iterdir() if p.name.startswith(".staging")) \
        if root.exists() else []


def test_pfam_install_verifies_published_md5_and_presses(server: Server, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    packed = gzip.compress(THREE.read_bytes(), mtime=0)
    server.files["/Pfam-A.hmm.gz"] = packed
    md5 = hashlib.md5(packed).hexdigest()
    server.files["/md5_checksums"] = f"0000  Pfam-A.hmm.dat.gz\n{md5}  Pfam-A.hmm.gz\n".encode()
    monkeypatch.setitem(installer.SOURCES, "pfam", installer.Source(
        "pfam", "families", server.url("/Pfam-A.hmm.gz"), "Pfam-A (test copy)", "gathering",
        md5_list_url=server.url("/md5_checksums")))
    pack = installer.install(tmp_path / "profiles", "pfam")
    assert pack.name == "pfam" and pack.cutoff == "gathering" and pack.hmm_count == 3
    assert pack.path.name == "pfam.hmm.h3m" and pack.path.is_file()
    for ext in ("h3i", "h3f", "h3p"):  # hmmpress writes the 4 files
        assert pack.path.with_suffix(f".{ext}").is_file()
    assert pack.provenance["checksum"]["md5"] == md5
    assert sorted(pack.families) == ["Plug", "STN", "SusD_RagB"]
    # the pressed file reads back with the same GA lines as the text
    # (grep '^GA' tests/data/profiles/three_pfam.hmm: STN 28.40, Plug 23.90, SusD_RagB 23.10)
    ga = {str(h.name): h.cutoffs.gathering for h in read_hmms(pack.path)}
    assert ga["Plug"] == pytest.approx((23.9, 23.9), abs=1e-3)
    assert [p.name for p in load_packs(tmp_path / "profiles", ["pfam"])] == ["pfam"]
    assert not (tmp_path / "profiles" / ".downloads" / "pfam").exists()
    assert _leftovers(tmp_path) == []


def test_wrong_published_md5_registers_nothing(server: Server, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    server.files["/Pfam-A.hmm.gz"] = gzip.compress(THREE.read_bytes(), mtime=0)
    server.files["/md5_checksums"] = b"0123456789abcdef0123456789abcdef  Pfam-A.hmm.gz\n"
    monkeypatch.setitem(installer.SOURCES, "pfam", installer.Source(
        "pfam", "families", server.url("/Pfam-A.hmm.gz"), "test", "gathering",
        md5_list_url=server.url("/md5_checksums")))
    with pytest.raises(ValidationFailed, match="checksum mismatch") as err:
        installer.install(tmp_path / "profiles", "pfam")
    assert "expected md5 0123456789abcdef" in err.value.problems[0].reason
    assert not (tmp_path / "profiles" / "pfam").exists()
    assert _leftovers(tmp_path) == []
    # the corrupt file is gone, so a rerun downloads it again
    assert not list((tmp_path / "profiles" / ".downloads").rglob("Pfam-A.hmm.gz*"))


def test_wrong_sha256_from_the_cli_is_a_clear_error(server: Server, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    server.files["/db.txt"] = _renamed(["GH16_3.hmm", "PL7_5.hmm", "GT2.hmm"])
    monkeypatch.setenv("LANHAI_DATA_DIR", str(tmp_path))
    code = main(["profiles", "install", "dbcan", "--url", server.url("/db.txt"),
                 "--sha256", "0" * 64, "--json"])
    assert code == 1
    body = json.loads(capsys.readouterr().out)
    assert body["error"]["code"] == "invalid"
    assert "checksum mismatch" in body["error"]["message"]
    assert not (tmp_path / "profiles" / "dbcan").exists()
    assert main(["profiles", "install", "dbcan", "--url", server.url("/db.txt"),
                 "--sha256", "xyz"]) == 2


def test_dbcan_install_with_sha256_gets_marine_substrates(server: Server, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    body = _renamed(["GH16_3.hmm", "PL7_5.hmm", "GT2.hmm"])
    server.files["/dbCAN-HMMdb-V13.txt"] = body
    monkeypatch.setenv("LANHAI_DATA_DIR", str(tmp_path))
    code = main(["profiles", "install", "dbcan", "--url", server.url("/dbCAN-HMMdb-V13.txt"),
                 "--sha256", hashlib.sha256(body).hexdigest(), "--no-press", "--json"])
    assert code == 0, capsys.readouterr().err
    out = json.loads(capsys.readouterr().out)
    assert out["version"] == "V13" and out["category"] == "cazy" and out["hmm_count"] == 3
    pack, = load_packs(tmp_path / "profiles", ["dbcan"])
    assert pack.path.name == "dbcan.hmm" and pack.cutoff == "evalue" and pack.evalue == 1e-15
    # cazy_substrates.toml: the subfamily first (GH16_3: laminarinases), else the family
    assert pack.families["GH16_3.hmm"].substrates == ("laminarin", "beta-glucan")
    assert pack.families["PL7_5.hmm"].substrates == ("alginate",)
    assert pack.families["GT2.hmm"].substrates == ()
    # installing again needs --replace
    with pytest.raises(UsageError, match="already installed"):
        installer.install(tmp_path / "profiles", "dbcan", url=server.url("/dbCAN-HMMdb-V13.txt"))
    listed = {r["name"]: r for r in json.loads(
        (main(["profiles", "list", "--json"]), capsys.readouterr().out)[1])}
    assert listed["dbcan"]["source"] == "installed" and listed["dbcan"]["hmm_count"] == 3
    assert listed["pfam-gecco"]["hmm_count"] == 2766


def test_interrupted_download_resumes_with_range(server: Server, tmp_path: Path) -> None:
    body = _renamed(["GH16_3.hmm", "PL7_5.hmm", "GT2.hmm"])
    server.files["/dbCAN-HMMdb-V13.txt"] = body
    server.interrupt["/dbCAN-HMMdb-V13.txt"] = 50_000
    url = server.url("/dbCAN-HMMdb-V13.txt")
    with pytest.raises(installer.DownloadFailed, match="interrupted"):
        installer.install(tmp_path / "profiles", "dbcan", url=url)
    part = tmp_path / "profiles" / ".downloads" / "dbcan" / "dbCAN-HMMdb-V13.txt.part"
    assert part.stat().st_size == 50_000
    assert not (tmp_path / "profiles" / "dbcan").exists()
    pack = installer.install(tmp_path / "profiles", "dbcan", url=url,
                             sha256=hashlib.sha256(body).hexdigest())
    assert server.requests == [("/dbCAN-HMMdb-V13.txt", None),
                               ("/dbCAN-HMMdb-V13.txt", "bytes=50000-")]
    assert pack.hmm_count == 3 and pack.provenance["checksum"]["verified"].startswith("sha256")


def test_kofam_install_reads_ko_list_thresholds(server: Server, tmp_path: Path) -> None:
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        for name, hmm_text in (("K00001", ["K00001"]), ("K00002", ["K00002"])):
            hmms = read_hmms(THREE)[:1]
            hmms[0].name = hmm_text[0]
            hmms[0].accession = None  # KOfam profiles have no ACC line
            buffer = io.BytesIO()
            hmms[0].write(buffer, binary=False)
            info = tarfile.TarInfo(f"profiles/{name}.hmm")
            info.size = len(buffer.getvalue())
            tar.addfile(info, io.BytesIO(buffer.getvalue()))
    server.files["/profiles.tar.gz"] = archive.getvalue()
    # KOfam ko_list format (tab-separated, 12 columns); values written for this test
    header = ("knum\tthreshold\tscore_type\tprofile_type\tF-measure\tnseq\tnseq_used\talen\t"
              "mlen\teff_nseq\tre/pos\tdefinition\n")
    rows = ("K00001\t348.90\tfull\tall\t0.9\t1\t1\t1\t1\t1\t1\talcohol dehydrogenase [EC:1.1.1.1]\n"
            "K00002\t54.20\tdomain\ttrim\t0.9\t1\t1\t1\t1\t1\t1\talcohol dehydrogenase (NADP+)\n"
            "K00003\t-\t-\t-\t-\t1\t1\t1\t1\t1\t1\thomoserine dehydrogenase\n")
    server.files["/ko_list.gz"] = gzip.compress((header + rows).encode(), mtime=0)
    pack = installer.install(tmp_path / "profiles", "kofam", url=server.url("/profiles.tar.gz"),
                             extra_url=server.url("/ko_list.gz"))
    assert pack.category == "orthology" and pack.cutoff == "calibrated"
    assert dict(pack.thresholds) == {"K00001": 348.9, "K00002": 54.2}
    assert dict(pack.threshold_on) == {"K00001": "sequence", "K00002": "domain"}
    assert pack.families["K00001"].description == "alcohol dehydrogenase [EC:1.1.1.1]"


def test_kofam_bad_archive_is_rejected(server: Server, tmp_path: Path) -> None:
    server.files["/profiles.tar.gz"] = gzip.compress(b"not a tar file" * 100, mtime=0)
    server.files["/ko_list.gz"] = gzip.compress(b"knum\tthreshold\tscore_type\n", mtime=0)
    with pytest.raises(ValidationFailed, match="not a tar archive"):
        installer.install(tmp_path / "profiles", "kofam", url=server.url("/profiles.tar.gz"),
                          extra_url=server.url("/ko_list.gz"))
    assert not (tmp_path / "profiles" / "kofam").exists()
    assert _leftovers(tmp_path) == []


def test_not_an_hmm_download_is_rejected(server: Server, tmp_path: Path) -> None:
    server.files["/db.txt"] = (DATA / "not_an_hmm.faa").read_bytes()
    with pytest.raises(ValidationFailed, match="not a valid HMMER3 file"):
        installer.install(tmp_path / "profiles", "dbcan", url=server.url("/db.txt"))
    assert not (tmp_path / "profiles" / "dbcan").exists()


def test_unreachable_server_is_a_download_error(tmp_path: Path) -> None:
    with pytest.raises(installer.DownloadFailed, match="failed"):
        installer.install(tmp_path / "profiles", "dbcan", url="http://127.0.0.1:9/none.txt",
                          timeout=5)


def test_add_validates_and_registers(tmp_path: Path) -> None:
    from lanhai.profiles.registry import add_pack

    with pytest.raises(ValidationFailed, match="not a readable HMMER3") as err:
        add_pack(tmp_path / "profiles", "mine", DATA / "not_an_hmm.faa")
    assert "hmmbuild" in err.value.problems[0].fix
    assert not (tmp_path / "profiles" / "mine").exists()
    pack = add_pack(tmp_path / "profiles", "mine", THREE)
    assert pack.cutoff == "gathering" and pack.hmm_count == 3
    with pytest.raises(Conflict):
        add_pack(tmp_path / "profiles", "mine", THREE)
    with pytest.raises(Conflict, match="built-in"):
        add_pack(tmp_path / "profiles", "sus", THREE)
    with pytest.raises(UsageError, match="invalid pack name"):
        add_pack(tmp_path / "profiles", "My Pack", THREE)
    # HMMs without GA lines fall back to the E-value cut-off
    hmms = read_hmms(THREE)
    for hmm in hmms:
        hmm.cutoffs.gathering = None
    plain = tmp_path / "noga.hmm"
    write_hmms(hmms, plain)
    assert add_pack(tmp_path / "profiles", "noga", plain).cutoff == "evalue"
    assert [p.name for p in load_packs(tmp_path / "profiles", ["mine", "noga"])] == ["mine", "noga"]
