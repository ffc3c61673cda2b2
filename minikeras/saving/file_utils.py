"""Careful file handling shared by every format: atomic writes and guarded reads.

Writing goes to a temporary file beside the target, renamed over it (``os.replace``) only once
everything is written: a crash midway leaves the previous file intact and no temporary behind.
Reading refuses what could reach outside the file (HDF5 links to other files, external or
virtual datasets; zip entries with absolute or ``..`` paths) and what would blow up in memory
(a tiny entry declaring gigabytes).
"""

import contextlib
import os
import tempfile

import h5py

_BOMB_FLOOR_BYTES = 1 << 32  # 4 GiB: smaller arrays are never suspicious
_MAX_EXPANSION = 1000  # a larger declared/stored ratio above the floor is a bomb


@contextlib.contextmanager
def atomic_write(filepath):
    """``with atomic_write(path) as tmp:`` write ``tmp``; it replaces ``path`` on success."""
    filepath = os.fspath(filepath)
    directory = os.path.dirname(os.path.abspath(filepath))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(filepath)}.",
                               suffix=".tmp")
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, filepath)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def ask_to_proceed_with_overwrite(filepath):
    """Keras's prompt for ``overwrite=False``: True to overwrite ``filepath``."""
    answer = input(f"[WARNING] {filepath} already exists - overwrite? [y/n]").strip().lower()
    while answer not in ("y", "n"):
        answer = input('Enter "y" (overwrite) or "n" (cancel).').strip().lower()
    if answer == "n":
        return False
    print("[TIP] Next time specify overwrite=True!")
    return True


def open_h5(source, filepath):
    """Open an HDF5 file (a path or an in-memory file) for reading, naming ``filepath`` when it
    is not one."""
    try:
        return h5py.File(source, "r")
    except OSError as error:
        raise ValueError(f"Could not read '{filepath}': it is not an HDF5 file, or it is "
                         f"truncated or corrupt ({error}).") from None


def h5_child(group, name, filepath, kind=h5py.Group):
    """``group[name]`` if it is a plain ``kind`` (Group or Dataset) stored in this file."""
    link = group.get(name, getclass=True, getlink=True)
    if link is None:
        raise ValueError(f"Invalid file '{filepath}': '{group.name}' has no '{name}'.")
    if link in (h5py.ExternalLink, h5py.SoftLink):
        raise ValueError(f"Not allowed: '{filepath}' links '{group.name}/{name}' elsewhere "
                         f"({link.__name__}).")
    try:
        child = group[name]
    except (KeyError, OSError) as error:
        raise ValueError(f"Could not read '{group.name}/{name}' in '{filepath}': the file is "
                         f"truncated or corrupt ({error}).") from None
    if not isinstance(child, kind):
        raise ValueError(f"Invalid file '{filepath}': expected '{child.name}' to be a "
                         f"{kind.__name__}, found {type(child).__name__}.")
    return child


def read_dataset(group, name, filepath):
    """The array stored at ``group[name]`` (``name`` may be a path such as ``dense/kernel:0``),
    after checking it is safe to read."""
    *parents, name = name.split("/")
    for parent in parents:
        group = h5_child(group, parent, filepath)
    dataset = h5_child(group, name, filepath, h5py.Dataset)
    if dataset.external or dataset.is_virtual:
        raise ValueError(f"Not allowed: '{filepath}' stores '{dataset.name}' outside the file.")
    declared = dataset.size * dataset.dtype.itemsize
    stored = dataset.id.get_storage_size()
    if declared > _BOMB_FLOOR_BYTES and declared > _MAX_EXPANSION * stored:
        raise ValueError(f"Not allowed: '{dataset.name}' in '{filepath}' declares {declared} "
                         f"bytes but stores only {stored}.")
    try:
        return dataset[()]
    except (OSError, ValueError) as error:
        raise ValueError(f"Could not read '{dataset.name}' in '{filepath}': the file is "
                         f"truncated or corrupt ({error}).") from None


def check_zip_entries(archive, filepath):
    """Refuse archives with entries that could escape a folder or declare a bomb."""
    for info in archive.infolist():
        name = info.filename.replace("\\", "/")
        if name.startswith("/") or ".." in name.split("/") or ":" in name.split("/")[0]:
            raise ValueError(f"Not allowed: '{filepath}' has an entry with an unsafe path: "
                             f"'{info.filename}'.")
        if info.file_size > _BOMB_FLOOR_BYTES and info.file_size > 100 * info.compress_size:
            raise ValueError(f"Not allowed: entry '{info.filename}' of '{filepath}' declares "
                             f"{info.file_size} bytes but stores only {info.compress_size}.")


def decode_attr(value):
    """An HDF5 string attribute (bytes or str) as str."""
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)
