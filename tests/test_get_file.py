"""``keras.utils.get_file``, offline: ``file://`` origins are downloaded by urllib like any URL."""

import hashlib
import io
import os
import tarfile
import urllib.request
import zipfile

import pytest
from dataset_fakes import write_tar

from minikeras.utils import file_utils, get_file


def publish(server, name, data):
    (server / name).write_bytes(data)
    return (server / name).as_uri()


def leftovers(folder):
    """Temporary download files left in ``folder`` (there must be none)."""
    return [p for p in os.listdir(folder) if p.endswith(".part")]


def test_downloads_into_keras_home_then_reuses_the_cache(home, server, capsys):
    url = publish(server, "data.bin", b"hello")
    path = get_file(origin=url)
    assert path == str(home / "datasets" / "data.bin")  # the name comes from the URL
    assert open(path, "rb").read() == b"hello"
    assert f"Downloading data from {url}" in capsys.readouterr().out

    (server / "data.bin").unlink()  # the origin is gone: only the cache can answer now
    assert get_file("data.bin", url) == path
    assert "Downloading" not in capsys.readouterr().out
    assert leftovers(home / "datasets") == []


def test_defaults_to_home_dot_keras(tmp_path, server, monkeypatch):
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    path = get_file(origin=publish(server, "a.txt", b"a"))
    assert path == str(tmp_path / ".keras" / "datasets" / "a.txt")


def test_cache_dir_and_cache_subdir(tmp_path, server):
    url = publish(server, "a.txt", b"a")
    assert get_file("b.txt", url, cache_dir=tmp_path / "c") == str(tmp_path / "c/datasets/b.txt")
    assert get_file("b.txt", url, cache_dir=tmp_path / "c", cache_subdir="mine") == str(
        tmp_path / "c/mine/b.txt")
    absolute = tmp_path / "elsewhere"
    assert get_file("b.txt", url, cache_subdir=str(absolute)) == str(absolute / "b.txt")


def test_falls_back_to_tmp_when_the_cache_dir_is_not_writable(tmp_path, server, monkeypatch):
    import tempfile

    unwritable = str(tmp_path / "readonly")
    real_access, real_isdir = os.access, os.path.isdir
    monkeypatch.setattr(os, "access", lambda p, mode: p != unwritable and real_access(p, mode))
    # Keras's fallback is /tmp/.keras, or <gettempdir()>/.keras if there is no /tmp: use the
    # second so the test writes only in its own folder.
    monkeypatch.setattr(os.path, "isdir", lambda p: p != "/tmp" and real_isdir(p))
    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(tmp_path / "tmp"))
    path = get_file("a.txt", publish(server, "a.txt", b"a"), cache_dir=unwritable)
    assert path == str(tmp_path / "tmp" / ".keras" / "datasets" / "a.txt")


@pytest.mark.parametrize("algorithm", ["sha256", "md5"])
def test_hash_of_the_cached_file_is_checked_and_a_stale_file_is_replaced(home, server, capsys,
                                                                        algorithm):
    url = publish(server, "data.bin", b"fresh")
    good = hashlib.new(algorithm, b"fresh").hexdigest()
    (home / "datasets").mkdir(parents=True)
    (home / "datasets" / "data.bin").write_bytes(b"stale")  # e.g. an older version

    path = get_file("data.bin", url, file_hash=good)  # "auto": 64 hex digits sha256, else md5
    assert open(path, "rb").read() == b"fresh"
    assert "A local file was found, but it seems to be incomplete or outdated" in \
        capsys.readouterr().out

    (server / "data.bin").unlink()  # now the cache matches: no download is attempted
    assert get_file("data.bin", url, file_hash=good, hash_algorithm=algorithm) == path


def test_md5_hash_is_the_deprecated_spelling_of_file_hash(home, server):
    url = publish(server, "d.bin", b"x")
    get_file("d.bin", url, md5_hash=hashlib.md5(b"x").hexdigest())
    with pytest.raises(ValueError, match="The md5 file hash does not match"):
        get_file("d2.bin", url, md5_hash="0" * 32)


