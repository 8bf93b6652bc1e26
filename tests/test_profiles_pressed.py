"""Pressed profile packs (lanhai.profiles.pressed): every pack not pressed already is pressed
once into the bank's cache (profiles/.pressed/) at its first use, keyed by its HMM file's
content, written through a locked staging folder renamed into place; annotation then searches
the pressed optimized profiles and finds exactly the hits it finds from the HMM files."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from lanhai.profiles import pressed
from lanhai.profiles.hmmtools import read_hmms, write_hmms
from lanhai.profiles.pack import Pack
from lanhai.profiles.registry import add_pack, builtin_pack, load_pack, write_pack
from lanhai.sequence import hmm
from lanhai.services.annotation import pack_key
from lanhai.store.layout import Layout
from lanhai.store.leftovers import scan, sweep
from tests.support.sequences import PROTEOME, ZOBELLIA_PROTEOME, records, sus_pack

THREE = Path(__file__).parent / "data" / "profiles" / "three_pfam.hmm"


def rows(packs: list[hmm.LoadedPack], proteins: list[tuple[str, str]],
         batch_size: int = hmm.BATCH_SIZE) -> list[Any]:
    """Every batch's hits and GECCO domains, as annotation stores them."""
    return list(hmm.search(packs, proteins, total=len(proteins), threads=2,
                           batch_size=batch_size))


def entries(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir()) if cache.exists() else []


def test_a_shipped_pack_is_pressed_once_at_first_use_into_the_bank(tmp_path: Path) -> None:
    cache = pressed.cache_folder(tmp_path / "profiles")
    pack = builtin_pack("marine-cazy")
    digest = hashlib.sha256(pack.path.read_bytes()).hexdigest()
    key = pack_key([pack], 10)
    loaded = hmm.load_pack(pack, cache=cache)
    assert pack_key([pack], 10) == key  # the annotation marker's pack identity is the same
    [name] = entries(cache)  # nothing else: no staging folder, no lock file left
    assert name == f"marine-cazy-{digest[:16]}-{pressed.engine()}"
    assert loaded.pressed == cache / name / pressed.BASE and not loaded.streamed
    files = sorted(p.name for p in (cache / name).iterdir())
    assert files == ["hmms.h3f", "hmms.h3i", "hmms.h3m", "hmms.h3p", "pressed.json"]
    info = json.loads((cache / name / "pressed.json").read_text())
    assert info["sha256"] == digest and info["hmm_count"] == len(read_hmms(pack.path)) > 0
    assert info["pack"] == "marine-cazy" and info["source"] == str(pack.path)
    # the shipped pack itself is untouched, and never gets a cache of its own
    assert not (pack.path.parent.parent / pressed.PRESSED).exists()
    # the second use reads the same entry: not pressed again
    stamp = (cache / name / "hmms.h3p").stat().st_mtime_ns
    again = hmm.load_pack(pack, cache=cache)
    assert again.pressed == loaded.pressed and entries(cache) == [name]
    assert (cache / name / "hmms.h3p").stat().st_mtime_ns == stamp
    # the profiles read back are the pack's HMMs, in the same order, with their cut-offs
    hmms = read_hmms(pack.path)
    profiles = [m for group in again.groups for m in group.models]
    assert [p.name for p in profiles] == [h.name for h in hmms]
    assert [(p.M, p.accession, p.description, p.cutoffs.gathering) for p in profiles] == \
        [(h.M, h.accession, h.description, h.cutoffs.gathering) for h in hmms]


