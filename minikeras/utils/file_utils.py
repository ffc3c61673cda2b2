"""``keras.utils.get_file``: download a file once, keep it in the cache, check it, unpack it.

``get_file(origin=url)`` puts the file in ``~/.keras/datasets/`` (or ``$KERAS_HOME/datasets/``)
and returns its path. The next call finds it there and downloads nothing, unless a ``file_hash``
is given and the cached file no longer matches it, or ``force_download=True``.

Three guards that Keras's own ``get_file`` does not all have:

- the download goes to a temporary file beside the target, is checked against ``file_hash``, and
  only then renamed into place (``os.replace``), so an interrupted or corrupted download never
  leaves a file in the cache that a later call would trust;
- archives are extracted member by member, skipping (with a warning, as Keras does) any member
  whose path or link target would land outside the extraction directory, and any device or pipe;
- the slow-to-import modules (``urllib``, ``tarfile``, ``zipfile``, ``hashlib``) are imported
  inside the functions that need them, so ``import minikeras`` stays fast.
"""

import os
import warnings

_HASH_CHUNK = 65535


def keras_home():
    """The cache root: ``$KERAS_HOME`` if set, else ``~/.keras`` (``/tmp/.keras`` if the home
    directory is not writable), as in Keras. Read on every call, so tests can set ``KERAS_HOME``."""
    if "KERAS_HOME" in os.environ:
        return os.environ["KERAS_HOME"]
    base = os.path.expanduser("~")
    if not os.access(base, os.W_OK):
        base = "/tmp"
    return os.path.join(base, ".keras")


def get_file(fname=None, origin=None, untar=False, md5_hash=None, file_hash=None,
             cache_subdir="datasets", hash_algorithm="auto", extract=False,
             archive_format="auto", cache_dir=None, force_download=False):
    """Download ``origin`` into the cache unless it is already there; return the local path.

    Args (as in Keras):
        fname: the file's name in the cache (default: the last part of the URL). With
            ``extract=True``, a name without an extension names the extraction directory.
        origin: the URL (``https://...``, or ``file:///...`` for a local file).
        untar, md5_hash: deprecated spellings of ``extract=True`` and ``file_hash``.
        file_hash: the expected sha256 or md5 hex digest of the file.
        cache_subdir: the folder under the cache root (an absolute path is used as is).
        hash_algorithm: ``"sha256"``, ``"md5"`` or ``"auto"`` (64 hex digits mean sha256).
        extract: unpack a tar or zip archive and return the extraction directory.
        archive_format: ``"auto"`` (tar, then zip), ``"tar"``, ``"zip"``, or a list of these.
        cache_dir: the cache root (default ``$KERAS_HOME`` or ``~/.keras``).
        force_download: download even if the file is cached.
    """
    if origin is None:
        raise ValueError('Please specify the "origin" argument (URL of the file to download).')
    if cache_dir is None:
        cache_dir = keras_home()
    if md5_hash is not None and file_hash is None:
        file_hash = md5_hash
        hash_algorithm = "md5"

    datadir_base = os.path.expanduser(os.fspath(cache_dir))
    try:  # Keras creates ~/.keras when it is imported; minikeras creates it on first use
        os.makedirs(datadir_base, exist_ok=True)
    except OSError:
        pass
    if not os.access(datadir_base, os.W_OK):
        import tempfile

        datadir_base = os.path.join("/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir(),
                                    ".keras")
    datadir = os.path.join(datadir_base, cache_subdir)
    os.makedirs(datadir, exist_ok=True)

    provided_fname = fname
    fname = os.fspath(fname) if fname is not None else None
    if not fname:
        from urllib.parse import urlsplit

        fname = os.path.basename(urlsplit(origin).path)
        if not fname:
            raise ValueError(f"Can't parse the file name from the origin provided: '{origin}'."
                             "Please specify the `fname` argument.")
    elif os.sep in fname:
        raise ValueError("Paths are no longer accepted as the `fname` argument. To specify the "
                         f"file's parent directory, use the `cache_dir` argument. "
                         f"Received: fname={fname}")

    # Where the download goes, and (for archives) where it is unpacked: Keras 3.15's names.
    if extract or untar:
        if provided_fname and "." in fname:      # fname="data.tar.gz": extract to data_extracted/
            download_target = os.path.join(datadir, fname)
            fname = fname[: fname.find(".")]
            extraction_dir = os.path.join(datadir, f"{fname}_extracted")
        else:                                    # fname="data" or from the URL: extract to data/
            extraction_dir = os.path.join(datadir, fname)
            download_target = os.path.join(datadir, f"{fname}_archive")
    else:
        download_target = os.path.join(datadir, fname)

    if force_download or not os.path.exists(download_target):
        download = True
    elif file_hash is not None and not validate_file(download_target, file_hash, hash_algorithm):
        print("A local file was found, but it seems to be incomplete or outdated because the "
              f"{hash_algorithm} file hash does not match the original value of {file_hash} so "
              "we will re-download the data.")
        download = True
    else:
        download = False

    if download:
        print(f"Downloading data from {origin}")
        _download(origin, download_target, file_hash, hash_algorithm)

    if extract or untar:
        if untar:
            archive_format = "tar"
        if not extract_archive(download_target, extraction_dir, archive_format):
            warnings.warn("Could not extract archive.", stacklevel=2)
        return extraction_dir
    return download_target