def test_hash_mismatch_after_download_raises_and_caches_nothing(home, server):
    url = publish(server, "data.bin", b"tampered")
    wrong = hashlib.sha256(b"original").hexdigest()
    with pytest.raises(ValueError, match="Incomplete or corrupted file detected. The auto file "
                                         f"hash does not match the provided value of {wrong}"):
        get_file("data.bin", url, file_hash=wrong)
    assert os.listdir(home / "datasets") == []  # neither the file nor a temporary one


def test_force_download_replaces_a_cached_file(home, server):
    url = publish(server, "data.bin", b"v1")
    path = get_file("data.bin", url)
    publish(server, "data.bin", b"v2")
    assert open(get_file("data.bin", url), "rb").read() == b"v1"  # cached
    assert open(get_file("data.bin", url, force_download=True), "rb").read() == b"v2"
    assert path == get_file("data.bin", url)


def test_failed_download_names_the_url_and_keeps_the_cached_file(home, server):
    url = publish(server, "data.bin", b"good")
    path = get_file("data.bin", url)
    missing = (server / "missing.bin").as_uri()
    with pytest.raises(Exception, match=f"URL fetch failure on {missing}: None -- "):
        get_file("data.bin", missing, force_download=True)
    assert open(path, "rb").read() == b"good"  # the old file survives a failed re-download
    assert leftovers(home / "datasets") == []
    with pytest.raises(Exception, match="URL fetch failure on"):
        get_file("other.bin", missing)
    assert not os.path.exists(home / "datasets" / "other.bin")


def test_interrupted_download_leaves_no_file(home, server, monkeypatch):
    url = publish(server, "big.bin", b"x" * 1000)

    def interrupted(origin, filename, reporthook=None):
        with open(filename, "wb") as f:
            f.write(b"x" * 10)  # part of the file, then Ctrl-C
        raise KeyboardInterrupt

    monkeypatch.setattr(urllib.request, "urlretrieve", interrupted)
    with pytest.raises(KeyboardInterrupt):
        get_file("big.bin", url)
    assert os.listdir(home / "datasets") == []


def test_argument_errors(home, server):
    with pytest.raises(ValueError, match='Please specify the "origin" argument'):
        get_file("a.txt")
    with pytest.raises(ValueError, match="Paths are no longer accepted as the `fname` argument"):
        get_file("sub/a.txt", publish(server, "a.txt", b"a"))
    with pytest.raises(ValueError, match="Can't parse the file name from the origin provided"):
        get_file(origin="https://example.com/")


# --- extraction --------------------------------------------------------------------------------
def make_tar(path, mode="w:gz"):
    write_tar(path, {"top/a.txt": b"A", "top/sub/b.txt": b"B"}, mode=mode)


def make_zip(path):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("top/a.txt", b"A")
        z.writestr("top/sub/b.txt", b"B")


@pytest.mark.parametrize("fname, extraction_dir, archive_name", [
    (None, "pack.tar.gz", "pack.tar.gz_archive"),      # name from the URL
    ("pack", "pack", "pack_archive"),                   # a name without "." names the folder
    ("pack.tar.gz", "pack_extracted", "pack.tar.gz"),   # a name with "." is the archive's
])
def test_extract_tar_returns_keras_3_15_paths(home, server, fname, extraction_dir, archive_name):
    make_tar(server / "pack.tar.gz")
    path = get_file(fname, (server / "pack.tar.gz").as_uri(), extract=True)
    datadir = home / "datasets"
    assert path == str(datadir / extraction_dir)
    assert (datadir / archive_name).is_file()
    assert (datadir / extraction_dir / "top" / "sub" / "b.txt").read_bytes() == b"B"


def test_extract_zip_and_untar(home, server):
    make_zip(server / "z.zip")
    path = get_file("z", (server / "z.zip").as_uri(), extract=True)
    assert open(os.path.join(path, "top", "a.txt"), "rb").read() == b"A"
    make_tar(server / "t.tar", mode="w")
    path = get_file("t", (server / "t.tar").as_uri(), untar=True)
    assert open(os.path.join(path, "top", "sub", "b.txt"), "rb").read() == b"B"


