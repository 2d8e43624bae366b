"""Where backups are kept. A backup is a set of named files (the database, files/…, thumbs/…) and its manifest,
written last: a backup without its manifest is unfinished and never listed, restored or counted for retention.

`DirectoryTarget` keeps each backup as a folder. A bucket (S3-compatible) is another `BackupTarget`: each backup
a key prefix, the manifest its last object, a file already in the previous backup a server-side copy; it is
chosen by `target_for`, the one place that reads the configured location.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
PARTIAL = ".partial"
# An unfinished backup this old belongs to a process that died: a running one would have finished.
ABANDONED_SECONDS = 24 * 3600
CHUNK = 1 << 20


@dataclass(frozen=True)
class FileEntry:
    path: str  # inside the backup, "files/ab/abcd…"
    sha256: str
    size: int

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "size": self.size}


def copy_hashing(source: Path, target: Path) -> FileEntry:
    """Copy a file and hash what was copied, in one read; the copy appears whole or not at all."""
    digest = hashlib.sha256()
    size = 0
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    with open(source, "rb") as src, open(tmp, "wb") as out:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    os.replace(tmp, target)
    return FileEntry(target.name, digest.hexdigest(), size)


def hash_file(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as src:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


class BackupWriter(ABC):
    """One backup being written. Its methods block (file I/O): callers run them in a thread."""

    @abstractmethod
    def scratch(self, name: str) -> Path:
        """A local path where a tool (pg_dump, SQLite's backup) writes the backup's file `name`; `keep(name)`
        once it is written."""

    @abstractmethod
    def keep(self, name: str) -> FileEntry:
        """The file written at `scratch(name)` is part of the backup."""

    @abstractmethod
    def add_file(self, name: str, source: Path) -> FileEntry:
        """Copy a stored file in. Stored files never change under their name (content-addressed), so one the
        previous backup holds is shared with it rather than copied again."""

    @abstractmethod
    def commit(self, manifest: dict[str, Any]) -> None:
        """Write the manifest: from now on the backup exists."""

    @abstractmethod
    def abort(self) -> None:
        """Remove what was written."""


class BackupReader(ABC):
    @property
    @abstractmethod
    def manifest(self) -> dict[str, Any]: ...

    @abstractmethod
    def local(self, name: str) -> Path:
        """A local path holding the backup's file `name` (a bucket downloads it first)."""


class BackupTarget(ABC):
    @abstractmethod
    def names(self) -> list[str]:
        """The finished backups, oldest first (names sort by time)."""

    @abstractmethod
    def begin(self, name: str) -> BackupWriter: ...

    @abstractmethod
    def open(self, name: str) -> BackupReader: ...

    @abstractmethod
    def remove(self, name: str) -> None: ...

    @abstractmethod
    def describe(self, name: str) -> str:
        """Where the backup is, for people."""


class DirectoryWriter(BackupWriter):
    def __init__(self, final: Path, previous: Path | None) -> None:
        self.final = final
        self.folder = final.with_name(final.name + PARTIAL)
        self.folder.mkdir(parents=True)
        self._previous = previous
        self._previous_files = _file_entries(previous) if previous else {}

    def scratch(self, name: str) -> Path:
        return self.folder / name

    def keep(self, name: str) -> FileEntry:
        sha256, size = hash_file(self.folder / name)
        return FileEntry(name, sha256, size)

    def add_file(self, name: str, source: Path) -> FileEntry:
        target = self.folder / name
        known = self._previous_files.get(name)
        if known is not None and self._previous is not None:
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.link(
                    self._previous / name, target
                )  # a hard link: the nightly backup of an unchanged photo costs no space
                return known
            except OSError:
                pass  # another file system, or the previous backup lost it: copy
        entry = copy_hashing(source, target)
        return FileEntry(name, entry.sha256, entry.size)

    def commit(self, manifest: dict[str, Any]) -> None:
        tmp = self.folder / f"{MANIFEST}.tmp"
        tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, self.folder / MANIFEST)
        os.rename(self.folder, self.final)

    def abort(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


class DirectoryReader(BackupReader):
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._manifest: dict[str, Any] = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))

    @property
    def manifest(self) -> dict[str, Any]:
        return self._manifest

    def local(self, name: str) -> Path:
        return self.folder / name


def _file_entries(folder: Path) -> dict[str, FileEntry]:
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    return {f["path"]: FileEntry(f["path"], f["sha256"], f["size"]) for f in manifest["files"]}


class DirectoryTarget(BackupTarget):
    """Backups as folders in a directory (best another disk, or a mount of another machine's)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / MANIFEST).is_file() and p.suffix != PARTIAL)

    def begin(self, name: str) -> DirectoryWriter:
        self.root.mkdir(parents=True, exist_ok=True)
        self._remove_abandoned()
        names = self.names()
        return DirectoryWriter(self.root / name, self.root / names[-1] if names else None)

    def open(self, name: str) -> DirectoryReader:
        return DirectoryReader(self.root / name)

    def remove(self, name: str) -> None:
        shutil.rmtree(self.root / name)

    def describe(self, name: str) -> str:
        return str(self.root / name)

    def _remove_abandoned(self) -> None:
        for folder in self.root.glob(f"*{PARTIAL}"):
            if time.time() - folder.stat().st_mtime > ABANDONED_SECONDS:
                shutil.rmtree(folder, ignore_errors=True)


def target_for(location: str) -> BackupTarget:
    """The target a configured location names. A bucket ("s3://bucket/prefix") is added here."""
    return DirectoryTarget(location)


def open_backup(where: str, configured: str) -> tuple[BackupTarget, str]:
    """A backup named on the command line: a backup folder's path, or the name of one in the configured target."""
    path = Path(where)
    if (path / MANIFEST).is_file():
        return DirectoryTarget(path.resolve().parent), path.resolve().name
    return target_for(configured), where
