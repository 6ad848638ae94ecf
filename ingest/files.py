"""Replacing a file so that a crash leaves the old version or the new one, never part of either.

The new content goes to a hidden temporary name beside the target, is flushed to disk, renamed over the
target, and the folder is flushed so the rename survives a power cut too. A write that fails (a full disk)
removes its temporary file and names the file it could not write. Also: the digest of the files a result
was made from, to tell when it must be made again.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path


class WriteFailed(OSError):
    """A file could not be written (e.g. the disk is full); the earlier version, if any, is unchanged."""


def _fsync(path: Path, flags: int = os.O_RDONLY) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def replacing(target: Path) -> Iterator[Path]:
    """Yields the temporary path to write; on leaving, it takes ``target``'s place durably."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        yield tmp
        _fsync(tmp)
        os.replace(tmp, target)
    except OSError as error:
        tmp.unlink(missing_ok=True)
        raise WriteFailed(f"could not write {target}: {error}") from error
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync(target.parent, os.O_RDONLY | os.O_DIRECTORY)


def sharing(source: Path, target: Path) -> None:
    """``target`` made the same file as ``source``, durably: a hard link where the file system allows one
    (nothing copied), else a copy. Only for files that are never written in place, as none that
    ``replacing`` writes are: a later version of either takes a new name, the other keeps the old one."""
    if target.exists() and os.path.samefile(source, target):
        return  # already shared (a rerun); renaming a link over its own file would leave the temporary
    with replacing(target) as tmp:
        tmp.unlink(missing_ok=True)
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)


def sources_digest(sources: Iterable[Path], root: Path, salt: bytes = b"") -> str:
    """A digest of ``salt`` and of every file in ``sources`` (folders walked in order), each with its path
    under ``root``."""
    digest = hashlib.sha256(salt)
    for source in sources:
        files = [source] if source.is_file() else sorted(f for f in source.rglob("*") if f.is_file())
        for file in files:
            if "__pycache__" not in file.parts:
                digest.update(str(file.relative_to(root)).encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()