def test_extract_of_a_non_archive_warns(home, server):
    url = publish(server, "plain.txt", b"not an archive")
    with pytest.warns(UserWarning, match="Could not extract archive"):
        get_file("plain", url, extract=True)
    with pytest.warns(UserWarning, match="Could not extract archive"):
        make_zip(server / "z.zip")
        get_file("z", (server / "z.zip").as_uri(), extract=True, archive_format="tar")


def add_member(tar, name, data=b"", kind=tarfile.REGTYPE, linkname=""):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def test_tar_members_escaping_the_target_are_skipped(home, server, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    with tarfile.open(server / "evil.tar", "w") as tar:
        add_member(tar, "good.txt", b"ok")
        add_member(tar, "../evil_parent.txt", b"x")
        add_member(tar, str(outside / "evil_absolute.txt"), b"x")
        add_member(tar, "link_out", kind=tarfile.SYMTYPE, linkname=str(outside))
        add_member(tar, "link_out/evil_through_link.txt", b"x")
        add_member(tar, "rel_link_out", kind=tarfile.SYMTYPE, linkname="../../outside")
        add_member(tar, "hard_out", kind=tarfile.LNKTYPE, linkname="../../outside/secret")
        add_member(tar, "fifo", kind=tarfile.FIFOTYPE)
        add_member(tar, "inner_link", kind=tarfile.SYMTYPE, linkname="good.txt")  # allowed
    with pytest.warns(UserWarning, match="Skipping invalid path during archive extraction") as w:
        path = get_file("evil", (server / "evil.tar").as_uri(), extract=True)
    skipped = {str(m.message).split("'")[1] for m in w}
    assert skipped == {"../evil_parent.txt", str(outside / "evil_absolute.txt"), "link_out",
                       "rel_link_out", "hard_out", "fifo"}
    # The link was refused, so the file meant to go through it lands in a plain folder inside.
    assert sorted(os.listdir(path)) == ["good.txt", "inner_link", "link_out"]
    assert not os.path.islink(os.path.join(path, "link_out"))
    assert open(os.path.join(path, "inner_link"), "rb").read() == b"ok"
    assert os.listdir(outside) == []
    assert not (home / "datasets" / "evil_parent.txt").exists()


def test_zip_members_escaping_the_target_are_skipped(home, server):
    with zipfile.ZipFile(server / "evil.zip", "w") as z:
        z.writestr("good.txt", b"ok")
        z.writestr("../../evil.txt", b"x")
    with pytest.warns(UserWarning, match="Skipping invalid path during archive extraction: "
                                         "'../../evil.txt'"):
        path = get_file("evil", (server / "evil.zip").as_uri(), extract=True)
    assert os.listdir(path) == ["good.txt"]
    assert not (home / "evil.txt").exists() and not (home / "datasets" / "evil.txt").exists()


def test_hash_helpers(tmp_path):
    (tmp_path / "f").write_bytes(b"minikeras")
    sha, md5 = hashlib.sha256(b"minikeras").hexdigest(), hashlib.md5(b"minikeras").hexdigest()
    assert file_utils.hash_file(tmp_path / "f") == sha
    assert file_utils.hash_file(tmp_path / "f", "md5") == md5
    assert file_utils.validate_file(tmp_path / "f", sha)  # "auto": 64 hex digits are sha256
    assert file_utils.validate_file(tmp_path / "f", md5)  # ... and 32 are md5
    assert not file_utils.validate_file(tmp_path / "f", md5, algorithm="sha256")


def test_import_minikeras_does_not_load_the_download_modules():
    """``get_file`` and the datasets import urllib, tarfile, zipfile and gzip only when called."""
    import subprocess
    import sys

    code = ("import sys, minikeras; print(sorted(m for m in ('urllib.request', 'tarfile', "
            "'zipfile', 'gzip') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert out.strip() == "[]"