def test_pressed_hits_are_identical_to_the_hmm_files_hits(tmp_path: Path) -> None:
    """Every built-in pack, as hits.parquet rows and GECCO domains (ids, scores, E-values,
    coordinates, all fields): pfam-gecco and plastics on a proteome slice, marine-cazy and
    sus on 2,000 proteins of a flavobacterial proteome, in one batch and in several."""
    cache = pressed.cache_folder(tmp_path / "profiles")
    small = records(PROTEOME)
    packs = [builtin_pack(n) for n in ("pfam-gecco", "plastics")]
    text = rows([hmm.load_pack(p, press=False) for p in packs], small)
    fast = rows([hmm.load_pack(p, cache=cache) for p in packs], small)
    assert fast == text and sum(len(r) for r, _ in text) > 10 and text[0][1]
    proteome = records(ZOBELLIA_PROTEOME)[:2000]
    packs = [builtin_pack(n) for n in ("marine-cazy", "sus")]
    plain = [hmm.load_pack(p, press=False) for p in packs]
    loaded = [hmm.load_pack(p, cache=cache) for p in packs]
    assert all(p.pressed is not None for p in loaded)
    assert all(p.pressed is None for p in plain)
    text = rows(plain, proteome)
    assert rows(loaded, proteome) == text
    assert {r["pack"] for batch, _ in text for r in batch} >= {"sus"}
    assert len(text[0][0]) > 100
    # the profiles read once serve every batch
    assert rows(loaded[1:], proteome, batch_size=700) == rows(plain[1:], proteome,
                                                              batch_size=700)