def _download(origin, target, file_hash, hash_algorithm):
    """Fetch ``origin`` into a temporary file beside ``target``, check its hash, then rename it
    over ``target``. On any failure the temporary file is deleted and ``target`` is untouched."""
    import tempfile
    import urllib.error
    import urllib.request

    from minikeras.utils.progbar import Progbar

    progbar, finished = None, False

    def report(block_num, block_size, total_size):  # urlretrieve's progress hook, as Keras's
        nonlocal progbar, finished
        total = None if total_size == -1 else total_size
        if progbar is None:
            progbar = Progbar(total)
        current = block_num * block_size
        if total is None or current < total:
            progbar.update(current)
        elif not finished:
            progbar.update(total)
            finished = True

    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target),
                               prefix=f".{os.path.basename(target)}.", suffix=".part")
    os.close(fd)
    try:
        error_msg = "URL fetch failure on {}: {} -- {}"
        try:
            urllib.request.urlretrieve(origin, tmp, report)
        except urllib.error.HTTPError as e:
            raise Exception(error_msg.format(origin, e.code, e.msg)) from e
        except urllib.error.URLError as e:  # also ContentTooShortError: a cut-off download
            raise Exception(error_msg.format(origin, e.errno, e.reason)) from e
        if file_hash is not None and not validate_file(tmp, file_hash, hash_algorithm):
            raise ValueError(f"Incomplete or corrupted file detected. The {hash_algorithm} file "
                             f"hash does not match the provided value of {file_hash}.")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, target)
    except BaseException:  # includes KeyboardInterrupt: never leave a partial file behind
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


# --- hashes ------------------------------------------------------------------------------------
def resolve_hasher(algorithm, file_hash=None):
    """A hashlib object: sha256 if asked for, or if ``"auto"`` and the hash has 64 hex digits;
    md5 otherwise (the legacy default)."""
    import hashlib

    if algorithm == "sha256":
        return hashlib.sha256()
    if algorithm == "auto" and file_hash is not None and len(file_hash) == 64:
        return hashlib.sha256()
    return hashlib.md5()


def hash_file(fpath, algorithm="sha256", chunk_size=_HASH_CHUNK):
    """The hex digest of the file at ``fpath`` (``algorithm``: a name or a hashlib object)."""
    hasher = resolve_hasher(algorithm) if isinstance(algorithm, str) else algorithm
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def validate_file(fpath, file_hash, algorithm="auto", chunk_size=_HASH_CHUNK):
    """Whether the file at ``fpath`` has the hex digest ``file_hash`` (sha256 or md5)."""
    hasher = resolve_hasher(algorithm, file_hash)
    return str(hash_file(fpath, hasher, chunk_size)) == str(file_hash)


# --- archives ----------------------------------------------------------------------------------
def extract_archive(file_path, path=".", archive_format="auto"):
    """Unpack a tar (``.tar``, ``.tar.gz``, ``.tar.bz2``) or zip archive into ``path``.

    Returns True if ``file_path`` was an archive of one of the ``archive_format`` kinds
    (``"auto"`` = ``["tar", "zip"]``; ``None`` = none), False otherwise. Members that would land
    outside ``path`` are skipped with a warning. If extraction fails, ``path`` is removed.
    """
    import tarfile
    import zipfile

    if archive_format is None:
        return False
    if archive_format == "auto":
        archive_format = ["tar", "zip"]
    if isinstance(archive_format, str):
        archive_format = [archive_format]
    file_path, path = os.fspath(file_path), os.fspath(path)

    for archive_type in archive_format:
        if archive_type == "tar":
            open_fn, is_match_fn = tarfile.open, tarfile.is_tarfile
        elif archive_type == "zip":
            open_fn, is_match_fn = zipfile.ZipFile, zipfile.is_zipfile
        else:
            raise NotImplementedError(archive_type)
        if is_match_fn(file_path):
            with open_fn(file_path) as archive:
                try:
                    _extract_safely(archive, path)
                except (tarfile.TarError, RuntimeError, KeyboardInterrupt):
                    if os.path.isfile(path):
                        os.remove(path)
                    elif os.path.exists(path):
                        import shutil

                        shutil.rmtree(path)
                    raise
            return True
    return False


def _extract_safely(archive, path):
    """Extract the members of an open ``TarFile`` or ``ZipFile`` that stay inside ``path``."""
    import tarfile

    os.makedirs(path, exist_ok=True)
    base = os.path.realpath(path)
    if not isinstance(archive, tarfile.TarFile):  # zip: no links, only names to check
        archive.extractall(path, members=[m for m in archive.infolist()
                                          if _inside(base, m.filename, m.filename)])
        return
    # A generator, so each member is checked after the previous ones (maybe a symlink to a
    # directory) are on disk: realpath then sees through them.
    members = (m for m in archive if _safe_tar_member(base, m))
    if hasattr(tarfile, "data_filter"):  # Python >= 3.10.12 / 3.11.4: the stdlib's own guard too
        archive.extractall(path, members=members, filter="data")
    else:  # pragma: no cover - old Pythons
        archive.extractall(path, members=members)


def _safe_tar_member(base, member):
    if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
        return _skip(member.name)  # devices, pipes: nothing a dataset needs
    if not _inside(base, member.name, member.name):
        return False
    if member.islnk():  # a hard link's target is relative to the archive root
        return _inside(base, member.linkname, member.name)
    if member.issym():  # a symlink's target is relative to the link's own directory
        target = os.path.join(os.path.dirname(member.name), member.linkname)
        return _inside(base, target, member.name)  # an absolute linkname replaces base here
    return True


def _inside(base, relative_path, member_name):
    """Whether ``base/relative_path``, with symlinks resolved, stays inside ``base``; if not,
    warn (naming ``member_name``) and return False."""
    resolved = os.path.realpath(os.path.join(base, relative_path))
    try:
        if os.path.commonpath([resolved, base]) == base:
            return True
    except ValueError:  # different drives on Windows
        pass
    return _skip(member_name)


def _skip(member_name):
    warnings.warn(f"Skipping invalid path during archive extraction: '{member_name}'.",
                  stacklevel=3)
    return False