def test_a_large_pack_is_streamed_from_disk_with_the_same_hits(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Over the memory budget, the profiles are read from the pressed files at each search
    (several batches), each group (here HMMs with and without GA lines) getting only its
    own."""
    hmms = read_hmms(sus_pack().path)
    for index in (1, 4, 6):
        hmms[index].cutoffs.gathering = None
    mixed = tmp_path / "mixed.hmm"
    write_hmms(hmms, mixed)
    pack = Pack(name="mixed", version="1", category="pul", path=mixed, cutoff="gathering",
                evalue=1e-5)
    proteome = records(ZOBELLIA_PROTEOME)[:2000]
    text = hmm.load_pack(pack, press=False)
    assert [len(g.models) for g in text.groups] == [5, 3] and text.warnings
    monkeypatch.setattr(hmm, "MEMORY_BUDGET", 0)
    streamed = hmm.load_pack(pack, cache=tmp_path / "cache")
    assert streamed.streamed and streamed.pressed is not None
    assert all(isinstance(m, hmm.Model) for g in streamed.groups for m in g.models)
    assert [g.positions for g in streamed.groups] == [[0, 2, 3, 5, 7], [1, 4, 6]]
    assert streamed.warnings == text.warnings
    shutil.rmtree(tmp_path / "cache")  # replaced meanwhile: the open files are read whole
    expected = rows([text], proteome, batch_size=700)
    assert rows([streamed], proteome, batch_size=700) == expected
    assert {r["family"] for batch, _ in expected for r in batch} >= {
        str(hmms[1].name), str(hmms[0].name)}


def test_a_rebuilt_pack_is_pressed_again_and_the_stale_copy_is_never_read(
        tmp_path: Path) -> None:
    root = tmp_path / "profiles"
    cache = pressed.cache_folder(root)
    hmms = read_hmms(THREE)
    write_pack(root, Pack(name="mine", version="1", category="custom",
                          path=Path("mine.hmm.gz"), cutoff="gathering"), hmms)
    first = load_pack(root, "mine")
    loaded = hmm.load_pack(first)  # an installed pack: its bank's cache, found by itself
    assert loaded.pressed is not None and loaded.pressed.parent.parent == cache
    [old] = entries(cache)
    hmms[0].cutoffs.gathering = (99.0, 99.0)  # rebuilt under the same name and version
    write_pack(root, Pack(name="mine", version="1", category="custom",
                          path=Path("mine.hmm.gz"), cutoff="gathering"), hmms)
    second = load_pack(root, "mine")
    reloaded = hmm.load_pack(second)
    [new] = entries(cache)
    assert new != old and reloaded.pressed == cache / new / pressed.BASE
    gathering = {m.name: m.cutoffs.gathering for g in reloaded.groups for m in g.models}
    assert gathering[str(hmms[0].name)] == pytest.approx((99.0, 99.0))


def test_a_half_written_cache_is_never_used(tmp_path: Path) -> None:
    cache = pressed.cache_folder(tmp_path / "profiles")
    pack = sus_pack()
    name = pressed.entry_name(pack, pressed.content_digest(pack.path))
    # a staging folder left by a killed presser, and an entry missing a file under its name
    (cache / f".staging-{name}-0123456789ab").mkdir(parents=True)
    (cache / f".staging-{name}-0123456789ab" / "hmms.h3m").write_bytes(b"half")
    (cache / name).mkdir()
    (cache / name / "hmms.h3m").write_bytes(b"half")
    base = pressed.ensure(pack, cache)
    assert base == cache / name / pressed.BASE
    assert len(pressed.read_profiles(base)) == len(read_hmms(pack.path))
    assert (cache / name / "pressed.json").is_file()
    assert hmm.load_pack(pack, cache=cache).pressed == base


def test_a_pack_pressed_in_place_is_read_where_it_is(tmp_path: Path) -> None:
    root = tmp_path / "profiles"
    folder = root / "three"
    folder.mkdir(parents=True)
    import pyhmmer

    pyhmmer.hmmer.hmmpress(read_hmms(THREE), folder / "three.hmm")
    (folder / "pack.json").write_text(json.dumps({
        "name": "three", "version": "1", "category": "families", "hmm": "three.hmm.h3m",
        "cutoff": "gathering"}))
    pack = load_pack(root, "three")
    loaded = hmm.load_pack(pack)
    assert loaded.pressed == folder / "three.hmm"
    assert not (root / pressed.PRESSED).exists()
    # a bare binary .h3m (as GECCO's Pfam file) is not pressed: it gets a cache entry
    bare = tmp_path / "other" / "bare.h3m"
    bare.parent.mkdir()
    (folder / "three.hmm.h3m").rename(bare)
    assert pressed.pressed_base(bare) is None
    cached = hmm.load_pack(Pack(name="bare", version="1", category="families", path=bare,
                                cutoff="gathering"), cache=tmp_path / "cache")
    assert cached.pressed is not None and cached.pressed.is_relative_to(tmp_path / "cache")


def test_where_the_cache_is_without_one_named(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "bank" / "profiles"
    add_pack(root, "mine", THREE)
    assert pressed.default_cache(load_pack(root, "mine")) == root / pressed.PRESSED
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LANHAI_DATA_DIR", raising=False)
    sus = builtin_pack("sus")
    assert pressed.default_cache(sus) is None  # no bank here: nothing is written
    loaded = hmm.load_pack(sus)
    assert loaded.pressed is None and len(loaded.groups[0].models) == len(read_hmms(sus.path))
    assert not (tmp_path / "lanhai-data").exists()
    monkeypatch.setenv("LANHAI_DATA_DIR", str(tmp_path / "bank"))
    assert pressed.default_cache(sus) == root / pressed.PRESSED
    assert hmm.load_pack(sus).pressed is not None
    assert [n.split("-")[0] for n in entries(root / pressed.PRESSED)] == ["sus"]


def test_a_cache_that_cannot_be_written_falls_back_to_the_hmm_file(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder would be")
    pack = sus_pack()
    loaded = hmm.load_pack(pack, cache=blocked / ".pressed")
    assert loaded.pressed is None
    proteome = records(ZOBELLIA_PROTEOME)[:1500]
    assert rows([loaded], proteome) == rows([hmm.load_pack(pack, cache=tmp_path / "c")],
                                            proteome)


def _press(cache: str) -> str:
    return str(pressed.ensure(builtin_pack("plastics"), Path(cache)))


def test_concurrent_first_uses_press_once_and_agree(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        bases = pool.map(_press, [str(cache)] * 4)
    assert len(set(bases)) == 1
    [name] = entries(cache)
    assert Path(bases[0]) == cache / name / pressed.BASE
    assert len(pressed.read_profiles(Path(bases[0]))) == len(read_hmms(
        builtin_pack("plastics").path))


#: presses the plastics pack and stops inside hmmpress, holding its staging folder and lock
STALLED = """
import sys, time
from pathlib import Path
import pyhmmer
from lanhai.profiles import pressed
from lanhai.profiles.registry import builtin_pack
real = pyhmmer.hmmer.hmmpress
def stalled(hmms, output):
    real(hmms, output)
    print("ready", flush=True)
    time.sleep(600)
pyhmmer.hmmer.hmmpress = stalled
pressed.ensure(builtin_pack("plastics"), Path(sys.argv[1]))
"""


def test_a_killed_pressing_leaves_nothing_a_reader_uses_and_clean_removes_it(
        tmp_path: Path) -> None:
    layout = Layout(tmp_path / "bank")
    cache = pressed.cache_folder(layout.profiles)
    writer = subprocess.Popen([sys.executable, "-c", STALLED, str(cache)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        names = entries(cache)
        assert len(names) == 2 and names[0].startswith(".plastics-")
        assert names[0].endswith(".lock") and names[1].startswith(".staging-plastics-")
        found = [i for i in scan(layout) if i.kind == "pressed profiles"]
        assert sorted((i.path.name, i.state) for i in found) == [
            (names[0], "in use"), (names[1], "in use")]
        assert sweep(found) == []
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(30)
    found = [i for i in scan(layout) if i.kind == "pressed profiles"]
    assert {i.state for i in found} == {"abandoned"} and len(found) == 2
    assert all("a run that stopped" in i.why for i in found)
    # a reader meanwhile presses its own copy, never the half-written one
    base = pressed.ensure(builtin_pack("plastics"), cache)
    assert len(pressed.read_profiles(base)) == len(read_hmms(builtin_pack("plastics").path))
    assert len(sweep([i for i in scan(layout) if i.kind == "pressed profiles"])) == 1
    assert entries(cache) == [base.parent.name]
    assert [i for i in scan(layout) if i.kind == "pressed profiles"] == []


def test_an_install_kept_as_text_is_pressed_at_install(tmp_path: Path) -> None:
    from lanhai.profiles import install as installer

    root = tmp_path / "profiles"
    sha = hashlib.sha256(THREE.read_bytes()).hexdigest()
    pack = installer.install(root, "dbcan", url=THREE.as_uri(), sha256=sha, press=False)
    assert pack.path.name == "dbcan.hmm" and pressed.pressed_base(pack.path) is None
    [name] = entries(root / pressed.PRESSED)
    assert name.startswith(f"dbcan-{hashlib.sha256(pack.path.read_bytes()).hexdigest()[:16]}")
    assert hmm.load_pack(pack).pressed == root / pressed.PRESSED / name / pressed.BASE


def test_a_pack_rebuilt_while_being_pressed_is_not_cached_under_its_old_content(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pyhmmer

    path = tmp_path / "three.hmm"
    path.write_bytes(THREE.read_bytes())
    pack = Pack(name="three", version="1", category="families", path=path, cutoff="gathering")
    digest = pressed.content_digest(path)
    real = pyhmmer.hmmer.hmmpress

    def rebuilt_meanwhile(hmms: Any, output: Any) -> int:
        count: int = real(hmms, output)
        changed = read_hmms(THREE)[:2]
        write_hmms(changed, tmp_path / "new.hmm")
        (tmp_path / "new.hmm").replace(path)  # as builders do: a new file renamed in place
        return count

    monkeypatch.setattr(pyhmmer.hmmer, "hmmpress", rebuilt_meanwhile)
    cache = tmp_path / "cache"
    with pytest.raises(OSError, match="changed while being pressed"):
        pressed.ensure(pack, cache)
    assert entries(cache) == []  # nothing under the old content's name, nothing half done
    assert pressed.content_digest(path) != digest
    monkeypatch.setattr(pyhmmer.hmmer, "hmmpress", real)
    loaded = hmm.load_pack(pack, cache=cache)  # the new file, pressed under its own name
    assert loaded.count == 2 and loaded.pressed is not None
    assert loaded.pressed.parent.name == pressed.entry_name(pack, pressed.content_digest(path))
